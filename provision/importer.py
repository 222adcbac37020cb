"""`provision init NAME --from FILE`: read another tool's environment file into a profile.

Understood: conda's environment.yml (channels, `channel::package`, `# [linux]`-style selectors,
build strings, `nodefaults`, the `pip:` section with its index and `-e` lines, conda-lock's
`platforms:`), requirements.txt, pixi.toml and pyproject.toml. Every package reaches the profile;
what a profile cannot express (a Windows-only line, an unpinned git requirement) is one note line.
The file is untrusted: it is read capped, as data, and each value is validated by the profile model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import LocatedError
from .merge import conda_name
from .model import PLATFORM_SELECTORS, PLATFORMS

# conda-build's platform selectors, as the platforms of a profile: each platform's own, and the groups.
SELECTOR_PLATFORMS = {
    **{selector: [platform] for platform, selector in PLATFORM_SELECTORS.items()},
    "linux": ["linux-64", "linux-aarch64"], "osx": ["osx-arm64"], "unix": list(PLATFORMS),
}  # fmt: skip
UNSUPPORTED_SELECTORS = ("win", "win64", "win32", "osx64", "ppc64le")
SELECTOR = re.compile(r"#\s*\[\s*([A-Za-z0-9_ ]+?)\s*\]\s*$")
DEFAULT_PLATFORMS = ["osx-arm64", "linux-64"]
DEFAULT_PYTHON = "3.11"
DEFAULTS_CHANNEL = "https://repo.anaconda.com/pkgs/main"  # what conda's `defaults` means first


@dataclass
class Draft:
    """A profile being assembled from a foreign file, and what could not be carried over."""

    kind: str = "conda"
    python: str | None = None
    platforms: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    conda: list[str] = field(default_factory=list)
    pypi: list[str] = field(default_factory=list)
    targets: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    editable: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, layer: str, spec: str, platforms: list[str] | None) -> None:
        if platforms is None:
            getattr(self, layer).append(spec)
            return
        for platform in platforms:
            entries = self.targets.setdefault(platform, {}).setdefault(layer, [])
            if spec not in entries:
                entries.append(spec)

    def profile(self, name: str, source: str) -> dict[str, Any]:
        """The profile as a plain mapping, in the order a person would write it."""
        platforms = self.platforms or DEFAULT_PLATFORMS
        out: dict[str, Any] = {"name": name, "description": f"Imported from {source} by `provision init`"}
        out["kind"] = self.kind
        out["platforms"] = platforms
        out["python"] = self.python or DEFAULT_PYTHON
        if self.kind == "conda":
            out["channels"] = self.channels or ["conda-forge"]
            out["conda"] = self.conda
        pypi: dict[str, Any] = {"packages": self.pypi}
        if self.index_url:
            pypi["index_url"] = self.index_url
        if self.extra_index_urls:
            pypi["extra_index_urls"] = self.extra_index_urls
        if self.find_links:
            pypi["find_links"] = self.find_links
        if self.editable:
            pypi["editable"] = self.editable
        out["pypi"] = pypi
        targets = {p: layers for p, layers in self.targets.items() if p in platforms}
        if targets:
            out["targets"] = targets
        return out


@dataclass(frozen=True)
class Shapes:
    """The shapes a foreign file's values must have before they are read: one located line each."""

    shown: str

    def fail(self, where: str, wanted: str, value: Any) -> LocatedError:
        return LocatedError(self.shown, f"must be {wanted}, not {type(value).__name__}", "fix the file", loc=where)

    def table(self, value: Any, where: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, "a table", value)
        return value

    def strings(self, value: Any, where: str) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(where, "a list of strings", value)
        return value

    def text(self, value: Any, where: str, default: str = "") -> str:
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.fail(where, "a string", value)
        return value


def import_file(path: Path, shown: str) -> Draft:
    """The draft profile of `path`, by its name: environment.yml, requirements.txt, pixi.toml, pyproject.toml."""
    from .files import read_untrusted_text

    text = read_untrusted_text(path, 4 << 20, shown, "give a regular UTF-8 file")
    name = path.name.lower()
    if name.endswith((".yml", ".yaml")):
        return _environment_yml(text, shown)
    if name == "pixi.toml":
        return _pixi(_toml(text, shown), shown)
    if name == "pyproject.toml":
        return _pyproject(_toml(text, shown), shown)
    if name.endswith((".txt", ".in")):
        draft = Draft(kind="venv")
        for number, line in enumerate(text.splitlines(), 1):
            _pip_line(draft, line, None, f"{shown}:{number}")
        return draft
    raise LocatedError(shown, "not a file init reads", "give an environment.yml, requirements.txt, pixi.toml or "
                       "pyproject.toml")  # fmt: skip


def _environment_yml(text: str, shown: str) -> Draft:
    from .yamlsrc import strict_yaml_in

    document = strict_yaml_in(text, shown, "fix the file's YAML")
    if not isinstance(document, dict) or not isinstance(document.get("dependencies", []), list):
        raise LocatedError(shown, "not a conda environment file", "it needs a `dependencies:` list")
    shapes = Shapes(shown)
    selectors = _selectors_by_line(text)
    draft = Draft()
    for channel in shapes.strings(document.get("channels"), "channels"):
        if channel == "nodefaults":
            continue  # provision never adds channels of its own
        if channel == "defaults":
            draft.notes.append(f"channel 'defaults' became {DEFAULTS_CHANNEL} (the first of conda's defaults)")
            channel = DEFAULTS_CHANNEL
        if channel not in draft.channels:
            draft.channels.append(channel)
    _platforms(draft, shapes.strings(document.get("platforms"), "platforms"))
    seen: set[str] = set()  # an item written twice with two selectors carries both on its first use
    for index, entry in enumerate(document.get("dependencies") or []):
        if isinstance(entry, dict) and "pip" in entry:
            for line in shapes.strings(entry["pip"], f"dependencies[{index}].pip"):
                if line.strip() not in seen:
                    seen.add(line.strip())
                    _pip_line(draft, line, _platforms_of(selectors.get(line.strip()), draft, line), shown)
            continue
        spec = shapes.text(entry, f"dependencies[{index}]").strip()
        if spec in seen:
            continue
        seen.add(spec)
        platforms = _platforms_of(selectors.get(spec), draft, spec)
        if platforms == []:
            continue
        _conda_spec(draft, spec, platforms)
    return draft


def _selectors_by_line(text: str) -> dict[str, list[str]]:
    """Each list item's text -> the selectors written after it (YAML drops comments, so read the lines)."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = SELECTOR.search(line)
        item = re.match(r"\s*-\s*(.+?)\s*(#.*)?$", line)
        if match and item:
            out.setdefault(item.group(1).strip(), []).append(match.group(1).strip().lower())
    return out


def _platforms_of(selectors: list[str] | None, draft: Draft, spec: str) -> list[str] | None:
    """None for an item on every platform, else the platforms its selectors name ([] for none of ours)."""
    if not selectors:
        return None
    platforms: list[str] = []
    for selector in selectors:
        if selector in SELECTOR_PLATFORMS:
            platforms += [p for p in SELECTOR_PLATFORMS[selector] if p not in platforms]
        elif selector in UNSUPPORTED_SELECTORS or selector.startswith("not "):
            draft.notes.append(f"'{spec}  # [{selector}]' left out: provision has no such platform selector")
        else:
            draft.notes.append(f"'{spec}  # [{selector}]' left out: unknown selector {selector!r}")
    return platforms


def _is_python(spec: str) -> bool:
    return conda_name(spec) == "python"


def _conda_spec(draft: Draft, spec: str, platforms: list[str] | None) -> None:
    if _is_python(spec):
        version = re.search(r"(\d+\.\d+)", spec)
        if version:
            draft.python = version.group(1)
            if re.search(r"[<>]", spec):
                draft.notes.append(f"'{spec}' became python: \"{draft.python}\" (its lower bound); change it to move")
        return
    if "::" in spec:
        channel = spec.split("::", 1)[0].strip()
        if channel and channel not in draft.channels:
            draft.channels.append(channel)
    draft.add("conda", spec, platforms)


def _pip_line(draft: Draft, raw: str, platforms: list[str] | None, where: str) -> None:
    """One requirements line: a requirement, an index option or an editable folder."""
    line = raw.split(" #", 1)[0].strip() if not raw.strip().startswith("#") else ""
    if not line:
        return
    option, _, value = line.partition(" ") if line.startswith("-") else ("", "", "")
    if "=" in option and option.startswith("--"):
        option, _, value = option.partition("=")
    value = value.strip()
    if option in ("--index-url", "-i"):
        draft.index_url = value
    elif option == "--extra-index-url":
        draft.extra_index_urls.append(value)
    elif option in ("--find-links", "-f"):
        draft.find_links.append(value)
    elif option in ("-e", "--editable"):
        if "://" in value or value.startswith("git+"):
            draft.notes.append(f"{where}: '{line}' left out: a git requirement is not locked by provision; "
                               "clone it and list its folder in pypi.editable")  # fmt: skip
        else:
            draft.editable.append(value)
    elif option:
        draft.notes.append(f"{where}: option '{line}' left out")
    elif line.startswith("git+") or " @ " in line or "://" in line:
        draft.notes.append(f"{where}: '{line}' left out: a direct URL is not locked by provision; pin a release "
                           "from an index instead")  # fmt: skip
    else:
        draft.add("pypi", line, platforms)


def _toml(text: str, shown: str) -> dict[str, Any]:
    from .lock.pypi_layer import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LocatedError(shown, f"not valid TOML ({exc})", "fix the file") from None


def _pixi(document: dict[str, Any], shown: str) -> Draft:
    shapes = Shapes(shown)
    draft = Draft()
    key = "workspace" if "workspace" in document else "project"
    workspace = shapes.table(document.get(key), key)
    draft.channels = shapes.strings(workspace.get("channels"), f"{key}.channels")
    _platforms(draft, shapes.strings(workspace.get("platforms"), f"{key}.platforms"))
    _pixi_tables(draft, document, None, shapes, "")
    for platform, tables in shapes.table(document.get("target"), "target").items():
        if platform not in PLATFORMS:
            draft.notes.append(f"[target.{platform}] left out: provision has {', '.join(PLATFORMS)}")
            continue
        _pixi_tables(draft, shapes.table(tables, f"target.{platform}"), [platform], shapes, f"target.{platform}.")
    if not draft.conda and not draft.targets:
        draft.kind = "venv"
    return draft


def _pixi_tables(draft: Draft, tables: dict[str, Any], platforms: list[str] | None, shapes: Shapes, at: str) -> None:
    for name, spec in shapes.table(tables.get("dependencies"), f"{at}dependencies").items():
        # pixi writes `numpy = ">=2"` or `pytorch = { version = "2.5.*", build = "*cuda*", channel = "pytorch" }`.
        where = f"{at}dependencies.{name}"
        table = shapes.table(spec, where) if isinstance(spec, dict) else {"version": shapes.text(spec, where)}
        version = shapes.text(table.get("version"), f"{where}.version", "*")
        build = shapes.text(table.get("build"), f"{where}.build")
        channel = shapes.text(table.get("channel"), f"{where}.channel")
        parts = [f"{channel}::{name}" if channel else name] + ([version] if version != "*" or build else [])
        _conda_spec(draft, " ".join(parts + ([build] if build else [])), platforms)
    for name, spec in shapes.table(tables.get("pypi-dependencies"), f"{at}pypi-dependencies").items():
        where = f"{at}pypi-dependencies.{name}"
        table = shapes.table(spec, where) if isinstance(spec, dict) else {"version": shapes.text(spec, where)}
        if "path" in table or "git" in table or "url" in table:
            if table.get("editable") and "path" in table:
                draft.editable.append(shapes.text(table["path"], f"{where}.path"))
            else:
                draft.notes.append(f"{shapes.shown}: {where} left out: only index packages and editable paths "
                                   "are locked")  # fmt: skip
            continue
        version = shapes.text(table.get("version"), f"{where}.version", "*")
        draft.add("pypi", name if version in ("*", "") else f"{name}{version}", platforms)


def _platforms(draft: Draft, platforms: list[str]) -> None:
    for platform in platforms:
        if platform in PLATFORMS:
            draft.platforms.append(platform)
        else:
            draft.notes.append(f"platform {platform} left out: provision has {', '.join(PLATFORMS)}")


def _pyproject(document: dict[str, Any], shown: str) -> Draft:
    shapes = Shapes(shown)
    project = shapes.table(document.get("project"), "project")
    draft = Draft(kind="venv")
    version = re.search(r"(\d+\.\d+)", shapes.text(project.get("requires-python"), "project.requires-python"))
    if version:
        draft.python = version.group(1)
    for number, requirement in enumerate(shapes.strings(project.get("dependencies"), "project.dependencies")):
        _pip_line(draft, requirement, None, f"{shown}: project.dependencies[{number}]")
    if shapes.text(project.get("name"), "project.name"):
        draft.editable.append(".")  # the project itself, as `uv sync` installs it
    return draft
