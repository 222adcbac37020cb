"""Lock one profile: conda layer, then the PyPI layer constrained by it, per platform."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..errors import LockfileError, ProvisionError, ToolFailed
from ..files import header
from ..layout import lock_path
from ..profile.load import virtual_packages
from ..profile.model import Profile
from ..project import Project
from .conda_layer import solve_conda
from .inputs import platform_inputs, source_path
from .lockfile import KEY_PREFIX, LockData, inputs_key, python_key, read_lock, require_writer, size_key, write_lock
from .mirrors import Mirrors
from .pypi_layer import conda_python_packages, resolve_pypi
from .records import LockedPackage
from .solve_group import conda_constraints, disagreements, pypi_constraints
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
) -> list[Path]:
    """Solve `platforms` (default: all of the profile's) and write the lock of each of its variants (or its
    own); other platforms already in a lock are kept as they are."""
    from ..profile.load import variant_units

    requests = [(unit, platforms) for unit in variant_units(profile)]
    outcomes = lock_profiles(project, requests, mirrors, cache_dir, update, update_all, progress)
    for outcome in outcomes:
        if outcome.error is not None:
            raise outcome.error
    return [outcome.path for outcome in outcomes if outcome.path is not None]


@dataclass(frozen=True)
class LockOutcome:
    profile: str
    path: Path | None  # the lock written; None when a platform failed or every platform was fresh (left as it was)
    error: ProvisionError | None

    @property
    def fresh(self) -> bool:
        """Nothing to solve: every platform's lock already answers the profile as it is now."""
        return self.path is None and self.error is None


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
    a profile whose solve fails keeps its old lock, and the others are still written. A platform whose lock is
    fresh (its recorded request is the profile's request now, nothing asked to update) is not solved at all,
    as pixi leaves a satisfied lock alone; `update_all` or `update` solves it again."""
    require_writer()
    forced = update_all or bool(update)
    previous_locks = {p.lock_name: _previous(project.root / lock_path(p.lock_name)) for p, _ in requests}  # read once
    fresh_platforms = {profile.lock_name: {platform for platform in profile.platforms
                                           if _fresh(previous_locks[profile.lock_name], profile, platform)}
                       for profile, _ in requests}  # fmt: skip
    for profile, _ in requests:
        stale = fresh_platforms[profile.lock_name] != set(profile.platforms)
        if profile.kind == "conda" and (forced or stale):  # a lock with nothing to solve needs no channel
            mirrors.require(list(profile.channels))
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="provision-lock") as pool:
        solves = []
        references: dict[str, tuple[Profile, LockData | None, dict[str, Future[Solved]]]] = {}
        for profile, platforms in requests:
            path = project.root / lock_path(profile.lock_name)
            previous = previous_locks[profile.lock_name]
            targets = platforms or list(profile.platforms)
            # The first variant of a profile asked for is its solve group's reference (variant_units' order);
            # it is submitted before the others, so a solve that waits on it never waits on a queued task.
            reference = references.get(profile.name) if profile.variant else None
            futures: dict[str, Future[Solved]] = {}
            for platform in profile.platforms:
                # A variant takes its reference's versions: when the reference is solved again, so is the variant.
                follows = reference is not None and platform in reference[2]
                if not forced and not follows and platform in fresh_platforms[profile.lock_name]:
                    continue
                if platform in targets or previous is None or platform not in previous.platforms:
                    keep = previous is not None and not update_all and not _system_changed(previous, profile, platform)
                    old = previous.for_platform(platform) if keep and previous is not None else []
                    group = _group_pins(reference, platform) if reference else None
                    futures[platform] = pool.submit(
                        _solve_platform, project, profile, platform, mirrors, cache_dir, old, update, progress, group
                    )
            if profile.variant and reference is None:
                references[profile.name] = (profile, previous, futures)
            solves.append((profile, path, previous, futures))
        return [_finish(profile, path, previous, futures) for profile, path, previous, futures in solves]


Solved = tuple[list[LockedPackage], str]


@dataclass(frozen=True)
class GroupPins:
    """The solve group's reference, for one platform: its name and (when asked) its packages."""

    reference: str
    packages: Callable[[], list[LockedPackage]]


def _group_pins(reference: tuple[Profile, LockData | None, dict[str, Future[Solved]]], platform: str) -> GroupPins:
    profile, previous, futures = reference

    def packages() -> list[LockedPackage]:
        if platform in futures:
            try:
                return futures[platform].result()[0]
            except ProvisionError:
                raise ToolFailed(f"{profile.lock_name} [{platform}] could not be solved, and this variant "
                                 "takes its versions (solve group); see its error") from None  # fmt: skip
        return previous.for_platform(platform) if previous is not None else []

    return GroupPins(profile.lock_name, packages)


def _finish(
    profile: Profile, path: Path, previous: LockData | None,
    futures: dict[str, Future[Solved]],
) -> LockOutcome:  # fmt: skip
    """Write one profile's lock from its solved platforms and the previous lock's others (nothing when no
    platform was solved and the lock holds exactly the profile's platforms)."""
    if not futures and previous is not None and list(previous.platforms) == list(profile.platforms):
        return LockOutcome(profile.lock_name, None, None)
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
            return LockOutcome(profile.lock_name, None, exc)
        packages += solved
        request = platform_inputs(profile, platform)
        content_hash[platform] = request.digest()
        custom[inputs_key(platform)] = json.dumps(request.as_json(), sort_keys=True)
        custom[python_key(platform)] = python
        custom[size_key(platform)] = str(sum(p.size or 0 for p in solved))
    custom[f"{KEY_PREFIX}profile"] = profile.name
    if profile.variant:
        custom[f"{KEY_PREFIX}variant"] = profile.variant
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
    return LockOutcome(profile.lock_name, path, None)


def _fresh(previous: LockData | None, profile: Profile, platform: str) -> bool:
    if previous is None or platform not in previous.platforms:
        return False
    return platform_inputs(profile, platform).answered_by(previous, platform)


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
    group: GroupPins | None = None,
) -> Solved:
    reference = group.packages() if group else []
    try:
        conda: list[LockedPackage] = []
        python = profile.python or "3"
        if profile.kind == "conda":
            progress(f"{profile.lock_name} [{platform}]: solving the conda layer")
            conda = solve_conda(profile, platform, mirrors, cache_dir, [p for p in old if p.manager == "conda"],
                                update, conda_constraints(reference))  # fmt: skip
            python = next(p.version for p in conda if p.name == "python")
        progress(f"{profile.lock_name} [{platform}]: resolving the PyPI layer with uv (Python {python})")
        preferred = [p for p in old if p.manager == "pip" and p.name not in update]
        pypi = resolve_pypi(profile, platform, python, conda_python_packages(conda), project.root, preferred,
                            pypi_constraints(reference))  # fmt: skip
    except ToolFailed as exc:
        if group is None:
            raise
        raise ToolFailed(f"{exc.message} (variant {profile.variant} is solved with the versions of "
                         f"{group.reference}, its solve group's reference)", exc.command, exc.returncode,
                         exc.tail) from None  # fmt: skip
    apart = disagreements(reference, conda + pypi)
    if apart:
        raise ToolFailed(f"{profile.lock_name} [{platform}]: its variants disagree ({'; '.join(apart[:5])}); "
                         "variants of one profile share every common package's version")  # fmt: skip
    prove_variant(profile, platform, conda + pypi, mirrors, cache_dir, virtual_packages(profile, platform))
    return conda + pypi, python
