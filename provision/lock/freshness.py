"""`lock --check`: per profile and platform, fresh or stale with the reasons. No solving."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LockfileError
from ..model import Profile
from .inputs import describe_change, inputs_hash, platform_inputs
from .lockfile import LockData, read_lock


@dataclass(frozen=True)
class PlatformStatus:
    profile: str
    platform: str
    reasons: list[str] = field(default_factory=list)

    @property
    def fresh(self) -> bool:
        return not self.reasons


def check_lock(profile: Profile, path: Path, shown: str) -> list[PlatformStatus]:
    try:
        lock = read_lock(path, shown)
    except LockfileError as exc:
        return [PlatformStatus(profile.name, p, [exc.message]) for p in profile.platforms]
    statuses = [_platform_status(profile, platform, lock) for platform in profile.platforms]
    for platform in lock.platforms:
        if platform not in profile.platforms:
            statuses.append(PlatformStatus(profile.name, platform, ["platform removed from the profile"]))
    return statuses


def _platform_status(profile: Profile, platform: str, lock: LockData) -> PlatformStatus:
    if platform not in lock.platforms:
        return PlatformStatus(profile.name, platform, ["platform added to the profile"])
    wanted = platform_inputs(profile, platform)
    if lock.content_hash.get(platform) == inputs_hash(wanted):
        return PlatformStatus(profile.name, platform)
    stored = lock.inputs(platform)
    reason = describe_change(stored, wanted) if stored else "not locked by provision (no recorded inputs)"
    return PlatformStatus(profile.name, platform, [f"profile changed ({reason})"])
