"""A machine's settings: where each comes from, in one place.

Mirrors are a property of the machine (an air-gapped site's folder, a company proxy), not of the
project, as in pixi's user configuration. Highest first:

1. `--mirror CHANNEL=URL` on the command line,
2. `PROVISION_MIRRORS="conda-forge=/srv/conda-forge,pytorch=https://mirror/pytorch"`,
3. the user config file: `$PROVISION_CONFIG`, else `$XDG_CONFIG_HOME/provision/config.yaml`
   (default `~/.config/provision/config.yaml`):

       mirrors:
         conda-forge: /srv/mirror/conda-forge     # folder (relative to this file) or URL

A project's `provision.yaml` holds only what the whole team shares; a mirror there is refused
with the line that moves it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError, ProfileError
from .lock.mirrors import Mirrors, parse_mirrors
from .profile.yamlsrc import load_yaml

PROJECT_FILE = "provision.yaml"
MIRRORS_VARIABLE = "PROVISION_MIRRORS"
OVERRIDES = ("CONDA_OVERRIDE_CUDA", "CONDA_OVERRIDE_GLIBC", "CONDA_OVERRIDE_OSX")


@dataclass(frozen=True)
class Setting:
    name: str
    value: str
    origin: str  # "--mirror", "PROVISION_MIRRORS", a file's path, or "default"


def cache_root() -> Path:
    """The user cache folder (platformdirs: $XDG_CACHE_HOME/provision or ~/.cache/provision on Linux,
    ~/Library/Caches/provision on macOS): solver metadata and verified downloads."""
    from platformdirs import user_cache_path

    return user_cache_path("provision", appauthor=False)


def user_config_path() -> Path:
    explicit = os.environ.get("PROVISION_CONFIG")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "provision" / "config.yaml"


def _file_mirrors(path: Path) -> Mirrors:
    if not path.is_file():
        return Mirrors({})
    try:
        doc = load_yaml(path, path)
    except ProfileError as exc:
        raise ConfigError(exc.path, exc.problem, exc.fix, exc.line, exc.column, exc.loc) from None
    data = doc.data or {}
    if not isinstance(data, dict):
        raise doc.error((), "the config file is a mapping", "write `mirrors:` with one channel per line.", ConfigError)
    unknown = sorted(set(data) - {"mirrors"})
    if unknown:
        raise doc.error((unknown[0],), f"unknown setting {unknown[0]!r}", "allowed: mirrors.", ConfigError)
    items = data.get("mirrors") or {}
    if not isinstance(items, dict) or not all(isinstance(v, str) for v in items.values()):
        raise doc.error(("mirrors",), "not a mapping of channel to folder or URL", "write `conda-forge: /srv/mirror`.",
                        ConfigError)  # fmt: skip
    return parse_mirrors([f"{k}={v}" for k, v in items.items()], path.parent.resolve(), origin=str(path))


def _variable_mirrors() -> Mirrors:
    raw = os.environ.get(MIRRORS_VARIABLE, "").strip()
    items = [item.strip() for item in raw.split(",") if item.strip()]
    return parse_mirrors(items, Path.cwd(), origin=MIRRORS_VARIABLE)


def refuse_project_mirrors(project_root: Path | None) -> None:
    """A mirror committed to the project would send every teammate to this machine's folder."""
    if project_root is None or not (project_root / PROJECT_FILE).is_file():
        return
    doc = load_yaml(project_root / PROJECT_FILE, Path(PROJECT_FILE))
    if isinstance(doc.data, dict) and "mirrors" in doc.data:
        fix = f"move them to {user_config_path()} or {MIRRORS_VARIABLE}, or pass --mirror."
        raise doc.error(("mirrors",), "mirrors are a machine's setting, not the project's", fix, ConfigError)


def machine_mirrors(cli_values: tuple[str, ...], project_root: Path | None = None) -> Mirrors:
    """The mirrors in force, channel by channel: --mirror over the variable over the file."""
    refuse_project_mirrors(project_root)
    layers = [_file_mirrors(user_config_path()), _variable_mirrors(), parse_mirrors(list(cli_values), Path.cwd())]
    by_channel: dict[str, str] = {}
    written: dict[str, str] = {}
    for layer in layers:
        by_channel.update(layer.by_channel)
        written.update(layer.as_written)
    return Mirrors(by_channel, written)


def settings(cli_values: tuple[str, ...] = ()) -> list[Setting]:
    """Every machine setting with where it came from (`provision config`)."""
    from .layout import envs_dir

    path = user_config_path()
    out = [Setting("config file", str(path), "exists" if path.is_file() else "absent")]
    origins = [(str(path), _file_mirrors(path)), (MIRRORS_VARIABLE, _variable_mirrors()),
               ("--mirror", parse_mirrors(list(cli_values), Path.cwd()))]  # fmt: skip
    chosen: dict[str, Setting] = {}
    for origin, layer in origins:
        for channel, url in layer.by_channel.items():
            chosen[channel] = Setting(f"mirror {channel}", url, origin)
    out += [chosen[c] for c in sorted(chosen)] or [Setting(
        "mirrors", "none: conda channels are read from their own URLs",
        f"set one with `mirrors: {{conda-forge: URL or FOLDER}}` in {path}, "
        f"{MIRRORS_VARIABLE}=conda-forge=URL, or --mirror conda-forge=URL",
    )]  # fmt: skip
    home_origin = "PROVISION_HOME" if os.environ.get("PROVISION_HOME") else "default"
    cache_origin = "XDG_CACHE_HOME" if os.environ.get("XDG_CACHE_HOME") else "default"
    out += [Setting("environments", envs_dir(), home_origin),
            Setting("cache", str(cache_root()), cache_origin)]  # fmt: skip
    out += [Setting(name, os.environ[name], "environment") for name in OVERRIDES if os.environ.get(name)]
    return out
