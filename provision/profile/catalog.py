"""The profile overview behind `provision list`: raw YAML only, so it starts fast."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import ProfileError
from ..project import Project
from .resolve import resolve_raw
from .yamlsrc import SourceDoc


@dataclass(frozen=True)
class ProfileSummary:
    name: str
    description: str = ""
    kind: str = "conda"
    platforms: list[str] = field(default_factory=list)
    abstract: bool = False
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(project: Project) -> list[ProfileSummary]:
    """One summary per profile file; a broken file is listed with its error, not hidden."""
    out = []
    docs: dict[str, SourceDoc] = {}  # shared, so a parent is parsed once for all its children
    for name in project.profile_names():
        try:
            data = resolve_raw(project, name, docs)
            leaf = docs[name].data
            out.append(
                ProfileSummary(
                    name=name,
                    description=str(leaf.get("description", "")).strip(),
                    kind=str(data.get("kind", "conda")),
                    platforms=[str(p) for p in data.get("platforms") or []],
                    abstract=bool(leaf.get("abstract", False)),
                )
            )
        except ProfileError as exc:
            out.append(ProfileSummary(name=name, error=exc.message))
    return out
