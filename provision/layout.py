"""Where everything lives, in one place, with the standard library only.

The quick no-op answer (quick.py) and the full path (apply/, lock/, commands/) both read these
names and rules, so they can never disagree on a folder, a path or a digest: the project found from
`--root`, `$PROVISION_ROOT` or the nearest parent with `profiles/`; `$PROVISION_HOME` and its
environments; a prefix's own folder, stamp and the copy a change keeps beside it; each profile's lock
and Brewfile; the digest of an apply's inputs and the fingerprint of an environment's listings.
Nothing here imports a third-party package, nor pathlib (12 ms of a 40 ms no-op when it did) nor json
(which brings `re`, 13 ms more): paths are strings joined by os.path (the full path wraps them in Path),
and the no-op answer reads the quick record, three plain lines written beside the JSON stamp. So
`provision apply PROFILE` with nothing to do costs a Python start-up, a sha256 and a few stat calls.
"""

from __future__ import annotations

import os
import sys

from . import __version__

TYPE_CHECKING = False  # typing's own costs 3 ms to import; mypy reads this name the same way
if TYPE_CHECKING:
    from hashlib import _Hash
    from os import PathLike

    StrPath = str | PathLike[str]

PROFILES_DIR = "profiles"
PROFILE_SUFFIX = ".yaml"
ENVS_DIR = "envs"
BOOTSTRAP = "bootstrap"  # the profile whose lock sits at the repository root
LOCK_FILE = "conda-lock.yml"
BREWFILE = "Brewfile"
EXPECTED_NODES = "expected-nodes.txt"  # in a Slurm job's reports: the nodes it was given (export writes, report reads)

STATE_DIR = ".provision"  # provision's folder inside a prefix (stamp, marker, requirements)
STAMP_FILE = "stamp.json"
QUICK_FILE = "quick"  # profile, inputs digest, listing fingerprint, the stamp's sha256: what the no-op compares
BACKUP_SUFFIX = ".provision-backup"  # `.NAME.provision-backup` beside a prefix: the copy a change keeps (backup.py)
ACTIVATION_SCRIPT = "provision-env.sh"
ACTIVATION = tuple(f"etc/conda/{folder}/{ACTIVATION_SCRIPT}" for folder in ("activate.d", "deactivate.d"))


# --- the project -------------------------------------------------------------------------------


def is_project(folder: StrPath) -> bool:
    return os.path.isdir(os.path.join(folder, PROFILES_DIR))


ROOT_VARIABLE = "PROVISION_ROOT"


def named_root(explicit: StrPath | None) -> tuple[str, str] | None:
    """The project folder the user named, and where: (`--root`'s, "--root"), else ($PROVISION_ROOT's,
    "PROVISION_ROOT"); None when neither names one (the project is searched for from the working folder)."""
    if explicit is not None:
        return os.fspath(explicit), "--root"
    value = os.environ.get(ROOT_VARIABLE)
    return (value, ROOT_VARIABLE) if value else None


def find_root(explicit: StrPath | None, start: StrPath | None = None) -> str | None:
    """The project folder: the one named (named_root) if it has profiles/, else the nearest folder from `start`
    (the working folder) upwards that has one; None when there is none."""
    named = named_root(explicit)
    if named is not None:
        return os.path.realpath(named[0]) if is_project(named[0]) else None
    here = os.path.realpath(start if start is not None else os.getcwd())
    while True:
        if is_project(here):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def lock_path(lock_name: str) -> str:
    """A profile's lock, relative to the project (a POSIX path): the bootstrap lock sits at the root, every
    other one beside its environment.yml (`envs/NAME/`, or `envs/NAME/VARIANT/` for a variant's `NAME/VARIANT`)."""
    if lock_name == BOOTSTRAP:
        return LOCK_FILE
    return "/".join((ENVS_DIR, *lock_name.split("/"), LOCK_FILE))


def brewfile_path(profile: str) -> str:
    return "/".join((ENVS_DIR, profile, BREWFILE))


# --- provision's home and a prefix ---------------------------------------------------------------


def provision_home() -> str:
    """~/.provision, or $PROVISION_HOME (absolute)."""
    return os.path.abspath(os.environ.get("PROVISION_HOME") or os.path.join(os.path.expanduser("~"), ".provision"))


def envs_dir() -> str:
    return os.path.join(provision_home(), ENVS_DIR)


def stamp_path(prefix: StrPath) -> str:
    return os.path.join(prefix, STATE_DIR, STAMP_FILE)


def backup_path(prefix: StrPath) -> str:
    """Where a change keeps the previous environment until it is done (backup.py): `.NAME.provision-backup`
    beside it."""
    folder, name = os.path.split(os.path.normpath(prefix))
    return os.path.join(folder, f".{name}{BACKUP_SUFFIX}")


def quick_path(prefix: StrPath) -> str:
    return os.path.join(prefix, STATE_DIR, QUICK_FILE)


def quick_record(profile: str, inputs: str, fingerprint: str, stamp_text: str) -> str:
    """The quick record's text. apply/stamp.py writes it after the stamp, only for a stamp that allows the
    no-op answer (exact, no variant), and removes it before the stamp; it holds the stamp's own hash, so a
    stamp changed by anything else makes the record void."""
    return f"{profile}\n{inputs}\n{fingerprint}\n{_sha256(stamp_text.encode()).hexdigest()}\n"


def read_regular(path: str, limit: int) -> bytes | None:
    """At most `limit` bytes of a regular file, else None: a FIFO or a device in a prefix never blocks a
    command that reads provision's own files there (opened without waiting, then checked)."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        return os.read(fd, limit) if stat.S_ISREG(os.fstat(fd).st_mode) else None
    except OSError:
        return None
    finally:
        os.close(fd)


def read_quick_record(prefix: StrPath) -> tuple[str, str, str] | None:
    """(profile, inputs digest, fingerprint) of a well-formed record whose stamp is the one it was written
    with, else None."""
    record, stamp_bytes = read_regular(quick_path(prefix), 512), read_regular(stamp_path(prefix), 1 << 20)
    if record is None or stamp_bytes is None or not record.isascii():
        return None
    lines, stamp = record.decode("ascii").split("\n"), _sha256(stamp_bytes).hexdigest()
    if len(lines) != 5 or lines[4] or not all(lines[:4]) or lines[3] != stamp:
        return None
    return lines[0], lines[1], lines[2]


# --- what decides a no-op ------------------------------------------------------------------------


def input_files(root: StrPath, profile: str) -> list[str]:
    """Every file whose change could change what `apply PROFILE` does: the project's profiles (any may
    be extended), the profile's lock and its Brewfile."""
    folder = os.path.join(root, PROFILES_DIR)
    try:
        names = sorted(name for name in os.listdir(folder) if name.endswith(PROFILE_SUFFIX))
    except OSError:
        names = []
    return [*(os.path.join(folder, name) for name in names), os.path.join(root, lock_path(profile)),
            os.path.join(root, brewfile_path(profile))]  # fmt: skip


def _sha256(data: bytes = b"") -> _Hash:
    """hashlib's sha256 without hashlib's import of OpenSSL (3 ms of the no-op): the interpreter's own module,
    `_sha2` since Python 3.12 and `_sha256` before; hashlib where neither is built."""
    try:
        from _sha2 import sha256
    except ImportError:
        try:
            from _sha256 import sha256
        except ImportError:
            from hashlib import sha256
    return sha256(data)


def inputs_digest(files: list[str]) -> str:
    """The files' contents, provision's version and the machine: equal digests, equal outcome."""
    digest = _sha256(f"{__version__}\n{os.uname().machine}\n{sys.platform}\n".encode())
    for path in files:
        try:
            with open(path, "rb") as handle:
                content = _sha256(handle.read()).hexdigest()
        except OSError:
            content = "absent"
        digest.update(f"{path}:{content}\n".encode())
    return digest.hexdigest()


def listing_fingerprint(prefix: StrPath) -> str:
    """A hash of the conda-meta and site-packages listings and the activation scripts (names,
    sizes, modification and change times): any install, uninstall or edit of a record changes it."""
    digest = _sha256()
    lib = os.path.join(prefix, "lib")
    try:
        pythons = sorted(name for name in os.listdir(lib) if name.startswith("python3"))
    except OSError:
        pythons = []
    site = [os.path.join(lib, name, "site-packages") for name in pythons]
    folders = [os.path.join(prefix, "conda-meta"), *(folder for folder in site if os.path.isdir(folder))]
    for folder in folders:
        shown = os.path.basename(folder)
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            digest.update(f"{shown}:absent\n".encode())
            continue
        for entry in entries:
            if entry.name.endswith((".json", ".dist-info")):
                # ctime too: `os.utime` can put a modification time back, nothing can put back a ctime.
                info = entry.stat(follow_symlinks=False)
                digest.update(f"{shown}/{entry.name}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}\n"
                              .encode())  # fmt: skip
    for relative in ACTIVATION:
        try:
            info = os.stat(os.path.join(prefix, relative))
            digest.update(f"{relative}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}\n".encode())
        except OSError:
            digest.update(f"{relative}:absent\n".encode())
    return digest.hexdigest()
