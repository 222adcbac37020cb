"""Which folders provision may install into and delete: only those it created itself.

A marker inside a prefix proves nothing (a package can ship one), so what provision created is
recorded outside every prefix, under $PROVISION_HOME/state/prefixes, keyed by the resolved path and
holding a random id; the marker in the prefix must carry the same id. `remove` deletes only such
prefixes, and `apply` refuses a non-empty folder it did not create (unless --adopt), and always
refuses `/`, the home folder, provision's own folders and any folder that holds the project.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from enum import Enum
from pathlib import Path

from .. import grammar, layout
from ..errors import UnsafeInput
from ..files import write_atomic
from ..layout import STATE_DIR


def provision_home() -> Path:
    return Path(layout.provision_home())


def envs_dir() -> Path:
    return Path(layout.envs_dir())


def checked_name(name: str, origin: str) -> str:
    """An environment name is one plain path component (never empty, `.` or `..`)."""
    if not grammar.full(grammar.ENV_DIR_NAME, name):
        raise UnsafeInput(
            f"{origin}: {name!r} is not a usable environment name (letters, digits, '.', '_' and '-', "
            "starting with a letter or digit); name a profile, or pass --prefix DIR."
        )
    return name


def default_prefix(name: str, origin: str = "environment name") -> Path:
    return envs_dir() / checked_name(name, origin)


def resolved(prefix: Path) -> Path:
    """The real path: the same folder reached through a symlink is the same prefix."""
    return Path(os.path.realpath(prefix.expanduser()))


class Ownership(Enum):
    ABSENT = "absent"  # nothing there yet: provision will create it
    EMPTY = "empty"  # an empty folder: provision may take it
    OURS = "ours"  # created by provision (recorded outside the prefix, marker id matches)
    FOREIGN = "foreign"  # a non-empty folder provision did not create


def marker(prefix: Path) -> Path:
    return prefix / STATE_DIR / "created-by-provision"


def _record(prefix: Path) -> Path:
    key = hashlib.sha256(str(resolved(prefix)).encode()).hexdigest()[:32]
    return provision_home() / "state" / "prefixes" / f"{key}.json"


def ownership(prefix: Path) -> Ownership:
    if not prefix.exists() and not prefix.is_symlink():
        return Ownership.ABSENT
    if prefix.is_dir() and not prefix.is_symlink():
        entries = [entry.name for entry in prefix.iterdir()]
        # Only our state folder, under a record of ours: an apply killed while claiming the folder.
        if not entries or (entries == [STATE_DIR] and _record(prefix).is_file()):
            return Ownership.EMPTY
    return Ownership.OURS if _id_matches(prefix) else Ownership.FOREIGN


def _id_matches(prefix: Path) -> bool:
    try:
        record = json.loads(_record(prefix).read_text(encoding="utf-8"))
        mark = marker(prefix).read_text(encoding="utf-8").strip()
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return (
        isinstance(record, dict)
        and record.get("path") == str(resolved(prefix))
        and isinstance(record.get("id"), str)
        and secrets.compare_digest(record["id"], mark)
    )


def claim(prefix: Path, name: str) -> None:
    """Record `prefix` as provision's: the record outside first, then the marker inside."""
    if _id_matches(prefix):
        return
    token = secrets.token_hex(16)
    write_atomic(_record(prefix), json.dumps({"path": str(resolved(prefix)), "id": token, "name": name}) + "\n")
    write_atomic(marker(prefix), token + "\n")


def forget(prefix: Path) -> None:
    _record(prefix).unlink(missing_ok=True)


def forbidden_reason(prefix: Path, project_root: Path | None) -> str | None:
    """Why `prefix` can never be an environment, or None."""
    from ..grammar import control_character

    bad = control_character(str(prefix))
    if bad:
        return f"its path holds the control character {bad} (scripts and messages would break on it)"
    real = resolved(prefix)
    if real == Path(real.anchor):
        return "it is the root of the filesystem"
    # The nearest part of the path that is there decides whether a folder can be made here at all.
    existing = next(p for p in (real, *real.parents) if os.path.lexists(p))
    if os.path.islink(existing):
        return f"{existing} is a link that leads nowhere (a loop of links?)"
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"provision cannot write in {existing}"
    home = provision_home()
    protected = [
        (resolved(Path.home()), "the home folder"),
        (resolved(home), "provision's home ($PROVISION_HOME)"),
        (resolved(home / "envs"), "the folder that holds every environment"),
        (resolved(home / "state"), "provision's state folder"),
    ]
    if project_root is not None:
        protected.append((resolved(project_root), "the project"))
    for place, what in protected:
        if real == place or real in place.parents:
            return f"it is or contains {what}"
    if resolved(home / "state") in real.parents:
        return "it is inside provision's state folder"
    return None


def guard_prefix(prefix: Path, project_root: Path | None, kind: str, adopt: bool = False) -> Ownership:
    """Refuse a prefix provision must not touch; returns who owns it. With `adopt` (--adopt),
    provision takes over an existing environment of the same kind ("conda": conda-meta/, "venv":
    pyvenv.cfg), as `conda create` users expect; any other folder stays refused."""
    reason = forbidden_reason(prefix, project_root)
    if reason:
        from ..grammar import printable

        raise UnsafeInput(f"{printable(str(prefix))}: refused as an environment folder: {reason}; pass --prefix with "
                          "a new folder.")  # fmt: skip
    owner = ownership(prefix)
    if owner is Ownership.FOREIGN and not (adopt and _environment_of_kind(prefix, kind)):
        why = f"--adopt takes only a {kind} environment, and this is none" if adopt else "nothing was changed"
        raise UnsafeInput(
            f"{prefix}: this folder exists and provision did not create it ({why}); pass --prefix with a new "
            f"or empty folder{'' if adopt else ', or --adopt to take over an existing ' + kind + ' environment'}."
        )
    return owner


def _environment_of_kind(prefix: Path, kind: str) -> bool:
    if kind == "conda":
        return (prefix / "conda-meta").is_dir()
    return (prefix / "pyvenv.cfg").is_file()
