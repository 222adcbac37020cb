"""`status --files` accounts for every file in the prefix, not only the files packages list.

A file is accounted for when a package's record lists it (conda's `files`, a wheel's RECORD), when it
is one of provision's own files or the venv's own scaffolding (OWN: hashed, or for a link its target,
into the stamp when an apply finishes), or when an interpreter writes it at run time (`__pycache__`).
Anything else is named. A `.pth` file, `sitecustomize.py` or `usercustomize.py` no package ships is
said to be code that runs at every interpreter start: that is how a planted file takes over an
environment while every package still matches its lock.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
from pathlib import Path, PurePosixPath

from .drift import Drift, DriftKind, Layer
from .state import InstalledState

# Provision's own files and what `uv venv` writes around the interpreter: accounted for by their
# hash (or link target) recorded in the stamp, so an edit or a re-pointed `bin/python` is named.
OWN = (
    ".provision/*",
    "etc/conda/activate.d/provision-env.sh", "etc/conda/deactivate.d/provision-env.sh",
    "conda-meta/history",
    "pyvenv.cfg", ".gitignore", "CACHEDIR.TAG", "lib64", ".lock",
    "bin/python", "bin/python3", "bin/python3.*", "bin/activate", "bin/activate.*", "bin/activate_this.py",
    "bin/deactivate.bat", "bin/pydoc.bat",
    "lib/python3.*/site-packages/_virtualenv.pth", "lib/python3.*/site-packages/_virtualenv.py",
)  # fmt: skip
# Not hashed: the stamp cannot hold its own hash; `.lock` is the empty file uv locks the venv with.
UNHASHED = (".provision/stamp.json", ".lock")
STARTUP_CODE = ("*.pth", "sitecustomize.py", "usercustomize.py")


def own_files(prefix: Path) -> dict[str, str]:
    """Provision's own files and the venv's scaffolding in `prefix`, and every link (a package's too: records
    do not say where a link points): relative path -> `sha256:…` or `link:TARGET`, as the stamp records them
    when an apply finishes."""
    out = {}
    for relative, path in _walk(prefix):
        if path.is_symlink() or (_matches(relative, OWN) and not _matches(relative, UNHASHED)):
            out[relative] = _identity(path)
    return out


def unaccounted(prefix: Path, state: InstalledState, recorded: dict[str, str] | None) -> list[Drift]:
    """Every file no record and no stamp entry accounts for, and every own file changed since the apply.
    Reported, never repaired: a file provision did not make is not provision's to delete."""
    return [Drift(Layer.PREFIX, DriftKind.UNACCOUNTED, relative, note=note)
            for relative, note in _unaccounted(prefix, state, recorded)]  # fmt: skip


def _unaccounted(prefix: Path, state: InstalledState, recorded: dict[str, str] | None) -> list[tuple[str, str]]:
    listed = _listed(prefix, state)
    present = _walk(prefix)
    lines = []
    for relative, path in present:
        if relative in listed:
            # A re-pointed link keeps its listed name (bin/python -> /bin/sh): its target is the stamp's.
            expected = (recorded or {}).get(relative)
            if path.is_symlink() and expected is not None and expected != _identity(path):
                lines.append((relative, f"changed since the last apply ({_said(_identity(path))}, was "
                                        f"{_said(expected)})"))  # fmt: skip
            continue
        if _written_by_interpreter(relative):
            continue
        if _matches(relative, OWN):
            if _matches(relative, UNHASHED):
                continue
            expected = (recorded or {}).get(relative)
            now = _identity(path)
            if expected is None and recorded is not None:
                lines.append((relative, "not there when the last apply finished"))
            elif expected is not None and expected != now:
                lines.append((relative, f"changed since the last apply ({_said(now)}, was {_said(expected)})"))
            continue
        why = ("; it runs code at every interpreter start" if _matches(PurePosixPath(relative).name, STARTUP_CODE)
               else "")  # fmt: skip
        kind = "link" if path.is_symlink() else "file"
        lines.append((relative, f"a {kind} no package record lists and provision did not write{why}"))
    for relative in sorted(set(recorded or {}) - {r for r, _ in present}):
        lines.append((relative, "missing since the last apply"))
    return lines


def _walk(prefix: Path) -> list[tuple[str, Path]]:
    """Every file and link under `prefix` (links are never followed; an empty folder holds no code)."""
    out = []
    for folder, dirs, files in os.walk(prefix, followlinks=False):
        base = Path(folder)
        for name in sorted(files):
            path = base / name
            out.append((path.relative_to(prefix).as_posix(), path))
        for name in sorted(dirs):  # os.walk lists a link to a folder among dirs and does not enter it
            path = base / name
            if path.is_symlink():
                out.append((path.relative_to(prefix).as_posix(), path))
    return sorted(out)


def _listed(prefix: Path, state: InstalledState) -> set[str]:
    """Every path a package record lists, relative to the prefix, and the records themselves."""
    listed: set[str] = set()
    for record in state.conda.values():
        listed.add(record.record.relative_to(prefix).as_posix())
        try:
            files = json.loads(record.record.read_text(encoding="utf-8")).get("files")
        except (OSError, ValueError, AttributeError):
            continue
        listed.update(f for f in files if isinstance(f, str)) if isinstance(files, list) else None
    for dist in state.pypi.values():
        site = dist.dist_info.parent
        try:
            rows = (dist.dist_info / "RECORD").read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        for row in rows:
            relative = row.partition(",")[0]
            target = os.path.normpath(site / relative)
            if target.startswith(str(prefix) + os.sep):
                listed.add(Path(target).relative_to(prefix).as_posix())
    return listed


def _written_by_interpreter(relative: str) -> bool:
    parts = PurePosixPath(relative).parts
    return "__pycache__" in parts or relative.endswith((".pyc", ".pyo"))


def _matches(relative: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(relative, pattern) for pattern in patterns)


def _identity(path: Path) -> str:
    if path.is_symlink():
        return f"link:{os.readlink(path)}"
    if path.is_dir():
        return "folder"
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"


def _said(identity: str) -> str:
    if identity.startswith("link:"):
        return f"points to {_shown(identity[5:])}"
    return identity[:19] if identity.startswith("sha256:") else identity


def _shown(text: str) -> str:
    """A name from the prefix as a terminal may show it: control characters written out."""
    from ..grammar import printable

    return printable(text)
