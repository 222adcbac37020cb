"""The entry point, and its answer for the commonest call: `provision apply PROFILE` when nothing
changed. Standard library only, so that answer costs a Python start-up and a few stat calls.

The last finished apply wrote into its stamp a fingerprint of the environment's listings and a
digest of every input that could change the outcome (the project's profiles, this profile's lock and
Brewfile, provision's version, the machine). When both still match and that apply left the
environment exactly as the lock says, the answer is "up to date" without loading a profile,
a lock or click; anything else (other options, a difference of one byte) takes the full path,
which compares the environment with the lock itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from . import __version__

STATE_DIR = ".provision"  # provision's folder inside a prefix (stamp, marker, requirements)
BACKUP_SUFFIX = ".provision-backup"  # `.NAME.provision-backup` beside a prefix: the copy a change keeps (backup.py)
ACTIVATION_SCRIPT = "provision-env.sh"
ACTIVATION = tuple(f"etc/conda/{folder}/{ACTIVATION_SCRIPT}" for folder in ("activate.d", "deactivate.d"))
# Options that cannot change a no-op's outcome: verify, brew, waiting and extras act only on a change
# (extras can only exist when the stamp says the environment was not exact, which forbids this path).
HARMLESS = {"--no-verify", "--yes", "-y", "--no-brew", "--no-wait", "--keep-extras"}


def listing_fingerprint(prefix: Path) -> str:
    """A hash of the conda-meta and site-packages listings and the activation scripts (names,
    sizes, modification times): any install, uninstall or edit of a record changes it."""
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


def input_files(root: Path, profile: str) -> list[Path]:
    """Every file whose change could change what `apply PROFILE` does."""
    profiles = sorted((root / "profiles").glob("*.yaml"))
    return [*profiles, root / "envs" / profile / "conda-lock.yml", root / "envs" / profile / "Brewfile"]


def inputs_digest(files: list[Path]) -> str:
    digest = hashlib.sha256(f"{__version__}\n{os.uname().machine}\n{sys.platform}\n".encode())
    for path in files:
        try:
            content = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            content = "absent"
        digest.update(f"{path}:{content}\n".encode())
    return digest.hexdigest()


def _project_root(explicit: str | None) -> Path | None:
    explicit = explicit if explicit is not None else os.environ.get("PROVISION_ROOT") or None
    if explicit is not None:
        root = Path(explicit).absolute()
        return root if (root / "profiles").is_dir() else None
    here = Path.cwd()
    return next((folder for folder in (here, *here.parents) if (folder / "profiles").is_dir()), None)


def _parse(argv: list[str]) -> tuple[str | None, str, str | None] | None:
    """(root, profile, prefix) of a plain `[--root DIR] apply PROFILE [--prefix DIR] [harmless...]`."""
    args = list(argv)
    root = None
    if args[:1] == ["--root"] and len(args) > 2:
        root, args = args[1], args[2:]
    if len(args) < 2 or args[0] != "apply" or args[1].startswith("-"):
        return None
    profile, rest, prefix = args[1], args[2:], None
    while rest:
        if rest[0] == "--prefix" and len(rest) > 1:
            prefix, rest = rest[1], rest[2:]
        elif rest[0] in HARMLESS:
            rest = rest[1:]
        else:
            return None
    if not profile.replace("-", "").isalnum() or not profile.isascii():
        return None
    return root, profile, prefix


def up_to_date(argv: list[str]) -> str | None:
    """The line to print when this call is a no-op apply that needs no further look, else None."""
    parsed = _parse(argv)
    if parsed is None or any(name.startswith("CONDA_OVERRIDE_") for name in os.environ):
        return None
    explicit_root, profile, explicit_prefix = parsed
    root = _project_root(explicit_root)
    if root is None:
        return None
    home = Path(os.environ.get("PROVISION_HOME") or Path.home() / ".provision").absolute()
    prefix = Path(os.path.realpath(explicit_prefix or home / "envs" / profile))
    try:
        stamp = json.loads((prefix / STATE_DIR / "stamp.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(stamp, dict) or stamp.get("profile") != profile or stamp.get("exact") is not True:
        return None
    if stamp.get("variant"):  # which variant is right depends on the host's GPU and driver: the full path asks
        return None
    if prefix.with_name(f".{prefix.name}{BACKUP_SUFFIX}").exists():  # an interrupted apply's copy: the full path
        return None
    files = input_files(root, profile)
    if stamp.get("inputs") != inputs_digest(files) or stamp.get("fingerprint") != listing_fingerprint(prefix):
        return None
    return f"{profile}: up to date ({prefix})"


TOO_OLD = (
    "provision needs Python 3.10 or newer (this is {version}); on a Mac run `brew install python@3.11` "
    "or use `uv run provision ...`, which fetches a suitable Python."
)


def main() -> None:
    # Apple's /usr/bin/python3 is 3.9: say how to get a newer one, in one line.
    if sys.version_info < (3, 10):  # noqa: UP036
        sys.exit(TOO_OLD.format(version=".".join(map(str, sys.version_info[:3]))))
    line = up_to_date(sys.argv[1:])
    if line is not None:
        print(line)
        return
    from .cli import main as full

    full()
