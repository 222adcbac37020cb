"""pyproject.toml: `[project]` dependencies, extras and `requires-python`; PEP 735
`[dependency-groups]`; and the tools' own tables: poetry, pdm, uv and conda-lock. Extras and groups
are imported when `--with NAME` names them; each one left out is one note."""

from __future__ import annotations

import re
from typing import Any

from ..profile.merge import pypi_name
from . import pythons
from .conda_env import conda_spec
from .draft import Draft, Shapes
from .requirements import pip_line
from .urls import checked_channel, checked_url

TOOLS = ("poetry", "pdm", "uv", "conda-lock")


def is_pyproject(document: dict[str, Any]) -> bool:
    tool = document.get("tool")
    tool = tool if isinstance(tool, dict) else {}
    return any(k in document for k in ("project", "dependency-groups")) or any(t in tool for t in TOOLS)


def read_pyproject(document: dict[str, Any], shown: str, wanted: frozenset[str]) -> Draft:
    shapes = Shapes(shown)
    draft = Draft(kind="venv")
    tool = shapes.table(document.get("tool"), "tool")
    project = shapes.table(document.get("project"), "project")
    project_tables(draft, project, shapes, wanted)
    _groups(draft, shapes.table(document.get("dependency-groups"), "dependency-groups"), shapes, wanted,
            "dependency-groups")  # fmt: skip
    if "poetry" in tool:
        _poetry(draft, shapes.table(tool["poetry"], "tool.poetry"), shapes, wanted)
    if "pdm" in tool:
        _pdm(draft, shapes.table(tool["pdm"], "tool.pdm"), shapes, wanted)
    if "uv" in tool:
        _uv(draft, shapes.table(tool["uv"], "tool.uv"), shapes, wanted)
    if "conda-lock" in tool:
        _conda_lock(draft, shapes.table(tool["conda-lock"], "tool.conda-lock"), shapes)
    if project.get("name") or shapes.table(tool.get("poetry"), "tool.poetry").get("name"):
        draft.add_editable(".", "project")  # the project itself, as `uv sync` and `poetry install` install it
    return draft


def project_tables(draft: Draft, project: dict[str, Any], shapes: Shapes, wanted: frozenset[str]) -> None:
    requires = shapes.text(project.get("requires-python"), "project.requires-python")
    if requires:
        pythons.from_pep440(draft, requires)
    for number, requirement in enumerate(shapes.strings(project.get("dependencies"), "project.dependencies")):
        pip_line(draft, requirement, None, f"{shapes.shown}: project.dependencies[{number}]", None)
    extras = shapes.table(project.get("optional-dependencies"), "project.optional-dependencies")
    _groups(draft, extras, shapes, wanted, "project.optional-dependencies")
    if "dynamic" in project and "dependencies" in shapes.strings(project.get("dynamic"), "project.dynamic"):
        draft.note("project.dependencies is dynamic (written by the build backend): not read; list them in "
                   "pypi.packages")  # fmt: skip


def _groups(draft: Draft, groups: dict[str, Any], shapes: Shapes, wanted: frozenset[str], at: str) -> None:
    """Extras or dependency groups: those asked for with --with are imported, the others are notes."""
    for name, entries in groups.items():
        items = shapes.items(entries, f"{at}.{name}")
        if name not in wanted:
            listed = ", ".join(str(i) for i in items if isinstance(i, str)) or "no packages"
            draft.note(f"[{at}] {name} ({listed}) not imported: run init again with --with {name}")
            continue
        for number, entry in enumerate(items):
            if isinstance(entry, dict) and "include-group" in entry:
                continue  # PEP 735: the included group is imported when it is asked for itself
            line = shapes.text(entry, f"{at}.{name}[{number}]")
            pip_line(draft, line, None, f"{shapes.shown}: {at}.{name}[{number}]", None)


# poetry's version constraints, in PEP 440 (https://python-poetry.org/docs/dependency-specification/).
def poetry_constraint(value: str) -> str | None:
    """`^1.2.3` -> `>=1.2.3,<2.0.0`, `~1.2` -> `>=1.2,<1.3`, `1.2.3` -> `==1.2.3`, `*` -> ``; None if unread."""
    parts = [p.strip() for p in re.split(r",|\s+(?=[<>=!~^])", value.strip()) if p.strip()]
    out: list[str] = []
    for part in parts:
        if part in ("*", ""):
            continue
        if "||" in part or "|" in part:
            return None
        match = re.fullmatch(r"([\^~]=?)?\s*(\d+(?:\.\d+)*)(\.\*)?", part)
        if match and match.group(1) in ("^", "~"):
            numbers = [int(n) for n in match.group(2).split(".")]
            if match.group(1) == "^":
                first = next((i for i, n in enumerate(numbers) if n != 0), len(numbers) - 1)
            else:
                first = min(1, len(numbers) - 1) if len(numbers) > 1 else 0
            upper = numbers[: first + 1]
            upper[-1] += 1
            out.append(f">={match.group(2)},<{'.'.join(map(str, upper))}")
        elif match and match.group(1) is None:
            out.append(f"=={match.group(2)}{match.group(3) or ''}")
        else:
            out.append(part.replace(" ", ""))
    return ",".join(out)


def _poetry(draft: Draft, poetry: dict[str, Any], shapes: Shapes, wanted: frozenset[str]) -> None:
    for index, source in enumerate(shapes.items(poetry.get("source"), "tool.poetry.source")):
        source = shapes.table(source, f"tool.poetry.source[{index}]")
        name = shapes.text(source.get("name"), f"tool.poetry.source[{index}].name")
        url = shapes.text(source.get("url"), f"tool.poetry.source[{index}].url")
        priority = shapes.text(source.get("priority"), f"tool.poetry.source[{index}].priority", "primary")
        if not url:
            continue
        url = checked_url(url, f"{shapes.shown}: tool.poetry.source[{index}]", "an index URL")
        if priority == "explicit":
            draft.indexes[_index_name(name)] = url
        elif priority in ("primary", "default") and not draft.index_url:
            draft.index_url = url
        else:
            draft.extra_index_urls.append(url)
    extras = shapes.table(poetry.get("extras"), "tool.poetry.extras")
    chosen_optional = {p for extra, names in extras.items() if extra in wanted
                       for p in shapes.strings(names, f"tool.poetry.extras.{extra}")}  # fmt: skip
    _poetry_deps(draft, shapes.table(poetry.get("dependencies"), "tool.poetry.dependencies"), shapes,
                 "tool.poetry.dependencies", chosen_optional, extras)  # fmt: skip
    groups = dict(shapes.table(poetry.get("group"), "tool.poetry.group"))
    if "dev-dependencies" in poetry:
        groups["dev"] = {"dependencies": poetry["dev-dependencies"]}
    for group, table in groups.items():
        deps = shapes.table(shapes.table(table, f"tool.poetry.group.{group}").get("dependencies"),
                            f"tool.poetry.group.{group}.dependencies")  # fmt: skip
        if group in wanted:
            _poetry_deps(draft, deps, shapes, f"tool.poetry.group.{group}.dependencies", set(), {})
        else:
            draft.note(f"[tool.poetry.group.{group}] ({', '.join(deps) or 'no packages'}) not imported: "
                       f"run init again with --with {group}")  # fmt: skip


def _poetry_deps(draft: Draft, deps: dict[str, Any], shapes: Shapes, at: str, chosen: set[str],
                 extras: dict[str, Any]) -> None:  # fmt: skip
    for name, spec in deps.items():
        where = f"{at}.{name}"
        if isinstance(spec, list):  # several constraints, each with its markers: the first is kept
            if not spec:
                raise shapes.fail(where, "a version or a non-empty list of constraints", spec)
            draft.note(f"{where}: {len(spec)} alternative constraints; the first was kept")
            spec = spec[0]
        table = shapes.table(spec, where) if isinstance(spec, dict) else {"version": shapes.text(spec, where)}
        version = shapes.text(table.get("version"), f"{where}.version", "*")
        if name.lower() == "python":
            converted = poetry_constraint(version)
            if converted is not None:
                pythons.from_pep440(draft, converted)
            continue
        if table.get("optional") and name not in chosen:
            owners = [extra for extra, names in extras.items() if isinstance(names, list) and name in names]
            draft.note(f"{where}: optional, not imported: run init again with --with "
                       f"{owners[0] if owners else 'EXTRA'}")  # fmt: skip
            continue
        if any(k in table for k in ("git", "path", "url")):
            if table.get("develop") and "path" in table:
                draft.add_editable(shapes.text(table["path"], f"{where}.path"), where)
            else:
                draft.note(f"{where} left out: a git, path or URL source is not locked from a profile; pin a "
                           "release, or list a local clone in pypi.editable")  # fmt: skip
            continue
        converted = poetry_constraint(version)
        if converted is None:
            draft.note(f"{where}: constraint {version!r} ('or') left out; write one range in pypi.packages")
            converted = ""
        extra_names = shapes.strings(table.get("extras"), f"{where}.extras")
        line = name + (f"[{','.join(extra_names)}]" if extra_names else "") + converted
        markers = shapes.text(table.get("markers"), f"{where}.markers")
        if markers:
            line += f"; {markers}"
        pip_line(draft, line, None, f"{shapes.shown}: {where}", None)
        if "source" in table:
            source = _index_name(shapes.text(table["source"], f"{where}.source"))
            if source in draft.indexes:
                draft.sources[name] = source
            elif source != "pypi":
                draft.note(f"{where}.source {source!r}: not an explicit source; the package resolves from every index")


def _index_name(name: str) -> str:
    return re.sub(r"[^a-z0-9_.\-]", "-", name.lower()).strip("-") or "index"


def _pdm(draft: Draft, pdm: dict[str, Any], shapes: Shapes, wanted: frozenset[str]) -> None:
    for index, source in enumerate(shapes.items(pdm.get("source"), "tool.pdm.source")):
        source = shapes.table(source, f"tool.pdm.source[{index}]")
        url = checked_url(shapes.text(source.get("url"), f"tool.pdm.source[{index}].url"),
                          f"{shapes.shown}: tool.pdm.source[{index}]", "an index URL")  # fmt: skip
        if source.get("type") == "find_links":
            draft.find_links.append(url)
        elif shapes.text(source.get("name"), "name") == "pypi" and not draft.index_url:
            draft.index_url = url
        else:
            draft.extra_index_urls.append(url)
    groups = shapes.table(pdm.get("dev-dependencies"), "tool.pdm.dev-dependencies")
    _groups(draft, groups, shapes, wanted, "tool.pdm.dev-dependencies")


def _uv(draft: Draft, uv: dict[str, Any], shapes: Shapes, wanted: frozenset[str]) -> None:
    for index, entry in enumerate(shapes.items(uv.get("index"), "tool.uv.index")):
        entry = shapes.table(entry, f"tool.uv.index[{index}]")
        name = _index_name(shapes.text(entry.get("name"), f"tool.uv.index[{index}].name", f"index{index}"))
        url = checked_url(shapes.text(entry.get("url"), f"tool.uv.index[{index}].url"),
                          f"{shapes.shown}: tool.uv.index[{index}]", "an index URL")  # fmt: skip
        if entry.get("explicit"):
            draft.indexes[name] = url
        elif entry.get("default"):
            draft.index_url = url
        else:
            draft.extra_index_urls.append(url)
    for name, source in shapes.table(uv.get("sources"), "tool.uv.sources").items():
        where = f"tool.uv.sources.{name}"
        choices = source if isinstance(source, list) else [source]
        tables = [shapes.table(c, where) for c in choices]
        indexes = {_index_name(str(t["index"])) for t in tables if "index" in t}
        if len(tables) == 1 and len(indexes) == 1 and next(iter(indexes)) in draft.indexes:
            if any(pypi_name(p) == pypi_name(name) for p in draft.pypi):
                draft.sources[name] = next(iter(indexes))  # else: in a group or extra not imported (a note)
        elif tables and all(t.get("workspace") for t in tables):
            continue  # a workspace member: installed with the project itself
        elif len(tables) == 1 and "path" in tables[0] and tables[0].get("editable"):
            draft.add_editable(shapes.text(tables[0]["path"], f"{where}.path"), where)
        else:
            draft.note(f"{where}: {len(tables)} source(s) by marker, group, git or path left out; the package "
                       "resolves from the profile's indexes (pypi.sources names one index per package)")  # fmt: skip
    dev = shapes.strings(uv.get("dev-dependencies"), "tool.uv.dev-dependencies")
    if dev:
        _groups(draft, {"dev": dev}, shapes, wanted, "tool.uv.dev-dependencies")
    for key in ("constraint-dependencies", "override-dependencies", "conflicts"):
        if key in uv:
            draft.note(f"tool.uv.{key} left out: the lock pins every dependency; a profile has no {key}")


def _conda_lock(draft: Draft, table: dict[str, Any], shapes: Shapes) -> None:
    """conda-lock's own tables: channels, platforms and conda-only dependencies."""
    from .conda_env import _platforms

    draft.kind = "conda"
    for channel in shapes.strings(table.get("channels"), "tool.conda-lock.channels"):
        if channel != "nodefaults" and channel not in draft.channels:
            draft.channels.append(checked_channel(channel, f"{shapes.shown}: tool.conda-lock.channels"))
    _platforms(draft, shapes.strings(table.get("platforms"), "tool.conda-lock.platforms"))
    for name, spec in shapes.table(table.get("dependencies"), "tool.conda-lock.dependencies").items():
        where = f"tool.conda-lock.dependencies.{name}"
        if isinstance(spec, dict):
            if spec.get("source") == "pypi":
                continue  # conda-lock's way to keep a [project] dependency on PyPI: it already is
            version = shapes.text(spec.get("version"), f"{where}.version", "")
        else:
            version = shapes.text(spec, where)
        # A [project] dependency named here too comes from conda: Draft keeps one layer per package.
        conda_spec(draft, f"{name} {version}".strip() if version not in ("*", "") else name, None)
    if draft.pypi:
        draft.note("conda-lock takes [project] dependencies from conda (by name mapping); the profile keeps "
                   "them on PyPI, where they were declared")  # fmt: skip
