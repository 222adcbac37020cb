"""Solve a profile's conda layer for one platform with py-rattler, through mirrors."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ToolFailed
from ..model import Profile
from ..profiles import virtual_packages
from .mirrors import Mirrors
from .records import LockedPackage

if TYPE_CHECKING:
    from rattler import Gateway, GenericVirtualPackage, RepoDataRecord


def _virtual(profile: Profile, platform: str) -> list[GenericVirtualPackage]:
    from rattler import BuildString, GenericVirtualPackage, PackageName, Version

    out = []
    for name, spec in virtual_packages(profile, platform).items():
        version, _, build = spec.partition("=")
        out.append(GenericVirtualPackage(PackageName(name), Version(version), BuildString(build or "0")))
    return out


def solve_conda(
    profile: Profile,
    platform: str,
    mirrors: Mirrors,
    cache_dir: Path,
    previous: Sequence[LockedPackage] = (),
    update: frozenset[str] = frozenset(),
) -> list[LockedPackage]:
    """Locked records for `platform`, with canonical URLs. `previous` versions are kept
    (as solver preferences) except for names in `update`."""
    from rattler import Gateway

    sources = [mirrors.source_for(c) for c in profile.channels]
    specs = [f"python {profile.python}.*", *profile.conda_for(platform)]
    gateway = Gateway(cache_dir=cache_dir)
    try:
        records = asyncio.run(_solve(sources, specs, gateway, platform, _virtual(profile, platform), previous, update))
    except Exception as exc:  # the solver's own exception types are not public API
        raise ToolFailed(_explain(profile, platform, str(exc))) from exc
    return [_to_locked(r, platform, profile, mirrors) for r in _topological(records)]


async def _solve(
    sources: list[str],
    specs: list[str],
    gateway: Gateway,
    platform: str,
    virtual: list[GenericVirtualPackage],
    previous: Sequence[LockedPackage],
    update: frozenset[str],
) -> list[RepoDataRecord]:
    from rattler import ChannelPriority, solve

    locked: list[RepoDataRecord] = []
    if previous:
        keep = {p.file_name for p in previous if p.name not in update}
        locked = await _records_named(gateway, sources, platform, {p.name for p in previous}, keep)
    return await solve(
        sources,
        specs,
        gateway=gateway,
        platforms=[platform, "noarch"],  # type: ignore[list-item]
        locked_packages=locked,
        virtual_packages=virtual,
        channel_priority=ChannelPriority.Strict,
    )


async def _records_named(
    gateway: Gateway, sources: list[str], platform: str, names: set[str], files: set[str]
) -> list[RepoDataRecord]:
    """The repodata records behind a previous lock's files, to hand to the solver as preferences."""
    from rattler import Channel

    found = await gateway.query(
        [Channel(s) for s in sources],
        [platform, "noarch"],  # type: ignore[list-item]
        list(names),
        recursive=False,
    )
    return [r for per_channel in found for r in per_channel if r.file_name in files]


def _topological(records: list[RepoDataRecord]) -> list[RepoDataRecord]:
    """Dependencies before dependents (the order installers link in), deterministic: rattler's own sort."""
    from rattler import PackageRecord

    by_name = {r.name.normalized: r for r in records}
    # rattler hands back plain PackageRecords; the solved records (with their URLs) are looked up by name.
    order = PackageRecord.sort_topologically(list[PackageRecord](records))
    return [by_name[record.name.normalized] for record in order]


def _to_locked(record: RepoDataRecord, platform: str, profile: Profile, mirrors: Mirrors) -> LockedPackage:
    channel = next((c for c in profile.channels if record.url.startswith(mirrors.source_for(c).rstrip("/") + "/")), "")
    url = mirrors.canonical_url(record.url, channel) if channel else record.url
    dependencies = {}
    for dep in record.depends:
        name, _, constraint = dep.partition(" ")
        dependencies[name] = constraint
    if record.md5 is None or record.sha256 is None:
        raise ToolFailed(f"{record.file_name}: the channel's repodata has no md5/sha256; it cannot be locked safely.")
    return LockedPackage(
        name=record.name.normalized,
        version=str(record.version),
        manager="conda",
        platform=platform,
        url=url,
        md5=record.md5.hex(),
        sha256=record.sha256.hex(),
        build=str(record.build),
        dependencies=dependencies,
        size=record.size,
    )


def _explain(profile: Profile, platform: str, message: str) -> str:
    """The solver's report, reduced to the lines that name the requested packages."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    requested = {"python", *(s.split()[0].split("::")[-1] for s in profile.conda_for(platform))}
    relevant = [line for line in lines if any(name in line for name in requested)] or lines[:3]
    summary = " / ".join(relevant[:4]).rstrip(".")
    return (
        f"profiles/{profile.name}.yaml: the conda layer cannot be solved for {platform}: {summary}. "
        "Relax the pins named here, or check the channels (and --mirror) hold these packages."
    )
