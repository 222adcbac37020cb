"""Where everything lives, in one place, with the standard library only.

The quick no-op answer (quick.py) and the full path (apply/, lock/, commands/) both read these
names and rules, so they can never disagree on a folder, a path or a digest: the project found from
`--root`, `$PROVISION_ROOT` or the nearest parent with `profiles/`; `$PROVISION_HOME` and its
environments; a prefix's own folder, stamp and the copy a change keeps beside it; each profile's lock
and Brewfile; the digest of an apply's inputs and the fingerprint of an environment's listings.
Nothing here imports a third-party package, so `provision apply PROFILE` with nothing to do costs a
Python start-up and a few stat calls.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path, PurePosixPath

from . import __version__

PROFILES_DIR = "profiles"
PROFILE_SUFFIX = ".yaml"
ENVS_DIR = "envs"
BOOTSTRAP = "bootstrap"  # the profile whose lock sits at the repository root
LOCK_FILE = "conda-lock.yml"
BREWFILE = "Brewfile"
EXPECTED_NODES = "expected-nodes.txt"  # in a Slurm job's reports: the nodes it was given (export writes, report reads)

STATE_DIR = ".provision"  # provision's folder inside a prefix (stamp, marker, requirements)
STAMP_FILE = "stamp.json"
BACKUP_SUFFIX = ".provision-backup"  # `.NAME.provision-backup` beside a prefix: the copy a change keeps (backup.py)
ACTIVATION_SCRIPT = "provision-env.sh"
ACTIVATION = tuple(f"etc/conda/{folder}/{ACTIVATION_SCRIPT}" for folder in ("activate.d", "deactivate.d"))


# --- the project -------------------------------------------------------------------------------


def is_project(folder: Path) -> bool:
    return (folder / PROFILES_DIR).is_dir()


def find_root(explicit: Path | None, start: Path | None = None) -> Path | None:
    """The project folder: `explicit` (--root, or $PROVISION_ROOT) if it has profiles/, else the
    nearest folder from `start` (the working folder) upwards that has one; None when there is none."""
    if explicit is None and os.environ.get("PROVISION_ROOT"):
        explicit = Path(os.environ["PROVISION_ROOT"])
    if explicit is not None:
        return explicit.resolve() if is_project(explicit) else None
    here = (start or Path.cwd()).resolve()
    return next((folder for folder in (here, *here.parents) if is_project(folder)), None)


def lock_path(lock_name: str) -> PurePosixPath:
    """A profile's lock, relative to the project: the bootstrap lock sits at the root, every other one
    beside its environment.yml (`envs/NAME/`, or `envs/NAME/VARIANT/` for a variant's `NAME/VARIANT`)."""
    if lock_name == BOOTSTRAP:
        return PurePosixPath(LOCK_FILE)
    return PurePosixPath(ENVS_DIR, *lock_name.split("/"), LOCK_FILE)


def brewfile_path(profile: str) -> PurePosixPath:
    return PurePosixPath(ENVS_DIR, profile, BREWFILE)


# --- provision's home and a prefix ---------------------------------------------------------------


def provision_home() -> Path:
    """~/.provision, or $PROVISION_HOME."""
    return Path(os.environ.get("PROVISION_HOME") or Path.home() / ".provision").absolute()


def envs_dir() -> Path:
    return provision_home() / ENVS_DIR


def stamp_path(prefix: Path) -> Path:
    return prefix / STATE_DIR / STAMP_FILE


def backup_path(prefix: Path) -> Path:
    """Where a change keeps the previous environment until it is done (backup.py)."""
    return prefix.with_name(f".{prefix.name}{BACKUP_SUFFIX}")


def read_stamp_fields(prefix: Path) -> dict[str, object] | None:
    """The stamp's fields as written, or None when there is no readable stamp (apply/stamp.py types them)."""
    try:
        fields = json.loads(stamp_path(prefix).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return fields if isinstance(fields, dict) else None


# --- what decides a no-op ------------------------------------------------------------------------


def input_files(root: Path, profile: str) -> list[Path]:
    """Every file whose change could change what `apply PROFILE` does: the project's profiles (any may
    be extended), the profile's lock and its Brewfile."""
    profiles = sorted((root / PROFILES_DIR).glob(f"*{PROFILE_SUFFIX}"))
    return [*profiles, root / lock_path(profile), root / brewfile_path(profile)]


def inputs_digest(files: list[Path]) -> str:
    """The files' contents, provision's version and the machine: equal digests, equal outcome."""
    digest = hashlib.sha256(f"{__version__}\n{os.uname().machine}\n{sys.platform}\n".encode())
    for path in files:
        try:
            content = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            content = "absent"
        digest.update(f"{path}:{content}\n".encode())
    return digest.hexdigest()


def listing_fingerprint(prefix: Path) -> str:
    """A hash of the conda-meta and site-packages listings and the activation scripts (names,
    sizes, modification and change times): any install, uninstall or edit of a record changes it."""
    digest = hashlib.sha256()
    folders = [prefix / "conda-meta", *sorted(prefix.glob("lib/python3*/site-packages"))]
    for folder in folders:
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            digest.update(f"{folder.name}:absent\n".encode())
            continue
        for entry in entries:
            if entry.name.endswith((".json", ".dist-info")):
                # ctime too: `os.utime` can put a modification time back, nothing can put back a ctime.
                info = entry.stat(follow_symlinks=False)
                digest.update(f"{folder.name}/{entry.name}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}\n"
                              .encode())  # fmt: skip
    for relative in ACTIVATION:
        try:
            info = (prefix / relative).stat()
            digest.update(f"{relative}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}\n".encode())
        except OSError:
            digest.update(f"{relative}:absent\n".encode())
    return digest.hexdigest()
