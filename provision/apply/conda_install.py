"""Link exactly the locked conda records into the prefix with py-rattler (no solve).

rattler computes the transaction against conda-meta/, so an existing environment only
changes where the lock changed."""

from __future__ import annotations

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
        # A lock with no dependency edges (an @EXPLICIT list) says nothing: ask the package itself.
        python = "python" in package.dependencies if package.dependencies else _index_noarch(local) == "python"
        noarch = "python" if python else "generic"
    build = package.build or package.file_name.rsplit("-", 1)[-1].split(".")[0]
    record = PackageRecord(
        name=package.name,
        version=package.version,
        build=BuildString(build),
        build_number=_build_number(build),
        subdir=subdir,
        noarch=noarch,  # type: ignore[arg-type]
        depends=depends,
        # md5-only locks (explicit lists, early conda-lock): the copy was verified by its md5 already.
        sha256=bytes.fromhex(package.sha256 or _sha256(local)),
        md5=bytes.fromhex(package.md5) if package.md5 else None,
    )
    channel = next((c for c in channels if package.url.startswith(canonical_channel_url(c) + "/")), "")
    # A foreign lock may list a package from outside its channels: the URL's own channel is recorded
    # (rattler needs one; an empty one is "a relative URL without a base").
    where = canonical_channel_url(channel) if channel else package.url.rsplit("/", 2)[0]
    return RepoDataRecord(record, package.file_name, local.as_uri(), where)


def install_conda(
    prefix: Path, packages: list[tuple[LockedPackage, Path]], channels: list[str], cache: Path,
    reinstall: set[str] | None = None, keep: set[str] | None = None,
) -> None:  # fmt: skip
    """Link exactly `packages`: rattler removes what the lock lacks (except `keep`, --keep-extras)
    and links again `reinstall` (modified files, another build at the same version)."""
    import asyncio  # here, with rattler: a venv's apply needs neither (16 ms)

    from rattler import install

    records = [_record(package, local, channels) for package, local in packages]
    try:
        asyncio.run(install(
            records, target_prefix=prefix, cache_dir=cache, show_progress=False,
            reinstall_packages=set(reinstall or ()) or None, ignored_packages=set(keep or ()) or None,
        ))  # fmt: skip
    except Exception as exc:  # rattler's exception types are not public API
        # rattler's first line names the package; the cause (a full disk, a permission) is further down.
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        cause = f" ({lines[-1]})" if len(lines) > 1 else ""
        raise ToolFailed(f"{prefix}: linking the conda layer failed: {lines[0] if lines else exc!r}{cause}") from exc


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _index_noarch(archive: Path) -> str | None:
    """`noarch` from the package's own info/index.json (a verified, member-checked archive)."""
    import bz2
    import io
    import json
    import tarfile
    import zipfile

    import zstandard

    try:
        if archive.name.endswith(".conda"):
            with zipfile.ZipFile(archive) as outer:
                name = next(n for n in outer.namelist() if n.startswith("info-") and n.endswith(".tar.zst"))
                raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(outer.read(name))).read()
        else:
            raw = bz2.decompress(archive.read_bytes())
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            member = tar.extractfile("info/index.json")
            data = json.loads(member.read(1 << 20)) if member else {}
    except (OSError, KeyError, StopIteration, ValueError, tarfile.TarError, zipfile.BadZipFile):
        return None
    value = data.get("noarch") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None
