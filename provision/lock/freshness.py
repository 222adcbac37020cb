"""`lock --check`: per profile and platform, fresh or stale with the reasons. No solving."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from ..errors import LockfileError
from ..layout import lock_path
from ..profile.model import Profile
from .inputs import platform_inputs
from .lockfile import LockData, read_lock
from .solve_group import disagreements


class Staleness(Enum):
    """Why a platform's lock is not what its profile asks now (pixi's satisfiability, as a kind)."""

    UNREADABLE = "unreadable"  # the lock file cannot be read
    PLATFORM_ADDED = "platform added"  # the profile lists a platform the lock lacks
    PLATFORM_REMOVED = "platform removed"  # the lock holds a platform the profile dropped
    PROFILE_CHANGED = "profile changed"  # the request (specs, channels, indexes, virtual packages) differs
    NOT_OURS = "not locked by provision"  # no recorded inputs to compare with
    VARIANTS_DISAGREE = "variants disagree"  # a solve group's shared package has two versions


@dataclass(frozen=True)
class Stale:
    kind: Staleness
    detail: str = ""  # what exactly: the request's change, the disagreeing packages, the read error
    advice: str = ""  # a fix beyond `provision lock PROFILE`, when there is one

    def line(self) -> str:
        if self.kind is Staleness.UNREADABLE:
            return self.detail
        if self.kind is Staleness.PLATFORM_ADDED:
            return "platform added to the profile"
        if self.kind is Staleness.PLATFORM_REMOVED:
            return "platform removed from the profile"
        if self.kind is Staleness.NOT_OURS:
            return "profile changed (not locked by provision (no recorded inputs))"
        return f"{self.kind.value} ({self.detail})" + (f"; {self.advice}" if self.advice else "")


@dataclass(frozen=True)
class PlatformStatus:
    profile: str
    platform: str
    stale: list[Stale] = field(default_factory=list)

    @property
    def fresh(self) -> bool:
        return not self.stale

    @property
    def reasons(self) -> list[str]:
        """The reasons as lines, for people and for `lock --check --json`."""
        return [reason.line() for reason in self.stale]


def check_units(root: Path, units: list[Profile]) -> list[PlatformStatus]:
    """Every unit's lock (`lock_units`, or one profile's `variant_units`), and for variants their solve group:
    a package the variants share must have one version in all of them."""
    statuses: list[PlatformStatus] = []
    references: dict[str, LockData | None] = {}
    for unit in units:
        shown = str(lock_path(unit.lock_name))
        try:
            lock: LockData | None = read_lock(root / shown, shown)
        except LockfileError as exc:
            lock = None
            statuses += [PlatformStatus(unit.lock_name, p, [Stale(Staleness.UNREADABLE, exc.message)])
                         for p in unit.platforms]  # fmt: skip
        if unit.variant and unit.name not in references:
            references[unit.name] = lock
            reference = None
        else:
            reference = references.get(unit.name) if unit.variant else None
        if lock is not None:
            statuses += lock_statuses(unit, lock, reference)
    return statuses


def lock_statuses(profile: Profile, lock: LockData, reference: LockData | None = None) -> list[PlatformStatus]:
    """One lock against one unit; `reference`: the solve group's first variant, whose versions it must share."""
    statuses = [_platform_status(profile, platform, lock, reference) for platform in profile.platforms]
    for platform in lock.platforms:
        if platform not in profile.platforms:
            statuses.append(PlatformStatus(profile.lock_name, platform, [Stale(Staleness.PLATFORM_REMOVED)]))
    return statuses


def _platform_status(profile: Profile, platform: str, lock: LockData, reference: LockData | None) -> PlatformStatus:
    if platform not in lock.platforms:
        return PlatformStatus(profile.lock_name, platform, [Stale(Staleness.PLATFORM_ADDED)])
    reasons: list[Stale] = []
    wanted = platform_inputs(profile, platform)
    if not wanted.answered_by(lock, platform):
        stored = lock.inputs(platform)
        reasons.append(Stale(Staleness.PROFILE_CHANGED, wanted.changes_since(stored)) if stored else
                       Stale(Staleness.NOT_OURS))  # fmt: skip
    if reference is not None:
        apart = disagreements(reference.for_platform(platform), lock.for_platform(platform))
        if apart:
            shown = f"{'; '.join(apart[:3])}{', ...' if len(apart) > 3 else ''}"
            reasons.append(Stale(Staleness.VARIANTS_DISAGREE, shown,
                                 f"lock the whole profile `provision lock {profile.name}`"))  # fmt: skip
    return PlatformStatus(profile.lock_name, platform, reasons)
