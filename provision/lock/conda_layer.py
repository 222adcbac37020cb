"""Solve a profile's conda layer for one platform with py-rattler, through mirrors."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ToolFailed
from ..profile.load import virtual_packages
from ..profile.model import Profile
from .mirrors import Mirrors, network_problem
from .records import LockedPackage

if TYPE_CHECKING:
    from rattler import Gateway, GenericVirtualPackage, MatchSpec, RepoDataRecord, Subdir


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
    constraints: Sequence[str] = (),
) -> list[LockedPackage]:
    """Locked records for `platform`, with canonical URLs. `previous` versions are kept
    (as solver preferences) except for names in `update`; `constraints` bound the versions of packages
    the solution pulls in without adding any (a solve group's shared versions)."""
    from rattler import Gateway

    from ..profile.conda_spec import parse_spec

    sources = [readable_source(mirrors.source_for(c), cache_dir) for c in profile.channels]
    # Parsed as the profile was validated (lenient, as conda reads them), never re-parsed strictly by
    # the solver; a `channel::` spec is pointed at that channel's mirror, as the sources are.
    asked = [f"python {profile.python}.*", *profile.conda_for(platform)]
    specs = [parse_spec(through_mirror(spec, mirrors)) for spec in asked]
    gateway = Gateway(cache_dir=cache_dir)
    try:
        records = asyncio.run(_solve(sources, specs, gateway, platform, _virtual(profile, platform), previous, update,
                                     [parse_spec(c) for c in constraints]))  # fmt: skip
    except Exception as exc:  # the solver's own exception types are not public API
        network = network_problem(str(exc), list(profile.channels))
        if network:
            raise ToolFailed(f"profiles/{profile.name}.yaml [{platform}]: {network}.") from None
        raise ToolFailed(_explain(profile, platform, str(exc))) from exc
    return [_to_locked(r, platform, profile, mirrors) for r in _topological(records)]


def readable_source(source: str, cache_dir: Path) -> str:
    """A mirror folder that holds only `repodata.json.zst` (as channels publish it): the solver reads
    plain `repodata.json` from a folder, so the decompressed copy goes to a folder of the cache whose
    package URLs are then those of the mirror (fetching still reads the mirror itself)."""
    from urllib.parse import unquote, urlparse

    import zstandard

    if not source.startswith("file://"):
        return source
    folder = Path(unquote(urlparse(source).path))
    packed = sorted(folder.glob("*/repodata.json.zst"))
    if not packed or all((p.parent / "repodata.json").is_file() for p in packed):
        return source
    shadow = cache_dir / "zst-mirrors" / hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    for path in packed:
        target = shadow / path.parent.name / "repodata.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        with path.open("rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as stream:
            document = json.loads(stream.read())
        # Package URLs are the channel's base URL + subdir + file: point them back at the mirror.
        document.setdefault("info", {})["base_url"] = f"{source.rstrip('/')}/{path.parent.name}/"
        target.write_text(json.dumps(document))
    return shadow.resolve().as_uri()


def through_mirror(spec: str, mirrors: Mirrors) -> str:
    """`pytorch::pytorch ==2.3.1` -> `<pytorch's mirror>::pytorch ==2.3.1` when that channel has a mirror,
    so the candidate comes from the channel the spec names (the lock keeps the canonical URL)."""
    channel, sep, rest = spec.partition("::")
    if not sep or channel.strip() not in mirrors.by_channel:
        return spec
    return f"{mirrors.source_for(channel.strip())}::{rest}"


async def _solve(
    sources: list[str],
    specs: list[MatchSpec],
    gateway: Gateway,
    platform: str,
    virtual: list[GenericVirtualPackage],
    previous: Sequence[LockedPackage],
    update: frozenset[str],
    constraints: list[MatchSpec],
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
        platforms=searched_subdirs(platform),
        locked_packages=locked,
        virtual_packages=virtual,
        channel_priority=ChannelPriority.Strict,
        constraints=constraints,
    )


def searched_subdirs(platform: str) -> list[Subdir]:
    """What a solve or a query for `platform` reads: its own subdir and noarch (rattler's typed names)."""
    from rattler import Subdir

    return [Subdir(platform), Subdir("noarch")]


async def _records_named(
    gateway: Gateway, sources: list[str], platform: str, names: set[str], files: set[str]
) -> list[RepoDataRecord]:
    """The repodata records behind a previous lock's files, to hand to the solver as preferences."""
    from rattler import Channel

    found = await gateway.query(
        [Channel(s) for s in sources],
        searched_subdirs(platform),
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
    named = [s.split("::", 1)[0].strip() for s in profile.conda_for(platform) if "::" in s]
    channels = [*profile.channels, *named]
    channel = next((c for c in channels if record.url.startswith(mirrors.source_for(c).rstrip("/") + "/")), "")
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
