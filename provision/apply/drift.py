"""How an environment differs from its lock: one Drift value per difference and layer. Pure
except for the deep check (`file_drift`), which hashes installed files against each package's own
record (conda's paths_data, a wheel's RECORD)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import stat
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.utils import canonicalize_name

from ..lock.records import LockedPackage
from .state import OURS, InstalledState


class Layer(Enum):
    CONDA = "conda"
    PYPI = "pypi"
    PREFIX = "prefix"  # files of no package (accounting.py)


class DriftKind(Enum):
    MISSING = "missing"
    CHANGED = "changed"  # another version or build than the lock's
    EXTRA = "extra"  # installed outside the lock
    FOREIGN = "foreign"  # the locked version, but put there by another installer
    FILES = "files"  # installed files differ from the package's own record
    UNACCOUNTED = "unaccounted"  # a file of no package, or one of provision's own changed (accounting.py)


@dataclass(frozen=True)
class Drift:
    layer: Layer
    kind: DriftKind
    name: str
    locked: str | None = None
    installed: str | None = None
    files: tuple[str, ...] = ()
    note: str = ""

    def line(self) -> str:
        where = f"({self.layer.value})"
        if self.kind is DriftKind.UNACCOUNTED:
            from ..grammar import printable

            return f"{printable(self.name)}: {self.note} {where}"
        if self.kind is DriftKind.MISSING:
            return f"{self.name} {self.locked} missing {where}"
        if self.kind is DriftKind.CHANGED:
            return f"{self.name} {self.installed} installed, the lock has {self.locked} {where}"
        if self.kind is DriftKind.EXTRA:
            return f"{self.name} {self.installed} installed outside the lock {where}"
        if self.kind is DriftKind.FOREIGN:
            return f"{self.name} {self.installed} installed by {self.files[0]}, not from the lock {where}"
        shown = ", ".join(self.files[:5]) + (f" and {len(self.files) - 5} more" if len(self.files) > 5 else "")
        return f"{self.name} {self.installed}: {len(self.files)} file(s) modified or missing: {shown} {where}"

    def as_dict(self) -> dict[str, Any]:
        return {"layer": self.layer.value, "kind": self.kind.value, "name": self.name, "locked": self.locked,
                "installed": self.installed, "files": list(self.files), "line": self.line()}  # fmt: skip


def compare(
    packages: list[LockedPackage], state: InstalledState, editable: frozenset[str] = frozenset()
) -> list[Drift]:
    """Every difference between the lock (for this platform) and what the prefix holds; `editable`
    names the profile's own projects, expected installed (at whatever version) and never extras."""
    return _conda_drift(packages, state) + _pypi_drift(packages, state, editable)


def _conda_drift(packages: list[LockedPackage], state: InstalledState) -> list[Drift]:
    locked = {p.name: p for p in packages if p.manager == "conda"}
    out = []
    for name, package in sorted(locked.items()):
        record = state.conda.get(name)
        wanted = f"{package.version}-{package.build}" if package.build else package.version
        if record is None:
            out.append(Drift(Layer.CONDA, DriftKind.MISSING, name, locked=package.version))
        elif (
            record.version != package.version
            or (package.build and record.build != package.build)
            or (package.sha256 and record.sha256 and record.sha256 != package.sha256)
        ):
            out.append(Drift(Layer.CONDA, DriftKind.CHANGED, name, wanted, f"{record.version}-{record.build}"))
    for name, record in sorted(state.conda.items()):
        if name not in locked:
            out.append(Drift(Layer.CONDA, DriftKind.EXTRA, name, installed=record.version))
    return out


def _pypi_drift(packages: list[LockedPackage], state: InstalledState, editable: frozenset[str]) -> list[Drift]:
    locked = {canonicalize_name(p.name): p for p in packages if p.manager == "pip"}
    owned_by_conda = state.conda_owned_dist_infos
    out = [Drift(Layer.PYPI, DriftKind.MISSING, name, locked="(editable)") for name in sorted(editable)
           if name not in state.pypi]  # fmt: skip
    for name, package in sorted(locked.items()):
        dist = state.pypi.get(name)
        if dist is None:
            out.append(Drift(Layer.PYPI, DriftKind.MISSING, package.name, locked=package.version))
        elif dist.version != package.version:
            out.append(Drift(Layer.PYPI, DriftKind.CHANGED, package.name, package.version, dist.version))
        elif package.git_commit and dist.commit != package.git_commit:
            commit = f"from commit {dist.commit[:12]}" if dist.commit else "(no commit)"
            installed = f"{dist.version} {commit}"
            out.append(Drift(Layer.PYPI, DriftKind.CHANGED, package.name, package.pin, installed))
        elif dist.installer != OURS:
            out.append(Drift(Layer.PYPI, DriftKind.FOREIGN, package.name, package.version, dist.version,
                             (dist.installer,)))  # fmt: skip
    for dist_name, dist in sorted(state.pypi.items()):
        conda_made = dist.installer == "conda" or dist.dist_info.name in owned_by_conda
        if dist_name not in locked and dist_name not in editable and not conda_made:
            out.append(Drift(Layer.PYPI, DriftKind.EXTRA, dist_name, installed=dist.version))
    return out


def file_drift(prefix: Path, state: InstalledState) -> list[Drift]:
    """The deep check: each installed file against its package's record (sha256 and size)."""
    out = []
    for conda_name, record in sorted(state.conda.items()):
        bad = _conda_files(prefix, record.record)
        if bad:
            out.append(Drift(Layer.CONDA, DriftKind.FILES, conda_name, installed=record.version, files=tuple(bad)))
    for name, dist in sorted(state.pypi.items()):
        if dist.installer == "conda":
            continue  # conda's record covers it
        bad = _wheel_files(prefix, dist.dist_info)
        if bad:
            out.append(Drift(Layer.PYPI, DriftKind.FILES, name, installed=dist.version, files=tuple(bad)))
    return out


def _inside(prefix: Path, relative: str) -> Path | None:
    """The path a record names, or None when it would leave the prefix (a hostile record)."""
    parts = PurePosixPath(relative).parts
    if relative.startswith("/") or ".." in parts:
        return None
    return prefix.joinpath(*parts)


BLOCK = 1 << 20


def file_sha256(path: Path | None, size: int | None = None) -> Any:
    """The sha256 (a hashlib object) of a regular file of `size` (any size when None), else None: not a link,
    never waited on (a FIFO is opened without blocking), read in blocks, one open and one fstat per file, as
    thousands are checked at each install."""
    if path is None:
        return None
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None  # missing, a link, or unreadable
    with open(descriptor, "rb", buffering=0) as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or (size is not None and info.st_size != size):
            return None
        digest = hashlib.sha256()
        block = bytearray(min(BLOCK, max(info.st_size, 1)))  # a small file's own size: no megabyte zeroed per file
        view = memoryview(block)
        while read := handle.readinto(block):
            digest.update(view[:read])
        return digest


def _conda_files(prefix: Path, record_path: Path) -> list[str]:
    try:
        data = json.loads(record_path.read_text(encoding="utf-8"))
        entries = data["paths_data"]["paths"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    bad = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("path_type") not in ("hardlink", "softlink", None):
            continue  # folders carry no hash
        relative = str(entry.get("_path", ""))
        expected = entry.get("sha256_in_prefix") or entry.get("sha256")
        if not expected:
            continue
        if entry.get("path_type") == "softlink":
            ok = _link_ok(prefix, _inside(prefix, relative), expected, not entry.get("sha256_in_prefix"))
        else:
            size = entry.get("size_in_bytes") if not entry.get("sha256_in_prefix") else None
            found = file_sha256(_inside(prefix, relative), size)
            ok = found is not None and found.hexdigest() == expected
        if not ok:
            bad.append(relative)
    return bad


def _link_ok(prefix: Path, path: Path | None, expected: str, content_hash: bool) -> bool:
    """A softlink against its record: rattler (which links every conda layer provision makes) records the
    sha256 of the link's own text, so a link pointed elsewhere is seen and relinked by --repair-files. conda
    records the hash of the file linked to: a record with no `sha256_in_prefix` may be that, and is also taken
    when the link leads to a regular file inside the prefix with that content (never one outside it, nor read
    through a FIFO)."""
    if path is None or not path.is_symlink():
        return False
    if _sha256(os.fsencode(os.readlink(path))) == expected:
        return True
    target = Path(os.path.realpath(path))
    inside = Path(os.path.realpath(prefix)) in target.parents
    found = file_sha256(target) if content_hash and inside else None
    return found is not None and found.hexdigest() == expected


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _wheel_files(prefix: Path, dist_info: Path) -> list[str]:
    try:
        rows = record_rows((dist_info / "RECORD").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, csv.Error):
        return [f"{dist_info.name}/RECORD"]
    return record_mismatches(prefix, dist_info.parent, rows)


@dataclass(frozen=True)
class RecordRow:
    """One file a wheel's RECORD names, with the content it must have."""

    path: str  # relative to site-packages, as RECORD writes it (it may climb to bin/: `../../../bin/tool`)
    digests: frozenset[str]  # the sha256 values it may have (more than one where two locked wheels ship the path)
    size: int | None


def record_rows(text: str) -> list[RecordRow]:
    """A RECORD's rows that carry a sha256 (RECORD itself, and .pyc written at install, have none). RECORD is CSV:
    a path with a comma or a quote is quoted, and csv reads it so (raises csv.Error on a malformed file)."""
    rows = []
    for fields in csv.reader(io.StringIO(text)):
        if len(fields) < 2 or not fields[1].startswith("sha256="):
            continue
        size = fields[2] if len(fields) > 2 else ""
        rows.append(RecordRow(fields[0], frozenset({fields[1].removeprefix("sha256=")}),
                              int(size) if size.isdigit() else None))  # fmt: skip
    return rows


def record_mismatches(prefix: Path, site: Path, rows: list[RecordRow]) -> list[str]:
    """The files RECORD rows (relative to `site`) name whose content differs, or that are missing: the rule for
    the installed RECORD (status --files) and for the verified wheel's own (wheel_files.py, at install). A digest
    is RECORD's urlsafe base64, or the hex that uv_build before 0.8.13 wrote: the same sha256 either way."""
    inside = os.path.normpath(prefix) + os.sep
    bad = []
    for row in rows:
        # Normalised, a path must still lie inside the prefix, or the record is hostile.
        target = os.path.normpath(os.path.join(site, row.path))
        found = file_sha256(Path(target), row.size) if target.startswith(inside) else None
        if found is None or not {_b64(found.digest()), found.hexdigest()} & row.digests:
            bad.append(row.path)
    return bad


def _b64(digest: bytes) -> str:
    """A digest as RECORD writes it: urlsafe base64 without padding."""
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
