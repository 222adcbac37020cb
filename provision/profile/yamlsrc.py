"""Read YAML while remembering where every value came from.

Pydantic reports a location such as ('pypi', 'packages', 2); users need
`profiles/torch-mps.yaml:14:5`. We compose the YAML node tree once and keep a
map from location tuples to (line, column) so any later error can point at the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import LocatedError, ProfileError

Location = tuple[str | int, ...]
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_@\-]+")


@dataclass(frozen=True)
class SourceDoc:
    """A parsed YAML document plus the position of every key and item in it."""

    path: Path
    data: Any
    positions: dict[Location, tuple[int, int]] = field(default_factory=dict)

    def position(self, loc: Location) -> tuple[int, int]:
        """(line, column) of the deepest part of `loc` that exists in the file."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.positions:
                return self.positions[loc[:end]]
        return (1, 1)

    def where(self, loc: Location) -> str:
        """`file:line:col` for the deepest part of `loc` that exists in the file."""
        line, col = self.position(loc)
        return f"{self.path}:{line}:{col}"

    def error(self, loc: Location, problem: str, fix: str, kind: type[LocatedError] = ProfileError) -> LocatedError:
        """The error for a problem at `loc`: the position and the dotted location come from here."""
        line, col = self.position(loc)
        return kind(str(self.path), problem, fix, line, col, dotted(loc) if loc else "")


def dotted(loc: Location) -> str:
    """('pypi', 'packages', 2) -> 'pypi.packages[2]'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _PLAIN_KEY.fullmatch(part):  # a hostile key is shown quoted, never printed raw
            out += f"[{part!r}]"
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


def load_yaml(path: Path, display: Path | None = None) -> SourceDoc:
    """Parse `path`; syntax errors and duplicate keys become one-line ProfileErrors."""
    shown = display or path
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(
            str(shown), f"cannot read the file ({exc.strerror})", "check the path and its permissions."
        ) from exc
    except UnicodeDecodeError as exc:
        raise ProfileError(str(shown), "the file is not UTF-8 text", "save it as UTF-8.") from exc
    # libyaml's parser when present: 5-10x faster, same nodes and marks.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return SourceDoc(shown, None, {})
        positions: dict[Location, tuple[int, int]] = {}
        _walk(node, (), positions, shown)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = exc.problem or exc.context or "invalid YAML"
        raise ProfileError(
            str(shown), f"YAML syntax error: {problem}", "fix the indentation or quoting there.", line, column
        ) from exc
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise ProfileError(
            str(shown), f"the character {chr(exc.character)!r} is not allowed in YAML", "remove it.", line, column
        ) from exc
    except yaml.YAMLError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ProfileError(str(shown), f"YAML syntax error: {reason}", "fix the YAML there.") from exc
    finally:
        loader.dispose()
    return SourceDoc(shown, data, positions)


_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BASE_LOADER):
    """Safe YAML that refuses what no honest profile or lockfile needs: a key written twice (the
    second silently wins elsewhere) and aliases (a 150-byte "billion laughs" expands without end)."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects or node in self.recursive_objects:
            raise yaml.constructor.ConstructorError(
                None, None, "aliases (*name) are not allowed; write the value out", node.start_mark
            )
        return super().construct_object(node, deep)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}; keep one of them", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def strict_yaml(text: str) -> Any:
    """Parse one YAML document with the rules above (raises yaml.YAMLError with a mark)."""
    loader = _StrictLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def strict_yaml_in(text: str, shown: str, fix: str, error: type[LocatedError] = LocatedError) -> Any:
    """`strict_yaml`, with a parse failure as one located line naming `shown` and the `fix`."""
    try:
        return strict_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}" if mark else ""
        raise error(shown, f"invalid YAML ({exc.problem or exc.context})", fix, loc=line) from None
    except yaml.YAMLError as exc:
        raise error(shown, f"invalid YAML ({str(exc).splitlines()[0]})", fix) from None


def _walk(
    node: yaml.Node, loc: Location, out: dict[Location, tuple[int, int]], shown: Path, visited: set[int] | None = None
) -> None:
    visited = set() if visited is None else visited
    if id(node) in visited:
        raise ProfileError(
            str(shown),
            "YAML aliases (*name) are not allowed in profiles",
            "write the value out, or share it with extends:.",
            node.start_mark.line + 1,
            node.start_mark.column + 1,
            dotted(loc),
        )
    visited.add(id(node))
    out[loc] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                raise ProfileError(
                    str(shown),
                    f"duplicate key (first defined on line {seen[key]})",
                    "keep one of them.",
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                    dotted((*loc, key)),
                )
            seen[key] = key_node.start_mark.line + 1
            key_loc = (*loc, key)
            _walk(value_node, key_loc, out, shown, visited)
            if not isinstance(value_node, yaml.ScalarNode):
                # Point at the key of a block (`conda:`), at the value of a scalar (`kind: docker`).
                out[key_loc] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), out, shown, visited)
