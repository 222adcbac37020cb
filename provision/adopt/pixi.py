"""pixi manifests, of any file name: `pixi.toml` (old `[project]` and current `[workspace]`), and a
pyproject.toml's `[tool.pixi.*]` tables. The default feature is imported; another feature is
imported when `--with NAME` names it (or an environment that lists it), and each one left out is
one note. `[system-requirements]` becomes `requires:`; `[pypi-options]` the PyPI indexes."""

from __future__ import annotations

import re
from typing import Any

from .. import grammar
from ..errors import LocatedError
from ..profile.model import PLATFORMS
from .conda_env import conda_spec
from .draft import Draft, Shapes
from .urls import checked_channel, checked_link, checked_url


def is_pixi(document: dict[str, Any]) -> bool:
    tool = document.get("tool")
    if isinstance(tool, dict) and isinstance(tool.get("pixi"), dict):
        return True
    head = document.get("workspace", document.get("project"))
    return isinstance(head, dict) and "channels" in head and "platforms" in head


def read_pixi(document: dict[str, Any], shown: str, wanted: frozenset[str]) -> Draft:
    shapes = Shapes(shown)
    tool = document.get("tool")
    in_pyproject = isinstance(tool, dict) and isinstance(tool.get("pixi"), dict)
    root = shapes.table(tool["pixi"], "tool.pixi") if in_pyproject else document  # type: ignore[index]
    at = "tool.pixi." if in_pyproject else ""
    draft = Draft()
    key = "workspace" if "workspace" in root else "project"
    head = shapes.table(root.get(key), f"{at}{key}")
    for index, channel in enumerate(shapes.items(head.get("channels"), f"{at}{key}.channels")):
        # pixi also writes a channel as a table: { channel = "pytorch", priority = 1 }.
        name = shapes.text(channel.get("channel") if isinstance(channel, dict) else channel,
                           f"{at}{key}.channels[{index}]")  # fmt: skip
        name = checked_channel(name, f"{shapes.shown}: {at}{key}.channels[{index}]")
        if name not in draft.channels:
            draft.channels.append(name)
    for platform in shapes.strings(head.get("platforms"), f"{at}{key}.platforms"):
        if platform in PLATFORMS:
            draft.platforms.append(platform)
        else:
            draft.note(f"platform {platform} left out: provision has {', '.join(PLATFORMS)}")
    if in_pyproject:
        project = shapes.table(document.get("project"), "project")
        from .pyproject import project_tables

        project_tables(draft, project, shapes, frozenset())
    _feature(draft, root, shapes, at, root=True)
    features = shapes.table(root.get("feature"), f"{at}feature")
    chosen = _chosen_features(draft, shapes.table(root.get("environments"), f"{at}environments"), wanted, shapes, at)
    for name, tables in features.items():
        if name in chosen:
            _feature(draft, shapes.table(tables, f"{at}feature.{name}"), shapes, f"{at}feature.{name}.")
        else:
            names = _names(shapes.table(tables, f"{at}feature.{name}"))
            draft.note(f"[{at}feature.{name}] ({', '.join(names) or 'no packages'}) not imported: run init again "
                       f"with --with {name}")  # fmt: skip
    unknown = sorted(wanted - set(features) - set(shapes.table(root.get("environments"), "environments")))
    for name in unknown:
        draft.note(f"--with {name}: no such feature or environment in the manifest")
    if not draft.conda and not draft.targets and draft.pypi:
        draft.as_venv()
    return draft


def _chosen_features(draft: Draft, environments: dict[str, Any], wanted: frozenset[str], shapes: Shapes,
                     at: str) -> set[str]:  # fmt: skip
    """The features asked for by name, or through an environment that lists them."""
    chosen = set(wanted)
    for name, value in environments.items():
        features = value.get("features") if isinstance(value, dict) else value
        listed = shapes.strings(features, f"{at}environments.{name}")
        if name in wanted:
            chosen |= set(listed)
        elif name != "default":
            draft.note(f"environment '{name}' (features {', '.join(listed) or 'none'}) not imported: "
                       f"run init again with --with {name}")  # fmt: skip
    return chosen


def _names(tables: dict[str, Any]) -> list[str]:
    """The package names a feature declares, its platform targets included, for the note that leaves it out."""
    names = [str(n) for key in ("dependencies", "pypi-dependencies") if isinstance(tables.get(key), dict)
             for n in tables[key]]  # fmt: skip
    for inner in (tables.get("target") or {}).values() if isinstance(tables.get("target"), dict) else ():
        names += _names(inner) if isinstance(inner, dict) else []
    return names


READ = {"dependencies", "pypi-dependencies", "system-requirements", "pypi-options", "channels", "target"}
READ_AT_ROOT = {"workspace", "project", "feature", "environments", "tool", "$schema"}  # read by read_pixi, or no tables
UNREAD = {  # why a table of a feature (or of the top level, or a target) is left out; else "provision profiles have no"
    "platforms": "a feature's own platforms are not carried (the profile's platforms hold for all of it)",
    "constraints": "provision profiles have no constraints (bounds on packages that are not dependencies)",
    "package": "provision builds no conda package of the project (a Python project goes in pypi.editable)",
}


def _feature(draft: Draft, tables: dict[str, Any], shapes: Shapes, at: str, platforms: list[str] | None = None,
             root: bool = False) -> None:  # fmt: skip
    """One feature's tables (the top level is the default feature), with its `target.PLATFORM` tables; each
    table not read is one note."""
    _unread(draft, tables, at, root)
    for name, spec in shapes.table(tables.get("dependencies"), f"{at}dependencies").items():
        conda = _conda(draft, name, spec, shapes, f"{at}dependencies.{name}")
        if conda is not None:
            conda_spec(draft, conda, platforms)
    for name, spec in shapes.table(tables.get("pypi-dependencies"), f"{at}pypi-dependencies").items():
        _pypi(draft, name, spec, shapes, f"{at}pypi-dependencies.{name}", platforms)
    _system_requirements(draft, shapes.table(tables.get("system-requirements"), f"{at}system-requirements"), at)
    _pypi_options(draft, shapes.table(tables.get("pypi-options"), f"{at}pypi-options"), shapes, at)
    for channel in shapes.items(tables.get("channels") if at else None, f"{at}channels"):
        named: Any = channel.get("channel") if isinstance(channel, dict) else channel
        if isinstance(named, str):
            named = checked_channel(named, f"{shapes.shown}: {at}channels")
            if named not in draft.channels:
                draft.channels.append(named)
    for platform, inner in shapes.table(tables.get("target"), f"{at}target").items():
        if platform not in PLATFORMS:
            draft.note(f"[{at}target.{platform}] left out: provision has {', '.join(PLATFORMS)}")
            continue
        _feature(draft, shapes.table(inner, f"{at}target.{platform}"), shapes, f"{at}target.{platform}.", [platform])


# pixi's conda dependency table (https://pixi.sh/latest/reference/pixi_manifest/#dependencies): the keys a
# MatchSpec carries in brackets, by their MatchSpec name; `url`, `path` and `git` name a source instead.
BRACKETED = {"build-number": "build_number", "file-name": "fn", "subdir": "subdir", "md5": "md5", "sha256": "sha256"}
SOURCES = {  # what pixi does with such a package, and what a profile can do instead
    "path": ("pixi builds it from the folder {value!r}", "a Python project there goes in pypi.editable"),
    "git": ("pixi builds it from the git repository {value!r}", "publish it to a channel and name it here"),
    "url": ("it is the one archive at {value!r}", "publish it to a channel and name it here"),
}
SOURCE_KEYS = ("branch", "tag", "rev", "subdirectory")  # of a `git` source


def _unread(draft: Draft, tables: dict[str, Any], at: str, root: bool) -> None:
    """A note for each table of a feature (or the top level, or a target) that is not read."""
    for key in sorted(set(tables) - READ - (READ_AT_ROOT if root else set()), key=str):
        value = tables[key]
        listing = ""  # the packages of a constraints or host/build dependencies table, with their versions
        if key in ("constraints", "host-dependencies", "build-dependencies") and isinstance(value, dict):
            listed = ", ".join(f"{n} {v}" if isinstance(v, str) and v != "*" else str(n) for n, v in value.items())
            listing = f" ({grammar.printable(listed)[:120]})"
        draft.note(f"[{at}{key}]{listing} left out: {UNREAD.get(key, f'provision profiles have no {key}')}")


def _conda(draft: Draft, name: str, spec: Any, shapes: Shapes, where: str) -> str | None:
    """pixi writes `numpy = ">=2"` or `pytorch = { version = "2.5.*", build = "*cuda*", channel = "pytorch" }`;
    build-number, file-name, subdir, md5 and sha256 become MatchSpec brackets. A package from a `url`,
    `path` or `git` source is no channel's package of that name: None, said in a note."""
    table = shapes.table(spec, where) if isinstance(spec, dict) else {"version": shapes.text(spec, where)}
    source = next((key for key in SOURCES if key in table), None)
    if source is not None:
        value = grammar.printable(str(table[source]))[:80]
        why, instead = SOURCES[source]
        draft.note(f"{where} left out: {why.format(value=value)}, not a package a channel serves; a profile's conda "
                   f"packages come from its channels ({instead})")  # fmt: skip
        return None
    version = shapes.text(table.get("version"), f"{where}.version", "*").strip()
    build = shapes.text(table.get("build"), f"{where}.build").strip()
    channel = shapes.text(table.get("channel"), f"{where}.channel").strip()
    if channel:
        channel = checked_channel(channel, f"{shapes.shown}: {where}.channel")
    brackets = []
    for key, field in BRACKETED.items():
        if key in table:
            value = str(table[key]) if isinstance(table[key], int) else shapes.text(table[key], f"{where}.{key}")
            if not re.fullmatch(r"[A-Za-z0-9_.\-<>=!*+ ]+", value):
                raise LocatedError(shapes.shown, f"{key} {grammar.printable(value)[:80]!r} is not a value a conda "
                                   "spec holds", "fix the file", loc=f"{where}.{key}")  # fmt: skip
            brackets.append(f'{field}="{value.strip()}"')
    for key in sorted(set(table) - {"version", "build", "channel", *BRACKETED, *SOURCE_KEYS}, key=str):
        draft.note(f"{where}.{key} left out: a conda spec has no {key}")
    head = f"{channel}::{name}" if channel else name
    if build:
        head = f"{head} {version or '*'} {build}"
    elif version not in ("*", ""):
        head = f"{head} {version}"
    return f"{head}[{', '.join(brackets)}]" if brackets else head


def _pypi(draft: Draft, name: str, spec: Any, shapes: Shapes, where: str, platforms: list[str] | None) -> None:
    table = shapes.table(spec, where) if isinstance(spec, dict) else {"version": shapes.text(spec, where)}
    if "path" in table and table.get("editable"):
        draft.add_editable(shapes.text(table["path"], f"{where}.path"), where)
        return
    if "path" in table or "git" in table or "url" in table:
        kind = "git" if "git" in table else "path" if "path" in table else "URL"
        draft.note(f"{where} left out: a {kind} source is not locked from a profile; pin a release, or list a "
                   "local clone in pypi.editable")  # fmt: skip
        return
    extras = shapes.strings(table.get("extras"), f"{where}.extras")
    version = shapes.text(table.get("version"), f"{where}.version", "*").strip()
    head = f"{name}[{','.join(extras)}]" if extras else name
    draft.add("pypi", head if version in ("*", "") else f"{head}{version}", platforms)
    if "index" in table:
        # pixi's per-package index is uv's explicit index: a named index and the package's source.
        url = checked_url(shapes.text(table["index"], f"{where}.index"), where, "an index URL")
        index = next((k for k, v in draft.indexes.items() if v == url), None)
        if index is None:
            index = re.sub(r"[^a-z0-9]+", "-", url.lower().split("://", 1)[-1]).strip("-")[:64] or "index"
            draft.indexes[index] = url
        draft.sources[name] = index


def _system_requirements(draft: Draft, table: dict[str, Any], at: str) -> None:
    """pixi's system requirements are what the solver may assume: provision's `requires:`."""
    for key, value in table.items():
        shown = value if isinstance(value, str) else value.get("version") if isinstance(value, dict) else str(value)
        if key == "cuda":
            draft.requires["cuda_driver"] = str(shown)
        elif key == "macos":
            draft.requires["macos"] = str(shown)
        elif key in ("libc", "linux") and key == "libc":
            family = value.get("family", "glibc") if isinstance(value, dict) else "glibc"
            if family == "glibc":
                draft.requires["glibc"] = str(shown)
            else:
                draft.note(f"[{at}system-requirements] libc family {family} left out: provision assumes glibc")
        else:
            draft.note(f"[{at}system-requirements] {key} = {shown!r} left out: provision checks cuda, macos and glibc")


def _pypi_options(draft: Draft, table: dict[str, Any], shapes: Shapes, at: str) -> None:
    where = f"{at}pypi-options"
    if "index-url" in table:
        draft.index_url = checked_url(shapes.text(table["index-url"], f"{where}.index-url"), where, "an index URL")
    for url in shapes.strings(table.get("extra-index-urls"), f"{where}.extra-index-urls"):
        draft.extra_index_urls.append(checked_url(url, where, "an index URL"))
    for index, link in enumerate(shapes.items(table.get("find-links"), f"{where}.find-links")):
        value: Any = (link.get("path") or link.get("url")) if isinstance(link, dict) else link
        draft.find_links.append(checked_link(shapes.text(value, f"{where}.find-links[{index}]"), where))
    for key in sorted(set(table) - {"index-url", "extra-index-urls", "find-links"}):
        draft.note(f"[{where}] {key} left out: provision has no such setting")
