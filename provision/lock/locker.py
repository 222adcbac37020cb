"""Lock one profile: conda layer, then the PyPI layer constrained by it, per platform."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..errors import LockfileError, ProvisionError
from ..model import Profile
from ..profiles import virtual_packages
from ..project import Project
from ..render import header
from .conda_layer import solve_conda
from .inputs import inputs_hash, lock_path, platform_inputs, source_path
from .lockfile import KEY_PREFIX, LockData, inputs_key, python_key, read_lock, size_key, write_lock
from .mirrors import Mirrors
from .pypi_layer import conda_python_packages, resolve_pypi
from .records import LockedPackage
from .variant import prove_variant

Progress = Callable[[str], None]
DEFAULT_JOBS = 8  # concurrent solves: bounded so a big project does not open dozens of index connections at once


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
    outcome = lock_profiles(project, [(profile, platforms)], mirrors, cache_dir, update, update_all, progress)[0]
    if outcome.error is not None:
        raise outcome.error
    assert outcome.path is not None
    return outcome.path


@dataclass(frozen=True)
class LockOutcome:
    profile: str
    path: Path | None  # the lock written, or None when a platform failed (the old lock is left as it was)
    error: ProvisionError | None


def lock_profiles(
    project: Project,
    requests: list[tuple[Profile, list[str] | None]],
    mirrors: Mirrors,
    cache_dir: Path,
    update: frozenset[str] = frozenset(),
    update_all: bool = False,
    progress: Progress = lambda message: None,
    jobs: int = DEFAULT_JOBS,
) -> list[LockOutcome]:
    """Lock several profiles, each (profile, platforms) pair solved concurrently: nearly all of a
    solve is waiting on an index or a solver outside Python. Outcomes come back in the order asked;
    a profile whose solve fails keeps its old lock, and the others are still written."""
    for profile, _ in requests:
        if profile.kind == "conda":
            mirrors.require(list(profile.channels))
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="provision-lock") as pool:
        solves = []
        for profile, platforms in requests:
            path = project.root / lock_path(profile.name)
            previous = _previous(path)
            targets = platforms or list(profile.platforms)
            futures: dict[str, Future[tuple[list[LockedPackage], str]]] = {}
            for platform in profile.platforms:
                if platform in targets or previous is None or platform not in previous.platforms:
                    keep = previous is not None and not update_all and not _system_changed(previous, profile, platform)
                    old = previous.for_platform(platform) if keep and previous is not None else []
                    futures[platform] = pool.submit(
                        _solve_platform, project, profile, platform, mirrors, cache_dir, old, update, progress
                    )
            solves.append((profile, path, previous, futures))
        return [_finish(profile, path, previous, futures) for profile, path, previous, futures in solves]


def _finish(
    profile: Profile, path: Path, previous: LockData | None,
    futures: dict[str, Future[tuple[list[LockedPackage], str]]],
) -> LockOutcome:  # fmt: skip
    """Write one profile's lock from its solved platforms and the previous lock's others."""
    packages: list[LockedPackage] = []
    content_hash: dict[str, str] = {}
    custom: dict[str, str] = {}
    for platform in profile.platforms:
        if platform not in futures:
            assert previous is not None
            packages += previous.for_platform(platform)
            content_hash[platform] = previous.content_hash.get(platform, "")
            kept = (inputs_key(platform), python_key(platform), size_key(platform))
            custom.update({k: previous.custom[k] for k in kept if k in previous.custom})
            continue
        try:
            solved, python = futures[platform].result()
        except ProvisionError as exc:
            return LockOutcome(profile.name, None, exc)
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
    return LockOutcome(profile.name, path, None)


def _system_changed(previous: LockData, profile: Profile, platform: str) -> bool:
    """The machine the platform is locked for changed (glibc, CUDA driver, macOS): the old builds were
    chosen for another machine, so they are not kept as preferences (a CPU build chosen under
    `__glibc 2.17` would otherwise survive a move to 2.28)."""
    recorded = previous.inputs(platform) or {}
    return recorded.get("virtual_packages") != virtual_packages(profile, platform)


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
    prove_variant(profile, platform, conda + pypi, mirrors, cache_dir, virtual_packages(profile, platform))
    return conda + pypi, python
