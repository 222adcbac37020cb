"""Download every locked artifact into a cache and check its hash before anything is installed.

Installers see only local, verified files, so a tampered or corrupted package is refused
while the prefix is still untouched.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..errors import ToolFailed
from ..lock.mirrors import Mirrors
from ..lock.records import LockedPackage


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


def _digest(path: Path) -> tuple[str, str]:
    sha256, md5 = hashlib.sha256(), hashlib.md5()  # md5 only because conda locks carry it
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha256.update(block)
            md5.update(block)
    return sha256.hexdigest(), md5.hexdigest()


def _copy_from(url: str, target: Path) -> None:
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        shutil.copyfile(unquote(parsed.path), target)
        return
    try:
        with urllib.request.urlopen(url, timeout=60) as response, target.open("wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
    except OSError as exc:
        raise ToolFailed(f"{url}: download failed ({exc}); check the network or the mirror.") from exc


def fetch_verified(package: LockedPackage, source: str, cache: Path) -> Path:
    """A local copy of `package` whose sha256 (and md5, for conda) matches the lock."""
    target = cache / package.sha256 / package.file_name
    if target.is_file():
        return target  # only verified files are ever renamed into the cache
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".download-", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _copy_from(source, tmp)
        sha256, md5 = _digest(tmp)
        if sha256 != package.sha256 or (package.md5 and md5 != package.md5):
            raise HashMismatch(
                f"{package.file_name}: hash mismatch (lock sha256 {package.sha256[:12]}..., got {sha256[:12]}...) "
                f"from {source}; the file was refused and nothing was installed."
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
