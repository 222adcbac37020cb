"""Checks before anything is touched. Pure: facts in, problems out; each one line with the fix."""

from __future__ import annotations

from ..host import HostFacts
from ..lock.freshness import PlatformStatus
from ..model import Profile
from ..requirements import Severity, blocking, for_profile

# Installed size on disk relative to the downloaded archives (compressed .conda, wheels).
EXPANSION = 3


def host_problems(profile: Profile | None, host: HostFacts, platforms: list[str]) -> list[str]:
    """What stops an apply here, one line each with its fix (the rules are requirements.py's)."""
    return blocking(for_profile(profile, host, platforms))


def host_warnings(profile: Profile | None, host: HostFacts, platforms: list[str]) -> list[str]:
    """What apply allows but says (e.g. Rosetta with `arm64_native: false`)."""
    return [f.line() for f in for_profile(profile, host, platforms) if f.severity is Severity.WARNING]


def disk_problem(download_bytes: int | None, free_bytes: int) -> str | None:
    if download_bytes and download_bytes * EXPANSION > free_bytes:
        need = download_bytes * EXPANSION / 1e9
        return f"{free_bytes / 1e9:.1f} GB free, the environment needs about {need:.1f} GB; free some disk space"
    return None


def lock_problem(status: PlatformStatus | None) -> str | None:
    if status is not None and not status.fresh:
        return f"the lock is stale for {status.platform} ({'; '.join(status.reasons)}); run `provision lock`"
    return None
