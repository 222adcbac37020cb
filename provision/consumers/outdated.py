"""`provision outdated`: locked packages with newer versions, and whether the profile allows them.

Per package: the locked version, the newest the profile's specs allow, and the newest there is.
Conda versions come from the channels' repodata (through the machine's mirrors); PyPI versions
from two uv resolutions: the profile's requirements as written, and with every pin taken off."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from ..lock.lockfile import LockData
from ..lock.mirrors import Mirrors
from ..lock.records import LockedPackage
from ..profile.merge import conda_name, pypi_name
from ..profile.model import Profile

DEPENDENCY = "(dependency)"  # not asked for by the profile: it moves when what needs it moves


@dataclass(frozen=True)
class Outdated:
    name: str
    layer: str
    locked: str
    allowed: str  # the newest the profile's specs allow
    newest: str

    @property
    def held_back(self) -> bool:
        """A newer version exists that the profile's pins do not allow."""
        return self.allowed not in (self.newest, DEPENDENCY)


def outdated(
    profile: Profile, lock: LockData, platform: str, mirrors: Mirrors, cache: Path, project_root: Path
) -> list[Outdated]:
    packages = lock.for_platform(platform)
    # The Python the lock's PyPI layer was resolved for (the conda layer's, or the profile's).
    python = lock.python_version(platform) or profile.python or "3"
    return _conda(profile, platform, packages, mirrors, cache) + _pypi(
        profile, platform, packages, python, project_root
    )


def _conda(
    profile: Profile, platform: str, packages: list[LockedPackage], mirrors: Mirrors, cache: Path
) -> list[Outdated]:
    from rattler import Channel, Gateway, MatchSpec

    from ..errors import ToolFailed
    from ..lock.conda_layer import searched_subdirs
    from ..lock.mirrors import network_problem

    locked = {p.name: p for p in packages if p.manager == "conda"}
    if not locked:
        return []
    sources = [Channel(mirrors.source_for(c)) for c in profile.channels]
    try:
        found = asyncio.run(Gateway(cache_dir=cache).query(
            sources, searched_subdirs(platform), list(locked), recursive=False
        ))  # fmt: skip
    except Exception as exc:  # rattler's gateway errors are not public types
        network = network_problem(str(exc), list(profile.channels))
        raise ToolFailed(f"profiles/{profile.name}.yaml [{platform}]: "
                         f"{network or 'the channels could not be read: ' + str(exc).splitlines()[0]}.") from None
    specs = {conda_name(s): MatchSpec(s) for s in [f"python {profile.python}.*", *profile.conda_for(platform)]}
    out = []
    for name, package in sorted(locked.items()):
        records = [r for per_channel in found for r in per_channel if r.name.normalized == name]
        if not records:
            continue
        newest = max(records, key=lambda r: r.version)
        spec = specs.get(name)
        # Only what the profile asks for has a spec to judge by; a dependency moves with its parents.
        allowed_records = [r for r in records if spec is not None and spec.matches(r)]
        allowed = str(max(allowed_records, key=lambda r: r.version).version) if allowed_records else DEPENDENCY
        if str(newest.version) != package.version:
            out.append(Outdated(name, "conda", package.version, allowed, str(newest.version)))
    return out


def _pypi(
    profile: Profile, platform: str, packages: list[LockedPackage], python: str, project_root: Path
) -> list[Outdated]:
    from ..lock.pypi_layer import conda_python_packages, resolve_pypi

    locked = {p.name: p for p in packages if p.manager == "pip"}
    if not locked:
        return []
    provided = conda_python_packages([p for p in packages if p.manager == "conda"])
    allowed = {p.name: p.version for p in resolve_pypi(profile, platform, python, provided, project_root)}
    names = [pypi_name(r) for r in profile.pypi_for(platform)]
    unpinned = profile.model_copy(update={"pypi": profile.pypi.model_copy(update={"packages": names}), "targets": {}})
    newest = {p.name: p.version for p in resolve_pypi(unpinned, platform, python, provided, project_root)}
    return [
        Outdated(name, "pypi", package.version, allowed.get(name, package.version), newest.get(name, package.version))
        for name, package in sorted(locked.items())
        if newest.get(name, package.version) != package.version or allowed.get(name, package.version) != package.version
    ]
