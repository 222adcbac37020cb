"""What uv linked into a prefix, held to the verified wheel's own RECORD.

uv installs a wheel from its cache of unpacked wheels (keyed by the wheel's path and time, never hashed
again) and links the files from there. So the wheel's hash, which provision checks at use, says nothing of
what that cache holds: a file changed in uv's cache, or edited in another environment through the hard link
they share, goes into every environment made from it. Each wheel an apply installs is therefore held to the
RECORD inside the verified wheel, file by file; a package whose files differ is installed again from the wheel
itself, past uv's cache (install_wheels), and a difference that remains fails the apply.
"""

from __future__ import annotations

import csv
import os
import re
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from packaging.utils import canonicalize_name

from ..layout import read_regular
from ..lock.records import LockedPackage
from .drift import RecordRow, record_mismatches, record_rows
from .state import site_packages

# Files hashed at once, one thread per core (hashing releases the GIL): a package such as jaxlib holds most of the
# bytes, so the work is split by file, not by package, and the largest files start first.
CHECKERS = min(8, os.cpu_count() or 2)
TASK_BYTES = 8 << 20  # a task's files: up to this many bytes (a larger file is a task of its own) ...
TASK_FILES = 64  # ... or this many files
RECORD_MAX = 64 << 20  # a RECORD larger than this is not a wheel's (the largest real ones are a few MB)


@dataclass(frozen=True)
class _Wheel:
    dist_info: str  # `numpy-2.4.6.dist-info`, as the wheel names it
    rows: list[RecordRow]  # as installed: relative to site-packages
    scripts: dict[str, bytes] = field(default_factory=dict)  # bin/NAME -> a `#!python` script past its first line
    problem: str = ""


@dataclass(frozen=True)
class WheelRecords:
    """What the verified wheels say they install: each package's RECORD as installed, in the lock's order."""

    wheels: tuple[tuple[str, _Wheel], ...]


def read_records(wheels: list[tuple[LockedPackage, Path]]) -> WheelRecords:
    """The RECORD of each verified wheel (read while uv installs: it needs only the wheels, checked at fetch)."""
    return WheelRecords(tuple((package.name, _read(wheel)) for package, wheel in wheels))


def differing_files(
    prefix: Path, records: WheelRecords, names: set[str] | frozenset[str], python: str | None
) -> dict[str, list[str]]:  # fmt: skip
    """Package name -> the files of the wheels `names` picks (uv installed them) that differ from, or are missing
    against, the verified wheel's RECORD; only packages with such files. A path two locked wheels both ship (say
    opencv-python and opencv-python-headless) may hold either one's content. `python`: the environment's version,
    whose site-packages is checked (an older one may be left beside it)."""
    owners: dict[str, set[str]] = {}
    for _, wheel in records.wheels:
        for row in wheel.rows:
            owners.setdefault(row.path, set()).update(row.digests)
    wanted = {canonicalize_name(name) for name in names}
    tasks: list[tuple[str, Path, list[RecordRow]]] = []
    out: dict[str, list[str]] = {}
    for name, wheel in records.wheels:
        if canonicalize_name(name) not in wanted:
            continue
        site = _site(prefix, wheel.dist_info, python) if not wheel.problem else None
        if site is None:
            out[name] = [wheel.problem or f"{wheel.dist_info}/ (not installed)"]
            continue
        rows = [replace(row, digests=frozenset(owners[row.path]), size=row.size if len(owners[row.path]) == 1
                        else None) for row in wheel.rows]  # fmt: skip
        tasks += [(name, site, chunk) for chunk in _chunks(rows)]
        scripts = _script_mismatches(prefix, wheel.scripts)
        if scripts:
            out.setdefault(name, []).extend(scripts)
    tasks.sort(key=lambda task: -sum(row.size or 0 for row in task[2]))
    with ThreadPoolExecutor(max_workers=CHECKERS, thread_name_prefix="provision-wheel-check") as pool:
        for name, files in pool.map(lambda task: (task[0], record_mismatches(prefix, task[1], task[2])), tasks):
            if files:
                out.setdefault(name, []).extend(files)
    return out


def _read(wheel: Path) -> _Wheel:
    """The wheel's RECORD, each path as it is installed, once per path."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            record = next((info for info in archive.infolist() if _is_record(info.filename)), None)
            if record is None:
                return _Wheel("", [], problem=f"{wheel.name}: the wheel has no RECORD")
            if record.file_size > RECORD_MAX:
                return _Wheel("", [], problem=f"{wheel.name}: its RECORD is {record.file_size} bytes, not a wheel's")
            rows = record_rows(archive.read(record).decode("utf-8"))
            scripts = _rewritten_scripts(archive, rows)
    # A member zipfile cannot read (an unknown compression method, an encrypted or corrupt one) is a wheel whose
    # RECORD cannot be read, named as such: the lock's hash says only that it is the file locked.
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError, KeyError, csv.Error, NotImplementedError,
            RuntimeError, zlib.error):  # fmt: skip
        return _Wheel("", [], problem=f"{wheel.name}: its RECORD cannot be read")
    installed = {row.path: row for row in (_installed(row, scripts) for row in rows) if row is not None}
    return _Wheel(record.filename.split("/")[0], list(installed.values()), scripts)


def _rewritten_scripts(archive: zipfile.ZipFile, rows: list[RecordRow]) -> dict[str, bytes]:
    """`.data/scripts` members that start `#!python`: the installer writes its own first line (or uv's `/bin/sh`
    prologue), so each is held to the rest of the member, read from the verified wheel."""
    out = {}
    for row in rows:
        parts = PurePosixPath(row.path).parts
        if len(parts) == 3 and parts[0].endswith(".data") and parts[1] == "scripts":
            with archive.open(row.path) as member:
                data = member.read(SCRIPT_MAX + 1)
            if data.startswith(b"#!python") and len(data) <= SCRIPT_MAX:
                out[f"bin/{parts[2]}"] = data.partition(b"\n")[2]
    return out


def _site(prefix: Path, dist_info: str, python: str | None) -> Path | None:
    """The environment's own site-packages (`lib/pythonX.Y`, by `python`), if the wheel's dist-info is there; else
    the one that holds it."""
    if python and "." in python:
        own = prefix / "lib" / f"python{'.'.join(python.split('.')[:2])}" / "site-packages"
        return own if (own / dist_info).is_dir() else None
    return next((s for s in site_packages(prefix) if (s / dist_info).is_dir()), None)


def _chunks(rows: list[RecordRow]) -> list[list[RecordRow]]:
    out: list[list[RecordRow]] = [[]]
    held = 0
    for row in rows:
        if out[-1] and (held + (row.size or 0) > TASK_BYTES or len(out[-1]) == TASK_FILES):
            out.append([])
            held = 0
        out[-1].append(row)
        held += row.size or 0
    return out


def _is_record(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "RECORD"


# What an installer writes anew in the dist-info, whatever the wheel held (a wheel re-zipped from an installed tree
# may list them with hashes).
INSTALLER_FILES = ("INSTALLER", "REQUESTED", "direct_url.json")


def _installed(row: RecordRow, rewritten: dict[str, bytes]) -> RecordRow | None:
    """A wheel's RECORD row as the installed file's path relative to site-packages, or None for a file checked
    otherwise or written anew by the installer: a `#!python` script (its first line is the installer's; held to
    the rest by `_script_mismatches`), `.data/headers` (placed by scheme; C headers, never imported) and the
    dist-info's installer files."""
    parts = PurePosixPath(row.path).parts
    if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] in INSTALLER_FILES:
        return None
    if len(parts) < 3 or not parts[0].endswith(".data"):
        return row
    scheme, inside = parts[1], "/".join(parts[2:])
    if scheme in ("purelib", "platlib"):
        return replace(row, path=inside)
    if scheme == "data":
        return replace(row, path=f"../../../{inside}")  # the prefix itself: site-packages is lib/pythonX.Y/...
    if scheme == "scripts" and len(parts) == 3 and f"bin/{inside}" not in rewritten:
        return replace(row, path=f"../../../bin/{inside}")  # a script installed as it is, held to its hash
    return None


# What an installer writes in place of `#!python`: one `#!` line, or uv's `/bin/sh` prologue, which runs the
# script again with an interpreter whose path is too long for a `#!` line or has spaces.
PROLOGUE = re.compile(rb"#!/bin/sh\n'''exec' [^\n]*\n' '''\n|#![^\n]*\n")
SCRIPT_MAX = 1 << 20  # a larger `#!python` script is held to nothing here (status --files reads its RECORD row)


def _script_mismatches(prefix: Path, scripts: dict[str, bytes]) -> list[str]:
    """The rewritten scripts whose installed text is not an installer's prologue followed by exactly the rest of
    the wheel's script (read without waiting, regular files only)."""
    bad = []
    for relative, rest in scripts.items():
        text = read_regular(str(prefix / relative), SCRIPT_MAX + 4096)
        prologue = PROLOGUE.match(text) if text is not None else None
        if text is None or prologue is None or text[prologue.end() :] != rest:
            bad.append(f"../../../{relative}")
    return bad
