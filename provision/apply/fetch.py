"""Every locked artifact, checked against the lock's hashes at the moment it is used.

The cache on disk is untrusted: anyone who can write there could swap an archive. So each use
copies the file (from the cache, or from the network) into a private staging folder while
hashing it, and the installers read only that staged, verified copy. A cached file that fails
is discarded and fetched again; a download that fails stops the apply with nothing changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlparse

from ..errors import ToolFailed
from ..files import open_regular
from ..lock.mirrors import Mirrors
from ..lock.records import LockedPackage

BLOCK = 1 << 20


class HashMismatch(ToolFailed):
    pass


def fetch_url(package: LockedPackage, channels: list[str], mirrors: Mirrors) -> str:
    """Where to download from: the mirror of the package's channel, or the locked URL itself."""
    if package.manager == "conda":
        for channel in channels:
            mirrored = mirrors.mirror_url(package.url, channel)
            if mirrored != package.url:
                return mirrored
    return package.url


def cache_key(package: LockedPackage) -> str:
    """The cache folder of an artifact: its sha256 (validated as 64 hex digits by the lock reader),
    or its md5 for early conda-lock files that carry nothing else."""
    return package.sha256 or f"md5-{package.md5}"


@contextmanager
def staging_area(cache: Path) -> Iterator[Path]:
    """A private folder (mode 0700) for this apply's verified copies, removed afterwards."""
    cache.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".staging-", dir=cache))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fetch_verified(
    package: LockedPackage, source: str, cache: Path, staging: Path, warn: Callable[[str], None] | None = None
) -> Path:
    """A copy of `package` whose sha256 (and md5, when the lock has one) matches the lock.

    Conda archives are staged (rattler reads the staged copy). A wheel's cached copy is checked in place and
    handed to uv; uv installs from its own cache of unpacked wheels without reading the file again, so what it
    installed is held to this verified wheel's RECORD afterwards (wheel_files.py)."""
    staged = staging / cache_key(package) / package.file_name
    staged.parent.mkdir(parents=True, exist_ok=True)
    cached = cache / cache_key(package) / package.file_name
    if cached.is_file() and not cached.is_symlink():
        if package.manager == "pip":
            with cached.open("rb") as stream:
                if _matches(stream, package):
                    return cached
        else:
            with cached.open("rb") as stream:
                if _copy_checked(stream, staged, package):
                    return staged
        cached.unlink(missing_ok=True)
        (warn or (lambda message: None))(
            f"{package.file_name}: the cached copy failed its hash check; fetching it again"
        )
    with _open_source(source) as stream:
        if not _copy_checked(stream, staged, package):
            raise HashMismatch(
                f"{package.file_name}: hash mismatch with the lock (sha256 {package.sha256[:12] or '-'}..., "
                f"md5 {package.md5 or '-'}) from {source}; the file was refused and nothing was installed."
            )
    _keep_in_cache(staged, cached)
    return staged


class _Hashes:
    """The lock's hashes of one artifact, computed as it streams by: sha256, and md5 only when the lock has one
    (early conda-lock files; a wheel never does), since each hash costs a pass over every byte."""

    def __init__(self, package: LockedPackage) -> None:
        self.package = package
        self.sha256 = hashlib.sha256()
        self.md5 = hashlib.md5() if package.md5 else None

    def update(self, block: bytes) -> None:
        self.sha256.update(block)
        if self.md5 is not None:
            self.md5.update(block)

    def match(self) -> bool:
        return _same(self.package, self.sha256.hexdigest(), self.md5.hexdigest() if self.md5 else "")


def _matches(stream: BinaryIO, package: LockedPackage) -> bool:
    hashes = _Hashes(package)
    for block in iter(lambda: stream.read(BLOCK), b""):
        hashes.update(block)
    return hashes.match()


def _same(package: LockedPackage, sha256: str, md5: str) -> bool:
    return (not package.sha256 or sha256 == package.sha256) and (not package.md5 or md5 == package.md5)


def _copy_checked(stream: BinaryIO, target: Path, package: LockedPackage) -> bool:
    """Copy `stream` to `target` while hashing; True (and `target` in place) when the hashes match."""
    hashes = _Hashes(package)
    tmp = target.with_name(f".{target.name}.part")
    with tmp.open("wb") as out:
        for block in iter(lambda: stream.read(BLOCK), b""):
            hashes.update(block)
            out.write(block)
    matches = hashes.match()
    if matches:
        os.replace(tmp, target)
    else:
        tmp.unlink(missing_ok=True)
    return matches


def _keep_in_cache(staged: Path, cached: Path) -> None:
    """Save a verified copy for next time (atomically: a reader never sees half a file)."""
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        root = os.path.realpath(cached.parent.parent)
        if os.path.dirname(os.path.realpath(cached.parent)) != root:
            return  # a folder of the cache replaced by a link elsewhere: never write through it
        fd, tmp = tempfile.mkstemp(prefix=".download-", dir=cached.parent)
        os.close(fd)
        shutil.copyfile(staged, tmp)
        os.replace(tmp, cached)
    except OSError:
        pass  # a cache that cannot be written only costs a download next time


@contextmanager
def _open_source(url: str) -> Iterator[BinaryIO]:
    parsed = urlparse(url)
    try:
        if parsed.scheme in ("", "file"):
            with open_regular(unquote(parsed.path)) as handle:
                yield handle
        else:
            import urllib.request  # only when something is downloaded: an apply from the cache never loads http

            with urllib.request.urlopen(url, timeout=60) as response:
                yield response
    except OSError as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
        raise ToolFailed(f"{url}: download failed ({reason}); check the network or the mirror.") from None
