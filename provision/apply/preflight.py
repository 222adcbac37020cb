"""Checks before anything is touched. Pure: facts in, problems out; each one line with the fix."""

from __future__ import annotations

from packaging.version import Version

from ..host import HostFacts
from ..lock.freshness import PlatformStatus
from ..model import Profile

# Installed size on disk relative to the downloaded archives (compressed .conda, wheels).
EXPANSION = 3


def host_problems(profile: Profile | None, host: HostFacts, platforms: list[str]) -> list[str]:
    problems = []
    if host.system == "Darwin" and host.apple_silicon and (host.translated or host.machine != "arm64"):
        problems.append(
            "this Python runs as x86_64 under Rosetta on Apple silicon; install a native arm64 Python "
            "(e.g. `brew install python@3.11` from /opt/homebrew, or Miniforge arm64) and run provision with it"
        )
    elif host.subdir not in platforms:
        problems.append(
            f"this machine is {host.subdir or host.system + '/' + host.machine}, "
            f"this environment is for {', '.join(platforms)}; "
            "add the platform to the profile and run `provision lock`, or use another profile"
        )
    if profile is None:
        return problems
    needs = profile.requires
    if needs.macos and host.system == "Darwin" and host.macos and Version(host.macos) < Version(needs.macos):
        problems.append(f"macOS {host.macos} is older than the {needs.macos} this profile needs; update macOS")
    if needs.memory_gb and host.memory_bytes and host.memory_bytes < needs.memory_gb * 1e9 * 0.95:
        problems.append(
            f"this machine has {host.memory_bytes / 1e9:.1f} GB of memory, the profile needs {needs.memory_gb:g} GB"
        )
    if needs.cuda_driver and host.system == "Linux":
        if host.cuda_driver is None:
            problems.append(
                f"no NVIDIA driver found (nvidia-smi); this profile needs one supporting CUDA {needs.cuda_driver}"
            )
        elif Version(host.cuda_driver) < Version(needs.cuda_driver):
            problems.append(
                f"the NVIDIA driver supports CUDA {host.cuda_driver}, the profile needs {needs.cuda_driver}; "
                "update the driver"
            )
    if needs.glibc and host.glibc and Version(host.glibc) < Version(needs.glibc):
        problems.append(f"glibc {host.glibc} is older than the {needs.glibc} this profile needs")
    return problems


def disk_problem(download_bytes: int | None, free_bytes: int) -> str | None:
    if download_bytes and download_bytes * EXPANSION > free_bytes:
        need = download_bytes * EXPANSION / 1e9
        return f"{free_bytes / 1e9:.1f} GB free, the environment needs about {need:.1f} GB; free some disk space"
    return None


def lock_problem(status: PlatformStatus | None) -> str | None:
    if status is not None and not status.fresh:
        return f"the lock is stale for {status.platform} ({'; '.join(status.reasons)}); run `provision lock`"
    return None
