"""`provision tree`: why a package is in a lock, from the lock's own dependency edges. Pure."""

from __future__ import annotations

from packaging.utils import canonicalize_name

from ..lock.records import LockedPackage
from ..profile.merge import conda_name, pypi_name


def _key(name: str) -> str:
    return str(canonicalize_name(name))


MAX_DEPTH = 200


def tree_lines(packages: list[LockedPackage], requested: list[str], invert: str | None = None) -> list[str]:
    """An indented tree: from each requested package down its dependencies, or (`invert`) from one
    package up to the requested packages that pull it in. A package already shown is marked (*)."""
    by_name = {_key(p.name): p for p in packages}
    children = {_key(p.name): sorted(_key(d) for d in p.dependencies if _key(d) in by_name) for p in packages}
    if invert is None:
        roots, edges = [r for r in requested if r in by_name], children
    else:
        parents: dict[str, list[str]] = {}
        for parent, kids in children.items():
            for kid in kids:
                parents.setdefault(kid, []).append(parent)
        roots, edges = [_key(invert)] if _key(invert) in by_name else [], parents
    lines: list[str] = []
    shown: set[str] = set()

    def walk(name: str, depth: int) -> None:
        package = by_name[name]
        if depth > MAX_DEPTH:  # a lock's edges are untrusted: a chain thousands deep is cut, and said
            lines.append(f"{'  ' * depth}... (deeper than {MAX_DEPTH} levels)")
            return
        mark = " (*)" if name in shown and edges.get(name) else ""
        top = " [requested]" if invert is not None and name in requested else ""
        lines.append(f"{'  ' * depth}{package.name} {package.version} ({_layer(package)}){top}{mark}")
        if mark:
            return
        shown.add(name)
        for child in edges.get(name, []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return lines


def requested_names(conda: list[str], pypi: list[str]) -> list[str]:
    return [_key(conda_name(s)) for s in conda] + [_key(pypi_name(r)) for r in pypi]


def _layer(package: LockedPackage) -> str:
    return "conda" if package.manager == "conda" else "pypi"


def roots(packages: list[LockedPackage]) -> list[str]:
    """The packages no other locked package depends on: what a lock with no profile was asked for."""
    depended = {_key(d) for p in packages for d in p.dependencies}
    return sorted(_key(p.name) for p in packages if _key(p.name) not in depended)
