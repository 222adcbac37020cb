"""`provision tree`: why a package is in a lock, from the lock's own dependency edges. Pure."""

from __future__ import annotations

from packaging.utils import canonicalize_name

from ..lock.records import LockedPackage
from ..profile.merge import conda_name, pypi_name


def _key(name: str) -> str:
    return str(canonicalize_name(name))


MAX_DEPTH = 200


# (name, layer): conda names are distinct packages where PyPI's are one (conda-forge's cached-property needs its
# cached_property), and one name may be locked in both layers (numpy from conda and from PyPI).
Node = tuple[str, str]


def tree_lines(packages: list[LockedPackage], requested: list[str], invert: str | None = None) -> list[str]:
    """An indented tree: from each requested package down its dependencies, then from every package
    not yet shown (what nothing needs, then members of a cycle nothing outside it needs), so that every
    locked package is in the tree; or (`invert`) from one package up to the requested packages that
    pull it in. A package already shown is marked (*)."""
    by_node = {_node(p.name, _layer(p)): p for p in packages}
    named: dict[str, list[Node]] = {}  # a name asked for (or inverted) is each package that name may mean
    for node in sorted(by_node):
        named.setdefault(_key(node[0]), []).append(node)
    children = {node: _edges(package, by_node, named) for node, package in by_node.items()}
    parents: dict[Node, list[Node]] = {}
    for parent, kids in children.items():
        for kid in kids:
            parents.setdefault(kid, []).append(parent)
    if invert is None:
        roots, edges = [node for r in requested for node in named.get(r, [])], children
    else:
        roots, edges = named.get(_key(invert), []), parents
    lines: list[str] = []
    shown: set[Node] = set()

    def walk(node: Node, depth: int) -> None:
        package = by_node[node]
        if depth > MAX_DEPTH:  # a lock's edges are untrusted: a chain thousands deep is cut, and said
            lines.append(f"{'  ' * depth}... (deeper than {MAX_DEPTH} levels)")
            return
        mark = " (*)" if node in shown and edges.get(node) else ""
        top = " [requested]" if invert is not None and _key(node[0]) in requested else ""
        lines.append(f"{'  ' * depth}{package.name} {package.version} ({node[1]}){top}{mark}")
        if mark:
            return
        shown.add(node)
        for child in edges.get(node, []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    if invert is None:  # what no requested package reaches is still locked: orphans first, then cycles
        for node in sorted(by_node, key=lambda n: (bool(parents.get(n)), n)):
            if node not in shown:
                walk(node, 0)
    return lines


def _node(name: str, layer: str) -> Node:
    return (name.lower() if layer == "conda" else _key(name), layer)


def _edges(package: LockedPackage, by_node: dict[Node, LockedPackage], named: dict[str, list[Node]]) -> list[Node]:
    """A package's locked dependencies: the package of that name in its own layer (conda's solver sees only
    conda packages), else one of the other layer (a PyPI package's dependency met by a conda package)."""
    layer = _layer(package)
    found: set[Node] = set()
    for dependency in package.dependencies:
        own = _node(dependency, layer)
        other = [node for node in named.get(_key(dependency), []) if node[1] != layer]
        found.update([own] if own in by_node else other[:1])
    return sorted(found)


def requested_names(conda: list[str], pypi: list[str]) -> list[str]:
    return [_key(conda_name(s)) for s in conda] + [_key(pypi_name(r)) for r in pypi]


def _layer(package: LockedPackage) -> str:
    return "conda" if package.manager == "conda" else "pypi"


def roots(packages: list[LockedPackage]) -> list[str]:
    """The packages no other locked package depends on: what a lock with no profile was asked for."""
    depended = {_key(d) for p in packages for d in p.dependencies}
    return sorted(_key(p.name) for p in packages if _key(p.name) not in depended)
