"""What uv linked into a prefix, held to the verified wheel's own RECORD.

uv installs a wheel from its cache of unpacked wheels (keyed by the wheel's path and time, never hashed
again) and links the files from there. So the wheel's hash, which provision checks at use, says nothing of
what that cache holds: a file changed in uv's cache, or edited in another environment through the hard link
they share, goes into every environment made from it. Each wheel an apply installs is therefore held to the
RECORD inside the verified wheel, file by file; a package whose files differ is installed again from the wheel
itself, past uv's cache (install_wheels), and a difference that remains fails the apply.
"""

from __future__ import annotations

import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

from ..lock.records import LockedPackage
from .drift import record_mismatches

# Files hashed at once, one thread per core (hashing releases the GIL): a package such as jaxlib holds most of the
# bytes, so the work is split by file, not by package, and the largest files start first.
CHECKERS = min(8, os.cpu_count() or 2)
TASK_BYTES = 8 << 20  # a task's files: up to this many bytes (a larger file is a task of its own) ...
TASK_FILES = 64  # ... or this many files


def differing_files(prefix: Path, wheels: list[tuple[LockedPackage, Path]]) -> dict[str, list[str]]:
    """Package name -> its installed files that differ from (or are missing against) its verified wheel's RECORD;
    only packages with such files."""
    tasks: list[tuple[str, Path, list[str]]] = []
    out: dict[str, list[str]] = {}
    for package, wheel in wheels:
        site, rows, problem = _installed_rows(prefix, wheel)
        if problem:
            out[package.name] = [problem]
        elif site is not None:
            tasks += [(package.name, site, chunk) for chunk in _chunks(rows)]
    tasks.sort(key=lambda task: -sum(_size(row) for row in task[2]))
    with ThreadPoolExecutor(max_workers=CHECKERS, thread_name_prefix="provision-wheel-check") as pool:
        for name, files in pool.map(lambda task: (task[0], record_mismatches(prefix, task[1], task[2])), tasks):
            if files:
                out.setdefault(name, []).extend(files)
    return out


def _installed_rows(prefix: Path, wheel: Path) -> tuple[Path | None, list[str], str]:
    """(site-packages holding the wheel's dist-info, its RECORD rows as installed paths, "") or a problem."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            record = next((n for n in archive.namelist() if _is_record(n)), None)
            if record is None:
                return None, [], f"{wheel.name}: no RECORD"
            rows = archive.read(record).decode("utf-8").splitlines()
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError, KeyError):
        return None, [], f"{wheel.name}: its RECORD cannot be read"
    dist_info = record.split("/")[0]
    site = next((s for s in sorted(prefix.glob("lib/python3*/site-packages")) if (s / dist_info).is_dir()), None)
    if site is None:
        return None, [], f"{dist_info}/ (not installed)"
    return site, [row for row in (_installed_row(r) for r in rows) if row is not None], ""


def _chunks(rows: list[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    held = 0
    for row in rows:
        if out[-1] and (held + _size(row) > TASK_BYTES or len(out[-1]) == TASK_FILES):
            out.append([])
            held = 0
        out[-1].append(row)
        held += _size(row)
    return out


def _size(row: str) -> int:
    size = row.rpartition(",")[2]
    return int(size) if size.isdigit() else 0


def _is_record(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "RECORD"


def _installed_row(row: str) -> str | None:
    """A wheel's RECORD row as the installed file's path relative to site-packages, or None for a file an
    installer writes anew: `.data/scripts` (the `#!python` line is rewritten to the environment's interpreter)
    and `.data/headers` (placed by scheme; C headers, never imported)."""
    path, _, rest = row.partition(",")
    parts = PurePosixPath(path).parts
    if len(parts) < 3 or not parts[0].endswith(".data"):
        return row
    scheme, inside = parts[1], "/".join(parts[2:])
    if scheme in ("purelib", "platlib"):
        return f"{inside},{rest}"
    if scheme == "data":
        return f"../../../{inside},{rest}"  # the prefix itself: site-packages is lib/pythonX.Y/site-packages
    return None
