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
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import LockfileError, TeamSideMissing
from ..files import NotRegularFile, TooLarge, read_capped
from ..profile.yamlsrc import strict_yaml_in
from .explicit import explicit_document, is_explicit
from .records import MAIN, LockedPackage
from .validate import RELOCK, Rules, validate_document

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

    @property
    def categories(self) -> list[str]:
        found = {c for p in self.packages for c in p.categories}
        return sorted(found, key=lambda c: (c != MAIN, c))

    def in_categories(self, wanted: frozenset[str], where: str) -> LockData:
        """Only the packages of the `wanted` categories, as `conda-lock install` installs `main` unless
        asked for more; a category the lock does not have is an error naming those it has."""
        unknown = sorted(wanted - set(self.categories) - {MAIN})  # main is implied, even for a dev-only lock
        if unknown:
            raise LockfileError(where, f"no category {', '.join(unknown)} in this lock",
                                f"it has {', '.join(self.categories) or 'no packages'}")  # fmt: skip
        return replace(self, packages=[p for p in self.packages if p.categories & wanted])


def require_writer() -> None:
    """Locks are written with conda-lock, a team-side package a node's packed provision does not carry: say so
    before any solve, not after."""
    import importlib.util

    if importlib.util.find_spec("conda_lock") is None:
        raise TeamSideMissing("writing a lock", "conda-lock")


def write_lock(path: Path, data: LockData, header: str) -> None:
    """Atomically replace `path` with `data`, via conda-lock's models and writer."""
    require_writer()
    search_path = list(sys.path)
    from conda_lock.lockfile import write_conda_lock_file
    from conda_lock.lockfile.v1.models import HashModel, LockMeta
    from conda_lock.lockfile.v2prelim.models import LockedDependency, Lockfile
    from conda_lock.models.channel import Channel

    # conda-lock's vendored poetry puts its own folder first on sys.path, where an older tomli (TOML 1.0) would
    # then shadow ours for every later import in this process (`init --from pixi.toml` after a lock).
    sys.path[:] = search_path

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


# Our locks are well under 1 MB; a foreign lock past this is refused before it is parsed, so a
# hostile size answers at once. PROVISION_MAX_LOCK_MB raises it for a team with a huge lock.
MAX_LOCK_MB = 20


def read_lock(path: Path, shown: str | None = None, rules: Rules | None = None) -> LockData:
    """Parse and validate a lock: conda-lock.yml v1 of any era (ours or conda-lock's) or an
    `@EXPLICIT` list, told apart by content, not by name. Errors name the file, the package (or
    line) and the field, and nothing has been fetched or changed when they are raised; a file of
    another kind (a pixi.lock, an environment file) is named as what it is, with the command for it."""
    where = shown or str(path)
    text = _read_text(path, where)
    if is_explicit(text):
        meta, packages = explicit_document(text, where, rules or Rules())
    else:
        document = strict_yaml_in(text, where, RELOCK, LockfileError)
        _not_another_kind(document, where)
        meta, packages = validate_document(document, where, rules or Rules())
    return LockData(
        platforms=list(meta["platforms"]),
        channels=[c if isinstance(c, str) else c["url"] for c in meta.get("channels") or []],
        sources=[str(s) for s in meta.get("sources") or []],
        content_hash=dict(meta.get("content_hash") or {}),
        custom=dict(meta.get("custom_metadata") or {}),
        packages=packages,
    )


PIXI_EXPORT = "pixi workspace export conda-explicit-spec DIR"


def _not_another_kind(document: Any, where: str) -> None:
    """One line for the files people hand to --lockfile that are not locks provision installs."""
    if not isinstance(document, dict) or document.get("version") == 1:
        return
    if "environments" in document and "packages" in document:
        fix = f"export it with `{PIXI_EXPORT}`, then give --lockfile one of the files it writes"
        raise LockfileError(where, f"a pixi.lock (version {document.get('version')}), not a conda-lock file", fix)
    if "subdirs" in document and "version" not in document:
        fix = "set the profile's `requires:` (cuda_driver, glibc, macos) or `virtual_packages:` instead"
        raise LockfileError(where, "a conda-lock virtual-package spec (--virtual-package-spec), not a lock", fix)
    if "dependencies" in document and "version" not in document:
        fix = "make a profile of it with `provision init NAME --from FILE`, then `provision lock NAME`"
        raise LockfileError(where, "a conda environment file, not a lock", fix)


def _read_text(path: Path, where: str) -> str:
    limit_mb = _limit_mb(where)
    try:
        raw = read_capped(path, limit_mb * 1_000_000)
    except FileNotFoundError:
        raise LockfileError(where, "no lockfile", "run `provision lock`") from None
    except NotRegularFile:
        raise LockfileError(where, "not a regular file", "give the path of a conda-lock.yml file") from None
    except TooLarge:
        fix = "set PROVISION_MAX_LOCK_MB if this lock is trusted"
        raise LockfileError(where, f"larger than {limit_mb} MB", fix) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise LockfileError(where, f"cannot read it ({reason})", "check the path and its permissions") from None
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")  # a BOM, as Windows editors write it, is no content
    except UnicodeDecodeError:
        raise LockfileError(where, "not UTF-8 text", RELOCK) from None


def _limit_mb(where: str) -> int:
    raw = os.environ.get("PROVISION_MAX_LOCK_MB", "")
    if not raw:
        return MAX_LOCK_MB
    if not raw.isdigit() or int(raw) == 0:
        raise LockfileError(where, f"PROVISION_MAX_LOCK_MB={raw!r} is not a positive number", "set it to e.g. 50")
    return int(raw)
