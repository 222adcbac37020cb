"""Compare or write a project's generated files (what `render` and `render --check` do)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .files import read_text_or_none, unified_diff, write_atomic
from .project import Project
from .render import RenderedFile


@dataclass(frozen=True)
class Drift:
    """One generated file that differs from its committed copy."""

    path: str
    reason: str  # "missing", "changed" or "orphaned"
    diff: str = ""


def find_drift(project: Project, files: list[RenderedFile], known_profiles: list[str] | None = None) -> list[Drift]:
    """Every rendered file that is missing or different on disk; with `known_profiles`, also
    folders under envs/ whose profile no longer exists."""
    drift = []
    for rendered in files:
        on_disk = read_text_or_none(project.root / rendered.path)
        if on_disk != rendered.content:
            reason = "missing" if on_disk is None else "changed"
            drift.append(Drift(str(rendered.path), reason, unified_diff(on_disk, rendered.content, str(rendered.path))))
    if known_profiles is not None:
        envs = project.root / "envs"
        for folder in sorted(envs.iterdir() if envs.is_dir() else []):
            if folder.is_dir() and folder.name not in known_profiles:
                drift.append(Drift(f"envs/{folder.name}/", "orphaned"))
    return drift


def write_files(project: Project, files: list[RenderedFile]) -> list[Path]:
    """Write the files that changed; return them (unchanged files are left untouched)."""
    written = []
    for rendered in files:
        path = project.root / rendered.path
        if read_text_or_none(path) != rendered.content:
            write_atomic(path, rendered.content)
            written.append(path)
    return written
