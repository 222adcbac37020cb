"""What uv linked into a prefix, held to the verified wheel's own RECORD.

uv installs a wheel from its cache of unpacked wheels (keyed by the wheel's path and time, never hashed
again) and links the files from there. So the wheel's hash, which provision checks at use, says nothing of
what that cache holds: a file changed in uv's cache, or edited in another environment through the hard link
they share, goes into every environment made from it. Each wheel an apply installs is therefore held to the
RECORD inside the verified wheel, file by file; a package whose files differ is installed again from the wheel
itself, past uv's cache (install_wheels), and a difference that remains fails the apply.
"""

from __future__ import annotations

import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

from ..lock.records import LockedPackage
from .drift import record_mismatches

CHECKERS = 4  # packages checked at once: hashing releases the GIL


def differing_files(prefix: Path, wheels: list[tuple[LockedPackage, Path]]) -> dict[str, list[str]]:
    """Package name -> its installed files that differ from (or are missing against) its verified wheel's RECORD;
    only packages with such files."""
    with ThreadPoolExecutor(max_workers=CHECKERS, thread_name_prefix="provision-wheel-check") as pool:
        found = pool.map(lambda item: (item[0].name, _differing(prefix, item[1])), wheels)
        return {name: files for name, files in found if files}


def _differing(prefix: Path, wheel: Path) -> list[str]:
    try:
        with zipfile.ZipFile(wheel) as archive:
            record = next((n for n in archive.namelist() if _is_record(n)), None)
            if record is None:
                return [f"{wheel.name}: no RECORD"]
            rows = archive.read(record).decode("utf-8").splitlines()
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError, KeyError):
        return [f"{wheel.name}: its RECORD cannot be read"]
    dist_info = record.split("/")[0]
    site = next((s for s in sorted(prefix.glob("lib/python3*/site-packages")) if (s / dist_info).is_dir()), None)
    if site is None:
        return [f"{dist_info}/ (not installed)"]
    return record_mismatches(prefix, site, [row for row in (_installed_row(r) for r in rows) if row is not None])


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
