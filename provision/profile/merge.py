"""`extends:` merging on plain dictionaries (no pydantic, so `list` stays fast).

Rules, chosen so a child can refine a parent without repeating it:
- package lists (`conda`, `pypi.packages`, and those of each `targets.PLATFORM`) merge by package
  name: the child's spec replaces the parent's in place, new names are appended;
- other lists of names (brew taps/formulae/casks, nix, pip index lists) are unions in order;
- `platforms` and `channels` are replaced whole, because their order and extent are decisions;
- mappings (`env`, `requires`, `virtual_packages`, `acceptance`) merge key by key, recursively;
- `name`, `extends` and `abstract` belong to the file itself and are never inherited.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from packaging.utils import canonicalize_name

NOT_INHERITED = ("name", "extends", "abstract")
REPLACED_LISTS = ("platforms", "channels")

_CONDA_NAME = re.compile(r"^\s*(?:[^\s:]+::)?([A-Za-z0-9_.\-]+)")
_PYPI_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._\-]*)")


def conda_name(spec: str) -> str:
    """The package name of a conda MatchSpec string, lower-cased ('conda-forge::numpy >=2' -> 'numpy')."""
    match = _CONDA_NAME.match(spec)
    return match.group(1).lower() if match else spec.strip().lower()


def pypi_name(requirement: str) -> str:
    """The PEP 503 normalised name of a PEP 508 requirement ('Torch_Vision[x]>=1' -> 'torch-vision')."""
    match = _PYPI_NAME.match(requirement)
    raw = match.group(1) if match else requirement.strip()
    return str(canonicalize_name(raw))


def merge_by_name(parent: list[Any], child: list[Any], key: Callable[[str], str]) -> list[Any]:
    """`parent` with `child` over it: the child's entries of a package replace all of the parent's, in
    the place of its first (a package may be listed more than once, e.g. under two PEP 508 markers, and
    then every entry counts); packages new to the parent are appended in order."""
    by_name: dict[str, list[Any]] = {}
    for item in child:
        by_name.setdefault(key(str(item)), []).append(item)
    merged: list[Any] = []
    placed: set[str] = set()
    for item in parent:
        name = key(str(item))
        if name not in by_name:
            merged.append(item)
        elif name not in placed:
            placed.add(name)
            merged += by_name[name]
    for name, items in by_name.items():
        if name not in placed:
            merged += items
    return merged


def union(parent: list[Any], child: list[Any]) -> list[Any]:
    return parent + [item for item in child if item not in parent]


def merge_profile(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """A new dict: `child` layered over `parent`. Neither argument is modified."""
    out = {k: v for k, v in parent.items() if k not in NOT_INHERITED}
    for key, value in child.items():
        base = out.get(key)
        if key == "conda" and isinstance(base, list) and isinstance(value, list):
            out[key] = merge_by_name(base, value, conda_name)
        elif key == "pypi" and isinstance(base, dict) and isinstance(value, dict):
            out[key] = _merge_pypi(base, value)
        elif key == "targets" and isinstance(base, dict) and isinstance(value, dict):
            out[key] = _merge_targets(base, value)
        elif key in REPLACED_LISTS:
            out[key] = value
        else:
            out[key] = _merge_value(base, value)
    return out


def _merge_pypi(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    out = dict(parent)
    for key, value in child.items():
        base = out.get(key)
        if key == "packages" and isinstance(base, list) and isinstance(value, list):
            out[key] = merge_by_name(base, value, pypi_name)
        else:
            out[key] = _merge_value(base, value)
    return out


def _merge_targets(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    out = dict(parent)
    for platform, layers in child.items():
        base = out.get(platform)
        if not (isinstance(base, dict) and isinstance(layers, dict)):
            out[platform] = layers
            continue
        merged = dict(base)
        for layer, keyed in (("conda", conda_name), ("pypi", pypi_name)):
            if isinstance(base.get(layer), list) and isinstance(layers.get(layer), list):
                merged[layer] = merge_by_name(base[layer], layers[layer], keyed)
            elif layer in layers:
                merged[layer] = layers[layer]
        out[platform] = {**layers, **merged}
    return out


def _merge_value(base: Any, value: Any) -> Any:
    if isinstance(base, dict) and isinstance(value, dict):
        out = dict(base)
        for key, item in value.items():
            out[key] = _merge_value(out.get(key), item)
        return out
    if isinstance(base, list) and isinstance(value, list):
        return union(base, value)
    return value
