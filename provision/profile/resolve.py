"""Follow `extends:` chains over raw YAML documents (no pydantic: `list` uses this directly)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..project import Project
from .merge import merge_profile
from .yamlsrc import SourceDoc, load_yaml

FileCheck = Callable[[SourceDoc], None]


def read_profile_doc(project: Project, name: str, docs: dict[str, SourceDoc], check: FileCheck | None) -> SourceDoc:
    """Parse profiles/<name>.yaml once per resolution; `check` validates the file on its own."""
    if name not in docs:
        path = project.require_profile(name)
        doc = load_yaml(path, project.relative(path))
        if doc.data is None:
            raise doc.error((), "the file is empty", f"a profile starts with `name: {name}`.")
        if not isinstance(doc.data, dict):
            raise doc.error((), "a profile is a mapping of keys", "write it as name:, platforms:, ... (README).")
        declared = doc.data.get("name")
        if declared != name:
            raise doc.error(("name",), f"is {declared!r} but the file is {name}.yaml", "make them equal.")
        if check is not None:
            check(doc)
        docs[name] = doc
    return docs[name]


def resolve_raw(
    project: Project,
    name: str,
    docs: dict[str, SourceDoc],
    check: FileCheck | None = None,
    chain: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The profile's data with all parents merged in, parents first, in `extends:` order."""
    if name in chain:
        cycle = " -> ".join((*chain[chain.index(name) :], name))
        raise docs[chain[-1]].error(("extends",), f"forms a cycle ({cycle})", "remove one link.")
    doc = read_profile_doc(project, name, docs, check)
    parents = doc.data.get("extends") or []
    parents = [parents] if isinstance(parents, str) else parents
    merged: dict[str, Any] = {}
    for index, parent in enumerate(parents):
        if not isinstance(parent, str) or not project.profile_path(parent).is_file():
            raise doc.error(("extends", index), f"unknown profile {parent!r}",
                            f"available: {', '.join(project.profile_names())}.")  # fmt: skip
        merged = merge_profile(merged, resolve_raw(project, parent, docs, check, (*chain, name)))
    return merge_profile(merged, doc.data)
