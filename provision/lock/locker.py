"""Lock one profile: conda layer, then the PyPI layer constrained by it, per platform."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from ..errors import LockfileError
from ..model import Profile
from ..project import Project
from ..render import header
from .conda_layer import solve_conda
from .inputs import inputs_hash, lock_path, platform_inputs, source_path
from .lockfile import KEY_PREFIX, LockData, inputs_key, python_key, read_lock, size_key, write_lock
from .mirrors import Mirrors
from .pypi_layer import conda_python_packages, resolve_pypi
from .records import LockedPackage

Progress = Callable[[str], None]


def lock_profile(
    project: Project,
    profile: Profile,
    mirrors: Mirrors,
    cache_dir: Path,
    platforms: list[str] | None = None,
    update: frozenset[str] = frozenset(),
    update_all: bool = False,
    progress: Progress = lambda message: None,
) -> Path:
    """Solve `platforms` (default: all of the profile's) and write the lock; other platforms
    already in the lock are kept as they are."""
    path = project.root / lock_path(profile.name)
    if profile.kind == "conda":
        mirrors.require(list(profile.channels))
    previous = _previous(path)
    targets = platforms or list(profile.platforms)
    packages: list[LockedPackage] = []
    content_hash: dict[str, str] = {}
    custom: dict[str, str] = {}
    for platform in profile.platforms:
        if platform not in targets and previous and platform in previous.platforms:
            packages += previous.for_platform(platform)
            content_hash[platform] = previous.content_hash.get(platform, "")
            kept = (inputs_key(platform), python_key(platform), size_key(platform))
            custom.update({k: previous.custom[k] for k in kept if k in previous.custom})
            continue
        old = [] if update_all or previous is None else previous.for_platform(platform)
        solved, python = _solve_platform(project, profile, platform, mirrors, cache_dir, old, update, progress)
        packages += solved
        inputs = platform_inputs(profile, platform)
        content_hash[platform] = inputs_hash(inputs)
        custom[inputs_key(platform)] = json.dumps(inputs, sort_keys=True)
        custom[python_key(platform)] = python
        custom[size_key(platform)] = str(sum(p.size or 0 for p in solved))
    custom[f"{KEY_PREFIX}profile"] = profile.name
    # Mirrors are this machine's setting: the lock records only canonical URLs, never where they came from.
    data = LockData(
        platforms=list(profile.platforms),
        channels=list(profile.channels) if profile.kind == "conda" else [],
        sources=[str(source_path(profile.name))],
        content_hash=content_hash,
        custom=custom,
        packages=packages,
    )
    write_lock(path, data, header("#", f"profiles/{profile.name}.yaml", command="lock"))
    return path


def _previous(path: Path) -> LockData | None:
    try:
        return read_lock(path)
    except LockfileError:
        return None  # missing or unreadable: solve from scratch


def _solve_platform(
    project: Project,
    profile: Profile,
    platform: str,
    mirrors: Mirrors,
    cache_dir: Path,
    old: list[LockedPackage],
    update: frozenset[str],
    progress: Progress,
) -> tuple[list[LockedPackage], str]:
    conda: list[LockedPackage] = []
    python = profile.python or "3"
    if profile.kind == "conda":
        progress(f"{profile.name} [{platform}]: solving the conda layer")
        conda = solve_conda(profile, platform, mirrors, cache_dir, [p for p in old if p.manager == "conda"], update)
        python = next(p.version for p in conda if p.name == "python")
    progress(f"{profile.name} [{platform}]: resolving the PyPI layer with uv (Python {python})")
    preferred = [p for p in old if p.manager == "pip" and p.name not in update]
    pypi = resolve_pypi(profile, platform, python, conda_python_packages(conda), project.root, preferred)
    return conda + pypi, python
