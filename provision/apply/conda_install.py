"""Link exactly the locked conda records into the prefix with py-rattler (no solve).

rattler computes the transaction against conda-meta/, so an existing environment only
changes where the lock changed."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ToolFailed
from ..lock.mirrors import canonical_channel_url
from ..lock.records import LockedPackage

if TYPE_CHECKING:
    from rattler import RepoDataRecord


def _build_number(build: str) -> int:
    # conda-forge build strings end in `_<number>` (py311h4268184_0) or carry it before a
    # variant suffix (h932a869_0_cpython); the lock format keeps no separate field for it.
    numbers = re.findall(r"_(\d+)(?=_|$)", build)
    return int(numbers[0]) if numbers else 0


def _record(package: LockedPackage, local: Path, channels: list[str]) -> RepoDataRecord:
    from rattler import BuildString, PackageRecord, RepoDataRecord

    subdir = package.url.rsplit("/", 2)[-2]
    depends = [f"{name} {spec}".strip() for name, spec in package.dependencies.items()]
    noarch = None
    if subdir == "noarch":
        noarch = "python" if "python" in package.dependencies else "generic"
    build = package.build or package.file_name.rsplit("-", 1)[-1].split(".")[0]
    record = PackageRecord(
        name=package.name,
        version=package.version,
        build=BuildString(build),
        build_number=_build_number(build),
        subdir=subdir,
        noarch=noarch,  # type: ignore[arg-type]
        depends=depends,
        sha256=bytes.fromhex(package.sha256),
        md5=bytes.fromhex(package.md5) if package.md5 else None,
    )
    channel = next((c for c in channels if package.url.startswith(canonical_channel_url(c) + "/")), "")
    return RepoDataRecord(record, package.file_name, local.as_uri(), canonical_channel_url(channel) if channel else "")


def install_conda(
    prefix: Path, packages: list[tuple[LockedPackage, Path]], channels: list[str], cache: Path,
    reinstall: set[str] | None = None, keep: set[str] | None = None,
) -> None:  # fmt: skip
    """Link exactly `packages`: rattler removes what the lock lacks (except `keep`, --keep-extras)
    and links again `reinstall` (modified files, another build at the same version)."""
    from rattler import install

    records = [_record(package, local, channels) for package, local in packages]
    try:
        asyncio.run(install(
            records, target_prefix=prefix, cache_dir=cache, show_progress=False,
            reinstall_packages=set(reinstall or ()) or None, ignored_packages=set(keep or ()) or None,
        ))  # fmt: skip
    except Exception as exc:  # rattler's exception types are not public API
        raise ToolFailed(f"{prefix}: linking the conda layer failed: {str(exc).splitlines()[0]}") from exc
