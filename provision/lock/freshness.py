"""`lock --check`: per profile and platform, fresh or stale with the reasons. No solving."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LockfileError
from ..layout import lock_path
from ..profile.model import Profile
from .inputs import describe_change, inputs_hash, platform_inputs
from .lockfile import LockData, read_lock
from .solve_group import disagreements


@dataclass(frozen=True)
class PlatformStatus:
    profile: str
    platform: str
    reasons: list[str] = field(default_factory=list)

    @property
    def fresh(self) -> bool:
        return not self.reasons


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
            statuses += [PlatformStatus(unit.lock_name, p, [exc.message]) for p in unit.platforms]
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
            statuses.append(PlatformStatus(profile.lock_name, platform, ["platform removed from the profile"]))
    return statuses


def _platform_status(profile: Profile, platform: str, lock: LockData, reference: LockData | None) -> PlatformStatus:
    if platform not in lock.platforms:
        return PlatformStatus(profile.lock_name, platform, ["platform added to the profile"])
    reasons = []
    wanted = platform_inputs(profile, platform)
    if lock.content_hash.get(platform) != inputs_hash(wanted):
        stored = lock.inputs(platform)
        reason = describe_change(stored, wanted) if stored else "not locked by provision (no recorded inputs)"
        reasons.append(f"profile changed ({reason})")
    if reference is not None:
        apart = disagreements(reference.for_platform(platform), lock.for_platform(platform))
        if apart:
            reasons.append(f"variants disagree ({'; '.join(apart[:3])}{', ...' if len(apart) > 3 else ''}); "
                           f"lock the whole profile `provision lock {profile.name}`")  # fmt: skip
    return PlatformStatus(profile.lock_name, platform, reasons)
