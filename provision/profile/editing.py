"""Write and edit profile files: a new profile from `init`, and `add` / `remove-package`, which keep
the file's comments and order (round-trip YAML) and keep the old text if the result is invalid."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ..errors import LocatedError, ProfileError, ProvisionError
from ..files import write_atomic
from ..project import Project
from .merge import conda_name, pypi_name


def write_new_profile(project: Project, name: str, profile: dict[str, Any], force: bool) -> Path:
    """profiles/NAME.yaml from a plain mapping, validated before it is kept."""
    import yaml

    path = project.profiles_dir / f"{name}.yaml"
    if path.exists() and not force:
        raise LocatedError(str(project.relative(path)), "already exists", "pick another NAME or pass --force")
    text = "# yaml-language-server: $schema=../schema/profile.schema.json\n" + yaml.safe_dump(
        profile, sort_keys=False, allow_unicode=True, width=100
    )
    _keep_if_valid(project, name, path, text)
    return path


def add_packages(project: Project, name: str, specs: list[str], pypi: bool, platform: str | None) -> Path:
    """Add (or replace, by package name) `specs` in the profile's conda or PyPI list, or a platform's."""
    path, document = _load(project, name)
    if platform is not None:
        targets = document.setdefault("targets", {})
        entries = targets.setdefault(platform, {}).setdefault("pypi" if pypi else "conda", [])
    elif pypi:
        entries = document.setdefault("pypi", {}).setdefault("packages", [])
    else:
        entries = document.setdefault("conda", [])
    key = pypi_name if pypi else conda_name
    for spec in specs:
        same = [i for i, existing in enumerate(entries) if key(str(existing)) == key(spec)]
        if same:
            entries[same[0]] = spec
            for extra in reversed(same[1:]):  # the package's other entries (other markers) are replaced too
                del entries[extra]
        else:
            entries.append(spec)
    _keep_if_valid(project, name, path, _dump(document))
    return path


def remove_packages(project: Project, name: str, packages: list[str]) -> tuple[Path, list[str]]:
    """Remove every entry of each named package (both layers, every platform); returns what was removed."""
    path, document = _load(project, name)
    lists = [(document.get("conda"), conda_name), ((document.get("pypi") or {}).get("packages"), pypi_name)]
    for layers in (document.get("targets") or {}).values():
        lists += [(layers.get("conda"), conda_name), (layers.get("pypi"), pypi_name)]
    removed = []
    for package in packages:
        found = False
        for entries, key in lists:
            for index in reversed(range(len(entries or []))):
                if entries is not None and key(str(entries[index])) == key(package):
                    removed.append(str(entries[index]))
                    del entries[index]
                    found = True
        if not found:
            raise LocatedError(f"profiles/{name}.yaml", f"no package {package!r} here",
                               "see `provision show` for what the profile lists")  # fmt: skip
    _keep_if_valid(project, name, path, _dump(document))
    return path, removed


def _yaml() -> Any:
    from ruamel.yaml import YAML

    handler = YAML(typ="rt")
    handler.preserve_quotes = True
    handler.indent(mapping=2, sequence=4, offset=2)
    handler.width = 4096
    return handler


def _load(project: Project, name: str) -> tuple[Path, Any]:
    from .yamlsrc import strict_yaml_in

    path = project.profiles_dir / f"{name}.yaml"
    shown = str(project.relative(path))
    if not path.is_file():
        raise LocatedError(shown, "no such profile", "see `provision list`")
    text = path.read_text(encoding="utf-8")
    strict_yaml_in(
        text, shown, "fix the profile's YAML", ProfileError
    )  # the same refusals as loading (aliases, duplicate keys) before editing
    document = _yaml().load(text)
    if not hasattr(document, "setdefault"):
        raise LocatedError(shown, "not a mapping", "a profile is a YAML mapping")
    return path, document


def _dump(document: Any) -> str:
    out = io.StringIO()
    _yaml().dump(document, out)
    return out.getvalue()


def _keep_if_valid(project: Project, name: str, path: Path, text: str) -> None:
    """Write `text`, validate the profile as `load_profile` does, and put the old text back if it fails."""
    from .load import load_profile

    before = path.read_bytes() if path.exists() else None
    write_atomic(path, text)
    try:
        load_profile(project, name)
    except ProvisionError:
        if before is None:
            path.unlink()
        else:
            write_atomic(path, before.decode("utf-8"))
        raise
