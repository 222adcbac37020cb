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
import functools
import json
import os
import re
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from ..layout import ACTIVATION, QUICK_FILE, STAMP_FILE, STATE_DIR
from .drift import Drift, DriftKind, Layer, file_sha256
from .state import InstalledState

# Provision's own files and what `uv venv` writes around the interpreter: accounted for by their
# hash (or link target) recorded in the stamp, so an edit or a re-pointed `bin/python` is named.
OWN = (
    f"{STATE_DIR}/*", *ACTIVATION,
    "conda-meta/history",
    "pyvenv.cfg", ".gitignore", "CACHEDIR.TAG", "lib64", ".lock",
    "bin/python", "bin/python3", "bin/python3.*", "bin/activate", "bin/activate.*", "bin/activate_this.py",
    "bin/deactivate.bat", "bin/pydoc.bat",
    "lib/python3.*/site-packages/_virtualenv.pth", "lib/python3.*/site-packages/_virtualenv.py",
)  # fmt: skip
# Not hashed: the stamp cannot hold its own hash, nor the quick record written after it from it (it runs
# nothing, and what it says is checked against the stamp's own); `.lock` is the empty file uv locks the venv with.
UNHASHED = (f"{STATE_DIR}/{STAMP_FILE}", f"{STATE_DIR}/{QUICK_FILE}", ".lock")
STARTUP_CODE = ("*.pth", "sitecustomize.py", "usercustomize.py")


def own_files(prefix: Path) -> dict[str, str]:
    """Provision's own files and the venv's scaffolding in `prefix`, and every link (a package's too: records
    do not say where a link points): relative path -> `sha256:…` or `link:TARGET`, as the stamp records them
    when an apply finishes."""
    own = _pattern(OWN)
    return {
        entry.relative: _identity(entry)
        for entry in _walk(prefix)
        if entry.link or (own.fullmatch(entry.relative) and not _matches(entry.relative, UNHASHED))
    }


def unaccounted(prefix: Path, state: InstalledState, recorded: dict[str, str] | None) -> list[Drift]:
    """Every file no record and no stamp entry accounts for, and every own file changed since the apply.
    Reported, never repaired: a file provision did not make is not provision's to delete."""
    return [Drift(Layer.PREFIX, DriftKind.UNACCOUNTED, relative, note=note)
            for relative, note in _unaccounted(prefix, state, recorded)]  # fmt: skip


def _unaccounted(prefix: Path, state: InstalledState, recorded: dict[str, str] | None) -> list[tuple[str, str]]:
    listed = _listed(prefix, state)
    present = _walk(prefix)
    lines = []
    bytecode: list[tuple[str, str]] = []  # (pyc, its source) to hold to what the source compiles to
    for entry in present:
        relative = entry.relative
        if relative in listed:
            # A re-pointed link keeps its listed name (bin/python -> /bin/sh): its target is the stamp's.
            expected = (recorded or {}).get(relative)
            if entry.link and expected is not None and expected != _identity(entry):
                lines.append((relative, f"changed since the last apply ({_said(_identity(entry))}, was "
                                        f"{_said(expected)})"))  # fmt: skip
            continue
        if _written_by_interpreter(relative):
            source = _source_of(relative)
            if source is None or (source not in listed and not _matches(source, OWN)):
                lines.append((relative, "bytecode of no listed source file; Python may run it in place of one"))
            else:
                bytecode.append((relative, source))
            continue
        if _matches(relative, OWN):
            if _matches(relative, UNHASHED):
                continue
            expected = (recorded or {}).get(relative)
            now = _identity(entry)
            if expected is None and recorded is not None:
                lines.append((relative, "not there when the last apply finished"))
            elif expected is not None and expected != now:
                lines.append((relative, f"changed since the last apply ({_said(now)}, was {_said(expected)})"))
            continue
        why = ("; it runs code at every interpreter start" if _matches(PurePosixPath(relative).name, STARTUP_CODE)
               else "")  # fmt: skip
        kind = "link" if entry.link else "file"
        lines.append((relative, f"a {kind} no package record lists and provision did not write{why}"))
    for relative in sorted(set(recorded or {}) - {entry.relative for entry in present}):
        lines.append((relative, "missing since the last apply"))
    lines += [(pyc, f"bytecode that is not what {source} compiles to; Python runs it in place of the source")
              for pyc, source in _forged_bytecode(prefix, bytecode)]  # fmt: skip
    return lines


def _source_of(relative: str) -> str | None:
    """`pkg/__pycache__/mod.cpython-311.opt-1.pyc` -> `pkg/mod.py`; None for bytecode outside __pycache__
    (a bare `mod.pyc` is imported even with no source) and for anything else in __pycache__."""
    path = PurePosixPath(relative)
    if path.parent.name != "__pycache__" or path.suffix != ".pyc":
        return None
    return str(path.parent.parent / f"{path.name.split('.')[0]}.py")


# Run by the environment's own interpreter (bytecode is specific to one Python): each .pyc's code object
# against the one its source compiles to. Code objects compare without their file name, so a .pyc written
# by any import of the listed source is equal, and one forged with the source's mtime and size is not.
_CHECK_BYTECODE = """
import importlib.util, json, marshal, sys
bad = []
for pyc, source in json.load(sys.stdin):
    try:
        data = open(pyc, "rb").read()
        if data[:4] != importlib.util.MAGIC_NUMBER:
            continue  # another Python's bytecode: this interpreter ignores it
        name = pyc.rsplit("/", 1)[-1]
        level = int(name.split(".opt-")[1][0]) if ".opt-" in name else 0
        compiled = compile(open(source, "rb").read(), source, "exec", dont_inherit=True, optimize=level)
        if marshal.loads(data[16:]) != compiled:
            bad.append(pyc)
    except Exception:
        bad.append(pyc)
print(json.dumps(bad))
"""


def _forged_bytecode(prefix: Path, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    import subprocess

    python = prefix / "bin" / "python"
    if not pairs or not python.exists():
        return []
    given = [(str(prefix / pyc), str(prefix / source)) for pyc, source in pairs]
    done = subprocess.run([str(python), "-I", "-c", _CHECK_BYTECODE], input=json.dumps(given), capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    try:
        bad = set(json.loads(done.stdout))
    except ValueError:
        return [(pyc, source) for pyc, source in pairs]  # the check itself failed: nothing is vouched for
    return [(pyc, source) for pyc, source in pairs if str(prefix / pyc) in bad]


class _Entry(NamedTuple):
    relative: str  # to the prefix, with `/`
    path: str
    link: bool  # from the listing itself: no stat call


def _walk(prefix: Path) -> list[_Entry]:
    """Every file and link under `prefix` (links are never followed; an empty folder holds no code). By
    scandir: the kind of each entry comes with the listing, with no stat call per file."""
    out: list[_Entry] = []
    folders = [(str(prefix), "")]  # a stack, not recursion: a hostile tree may be deeper than Python's stack
    while folders:
        folder, relative = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue  # unreadable: as os.walk, left out (what cannot be read cannot be accounted for either)
        for entry in entries:
            name = f"{relative}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                folders.append((entry.path, f"{name}/"))
            else:  # a file, or a link (to a file or a folder: never entered)
                out.append(_Entry(name, entry.path, entry.is_symlink()))
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
    return _pattern(patterns).fullmatch(relative) is not None


@functools.cache
def _pattern(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """fnmatch's rules for all of `patterns` as one expression: one match per file, not one per pattern."""
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def _identity(entry: _Entry) -> str:
    if entry.link:
        return f"link:{os.readlink(entry.path)}"
    # drift's one rule for hashing a file in a prefix: opened without blocking and checked before reading, so a
    # FIFO planted in place of an own file cannot hang `status --files` or the apply that records it.
    digest = file_sha256(Path(entry.path))
    return f"sha256:{digest.hexdigest()}" if digest is not None else "not a regular file"


def _said(identity: str) -> str:
    if identity.startswith("link:"):
        return f"points to {_shown(identity[5:])}"
    return identity[:19] if identity.startswith("sha256:") else identity


def _shown(text: str) -> str:
    """A name from the prefix as a terminal may show it: control characters written out."""
    from ..grammar import printable

    return printable(text)
