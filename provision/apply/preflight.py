"""Checks before anything is touched. Pure: facts in, problems out; each one line with the fix."""

from __future__ import annotations

from ..lock.freshness import PlatformStatus
from ..lock.records import LockedPackage
from ..machine.facts import HostFacts
from ..machine.requirements import Severity, blocking, for_requirements
from ..profile.model import Requires

# Installed size on disk relative to the downloaded archives (compressed .conda, wheels).
EXPANSION = 3


def host_problems(needs: Requires, host: HostFacts, platforms: list[str]) -> list[str]:
    """What stops an apply here, one line each with its fix (the rules are requirements.py's)."""
    return blocking(for_requirements(needs, host, platforms))


def host_warnings(needs: Requires, host: HostFacts, platforms: list[str]) -> list[str]:
    """What apply allows but says (e.g. Rosetta with `arm64_native: false`)."""
    return [f.line() for f in for_requirements(needs, host, platforms) if f.severity is Severity.WARNING]


def cuda_problem(packages: list[LockedPackage], host: HostFacts, say_missing_driver: bool = True) -> list[str]:
    """The lock's CUDA runtime against this machine's NVIDIA driver, before anything changes."""
    from ..lock.variant import cuda_runtime
    from ..machine.nvidia import driver_problem

    found = cuda_runtime(packages)
    if found is None or host.system != "Linux":
        return []
    runtime, where = found
    if host.cuda_driver is None:
        if not say_missing_driver:
            return []
        return [f"the lock's CUDA runtime is {runtime} ({where}), but no NVIDIA driver was found (nvidia-smi); "
                f"install one, or set CONDA_OVERRIDE_CUDA to build for another machine"]  # fmt: skip
    problem = driver_problem(runtime, where, host.cuda_driver, host.nvidia_driver)
    return [problem] if problem else []


def disk_problem(download_bytes: int | None, free_bytes: int, total_bytes: int | None = None,
                 where: str = "") -> str | None:  # fmt: skip
    """Room for the environment on the filesystem of `where`; a filesystem with no storage at all (/proc, /sys)
    is named as such, not as one to free space on."""
    if total_bytes == 0:
        return f"{where} is on a filesystem that stores nothing (such as /proc or /sys); pass --prefix on a disk"
    if download_bytes and download_bytes * EXPANSION > free_bytes:
        need = download_bytes * EXPANSION / 1e9
        return f"{free_bytes / 1e9:.1f} GB free, the environment needs about {need:.1f} GB; free some disk space"
    return None


def lock_problem(status: PlatformStatus | None) -> str | None:
    if status is not None and not status.fresh:
        return f"the lock is stale for {status.platform} ({'; '.join(status.reasons)}); run `provision lock`"
    return None
