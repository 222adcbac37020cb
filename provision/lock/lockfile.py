"""conda-lock.yml (version 1): written through conda-lock's own models, read by our own code.

Writing uses conda-lock's pydantic models and writer so the file is exactly what
`conda-lock install`, `conda-lock render` and micromamba expect. Reading is ours and
light (no conda-lock import), so `lock --check` and `apply` stay fast; it also reads
files written by conda-lock itself, including the early 2022 layout.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .. import __version__
from ..errors import ProfileError
from .records import LockedPackage

KEY_PREFIX = "provision."


def inputs_key(platform: str) -> str:
    """custom_metadata key of the request a platform was locked for (what `lock --check` diffs)."""
    return f"{KEY_PREFIX}inputs.{platform}"


def size_key(platform: str) -> str:
    """custom_metadata key of the platform's total download size in bytes (for the disk preflight)."""
    return f"{KEY_PREFIX}download_bytes.{platform}"


def python_key(platform: str) -> str:
    """custom_metadata key of the interpreter version a platform's PyPI layer was resolved for."""
    return f"{KEY_PREFIX}python.{platform}"


@dataclass
class LockData:
    """What a lockfile holds, in our terms."""

    platforms: list[str]
    channels: list[str]
    sources: list[str]
    content_hash: dict[str, str]
    custom: dict[str, str] = field(default_factory=dict)
    packages: list[LockedPackage] = field(default_factory=list)

    def inputs(self, platform: str) -> dict[str, Any] | None:
        raw = self.custom.get(inputs_key(platform))
        return json.loads(raw) if raw else None

    def download_bytes(self, platform: str) -> int | None:
        raw = self.custom.get(size_key(platform))
        return int(raw) if raw and raw.isdigit() else None

    def python_version(self, platform: str) -> str | None:
        return self.custom.get(python_key(platform))

    def for_platform(self, platform: str) -> list[LockedPackage]:
        return [p for p in self.packages if p.platform == platform]


def write_lock(path: Path, data: LockData, header: str) -> None:
    """Atomically replace `path` with `data`, via conda-lock's models and writer."""
    from conda_lock.lockfile import write_conda_lock_file
    from conda_lock.lockfile.v1.models import HashModel, LockMeta
    from conda_lock.lockfile.v2prelim.models import LockedDependency, Lockfile
    from conda_lock.models.channel import Channel

    packages = [
        LockedDependency(
            name=p.name,
            version=p.version,
            manager=p.manager,
            platform=p.platform,
            dependencies=dict(p.dependencies),
            url=p.url,
            hash=HashModel(md5=p.md5, sha256=p.sha256),
            build=p.build,
            categories={"main"},
        )
        for p in data.packages
    ]
    meta = LockMeta(
        content_hash=dict(data.content_hash),
        channels=[Channel.from_string(c) for c in data.channels],
        platforms=list(data.platforms),
        sources=list(data.sources),
        custom_metadata={**data.custom, f"{KEY_PREFIX}version": __version__},
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # A private folder beside the target: conda-lock names the file in its header, so the
    # temporary file must already carry the final name; the rename is atomic on one filesystem.
    folder = Path(tempfile.mkdtemp(prefix=".provision-lock-", dir=path.parent))
    tmp = folder / path.name
    try:
        write_conda_lock_file(Lockfile(package=packages, metadata=meta), tmp, metadata_choices=set())
        text = tmp.read_text(encoding="utf-8")
        tmp.write_text(f"{header}\n{text}", encoding="utf-8")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def read_lock(path: Path, shown: str | None = None) -> LockData:
    """Parse a conda-lock.yml v1 file (ours or conda-lock's); errors name the file and the fix."""
    where = shown or str(path)
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except FileNotFoundError:
        raise ProfileError(f"{where}: no lockfile; run `provision lock`.") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ProfileError(
            f"{where}: unreadable lockfile ({type(exc).__name__}); run `provision lock` again."
        ) from None
    if not isinstance(document, dict) or document.get("version") != 1 or "metadata" not in document:
        raise ProfileError(f"{where}: not a conda-lock version 1 file; re-create it with `provision lock`.")
    try:
        meta = document["metadata"]
        return LockData(
            platforms=list(meta["platforms"]),
            channels=[c if isinstance(c, str) else c["url"] for c in meta.get("channels", [])],
            sources=list(meta.get("sources", [])),
            content_hash=dict(meta.get("content_hash", {})),
            custom=dict(meta.get("custom_metadata") or {}),
            packages=_unique([_package(p) for p in document.get("package") or []]),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ProfileError(
            f"{where}: malformed lockfile (missing {exc}); re-create it with `provision lock`."
        ) from None


def _unique(packages: list[LockedPackage]) -> list[LockedPackage]:
    """conda-lock writes one entry per category; install each package once."""
    seen: dict[tuple[str, str, str], LockedPackage] = {}
    for package in packages:
        seen.setdefault((package.platform, package.manager, package.name), package)
    return list(seen.values())


def _package(entry: dict[str, Any]) -> LockedPackage:
    hashes = entry.get("hash") or {}
    return LockedPackage(
        name=str(entry["name"]),
        version=str(entry["version"]),
        manager=entry.get("manager", "conda"),
        platform=str(entry["platform"]),
        url=str(entry["url"]),
        sha256=str(hashes.get("sha256") or ""),
        md5=hashes.get("md5"),
        build=entry.get("build"),
        dependencies={str(k): str(v) for k, v in (entry.get("dependencies") or {}).items()},
    )
