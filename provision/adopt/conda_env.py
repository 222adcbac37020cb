"""conda's environment.yml: channels (`defaults`, `nodefaults`), `channel::package`, conda-build
selectors written as comments, conda-lock's `platforms:`, `variables:`, and the `pip:` section."""

from __future__ import annotations

import re
from pathlib import Path

from .. import grammar
from ..errors import LocatedError
from ..platforms import TABLE
from ..profile.merge import conda_name
from ..profile.model import PLATFORM_SELECTORS, PLATFORMS
from . import pythons
from .draft import Draft, Shapes
from .requirements import logical_lines, pip_line
from .urls import checked_channel

# conda-build's platform selectors, as the platforms of a profile: each platform's own, and the groups.
SELECTOR_PLATFORMS = {
    **{selector: [platform] for platform, selector in PLATFORM_SELECTORS.items()},
    "linux": [p.subdir for p in TABLE.values() if p.system == "Linux"],
    "osx": [p.subdir for p in TABLE.values() if p.system == "Darwin"], "unix": list(PLATFORMS),
}  # fmt: skip
UNSUPPORTED_SELECTORS = ("win", "win64", "win32", "osx64", "ppc64le")
SELECTOR = re.compile(r"#\s*\[\s*([A-Za-z0-9_ =]+?)\s*\]\s*$")
DEFAULTS_CHANNEL = "https://repo.anaconda.com/pkgs/main"  # what conda's `defaults` means first
KNOWN_KEYS = {"name", "channels", "dependencies", "platforms", "variables", "prefix", "category"}


def read_environment(document: dict, text: str, shown: str, folder: Path | None) -> Draft:
    shapes = Shapes(shown)
    if not isinstance(document.get("dependencies", []), list):
        raise LocatedError(shown, "not a conda environment file", "it needs a `dependencies:` list")
    selectors = _selectors_by_line(text)
    draft = Draft()
    for channel in shapes.strings(document.get("channels"), "channels"):
        if channel == "nodefaults":
            draft.note("channel 'nodefaults' needs nothing: a profile uses only the channels it lists, never conda's "
                       "defaults")
            continue
        _channel(draft, channel)
    _platforms(draft, shapes.strings(document.get("platforms"), "platforms"))
    for key, value in shapes.table(document.get("variables"), "variables").items():
        draft.env[str(key)] = str(value)
    category = document.get("category")
    if category not in (None, "main"):
        # conda-lock's `category:` marks a whole file's packages (dev, test): a profile installs what it lists.
        draft.note(f"category: {grammar.printable(str(category))[:40]}: conda-lock keeps these packages out of a "
                   "default install; the profile installs them (a profile of their own keeps them apart)")  # fmt: skip
    if document.get("prefix"):
        draft.note("prefix: left out: a folder on the machine that exported the file; apply takes --prefix")
    for key in sorted(set(document) - KNOWN_KEYS, key=str):
        draft.note(f"key '{key}' left out: not part of conda's environment file")
    seen: set[str] = set()  # an item written twice with two selectors carries both on its first use
    for index, entry in enumerate(document.get("dependencies") or []):
        if isinstance(entry, dict) and "pip" in entry:
            for line in shapes.strings(entry["pip"], f"dependencies[{index}].pip"):
                if line.strip() in seen:
                    continue
                seen.add(line.strip())
                platforms = _platforms_of(selectors.get(line.strip()), draft, line)
                if platforms == []:
                    continue
                for _, logical in logical_lines(line):
                    pip_line(draft, logical, platforms, f"{shown}: dependencies[{index}].pip", folder)
            continue
        if isinstance(entry, dict):  # e.g. mamba's `sel(win): pywin32`: a selector conda does not read
            draft.note(f"dependencies[{index}] {grammar.printable(str(entry))[:60]} left out: not a conda spec")
            continue
        spec = shapes.text(entry, f"dependencies[{index}]").strip()
        if spec in seen:
            continue
        seen.add(spec)
        platforms = _platforms_of(selectors.get(spec), draft, spec)
        if platforms == []:
            continue
        conda_spec(draft, spec, platforms)
    if draft.conda == [] and not draft.targets and draft.pypi and not document.get("channels"):
        draft.as_venv()
    return draft


def _channel(draft: Draft, channel: str) -> str:
    """The channel a profile lists for `channel` (`defaults` is translated, with a note)."""
    if channel == "defaults":
        draft.note(f"channel 'defaults' became {DEFAULTS_CHANNEL} (the first of conda's defaults)")
        channel = DEFAULTS_CHANNEL
    channel = checked_channel(channel, "channels")
    if channel not in draft.channels:
        draft.channels.append(channel)
    return channel


def conda_spec(draft: Draft, spec: str, platforms: list[str] | None) -> None:
    """A conda spec into the draft: Python into `python:`, `channel::name` with its channel listed."""
    if conda_name(spec) == "python":
        pythons.from_conda(draft, spec)
        return
    if "::" in spec:
        channel, _, rest = spec.partition("::")
        spec = f"{_channel(draft, channel.strip())}::{rest.strip()}"
    draft.add("conda", spec, platforms)


def _selectors_by_line(text: str) -> dict[str, list[str]]:
    """Each list item's text -> the selectors written after it (YAML drops comments, so read the lines)."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = SELECTOR.search(line)
        item = re.match(r"\s*-\s*(.+?)\s*(#.*)?$", line)
        if match and item:
            out.setdefault(item.group(1).strip().strip("'\""), []).append(match.group(1).strip().lower())
    return out


def _platforms_of(selectors: list[str] | None, draft: Draft, spec: str) -> list[str] | None:
    """None for an item on every platform, else the platforms its selectors name ([] for none of ours)."""
    if not selectors:
        return None
    platforms: list[str] = []
    for selector in selectors:
        if selector in SELECTOR_PLATFORMS:
            platforms += [p for p in SELECTOR_PLATFORMS[selector] if p not in platforms]
        elif selector.startswith("not ") and selector[4:].strip() in UNSUPPORTED_SELECTORS:
            return None  # `# [not win]`: every platform provision has
        elif selector in UNSUPPORTED_SELECTORS:
            draft.note(f"'{spec}  # [{selector}]' left out: provision has no such platform")
        else:
            draft.note(f"'{spec}  # [{selector}]' left out: selector {selector!r} is not a platform provision has")
    return platforms


def _platforms(draft: Draft, platforms: list[str]) -> None:
    for platform in platforms:
        if platform in PLATFORMS:
            if platform not in draft.platforms:
                draft.platforms.append(platform)
        else:
            draft.note(f"platform {platform} left out: provision has {', '.join(PLATFORMS)}")
