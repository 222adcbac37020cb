"""The prefix's record of the last successful apply: written last, removed first.

A stamp exists only when everything it describes succeeded, so an apply killed at any
moment leaves either the old stamp (nothing changed yet) or none (the next apply repairs).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import __version__, layout
from ..files import read_capped, write_atomic
from ..lock.records import LockedPackage


@dataclass(frozen=True)
class Stamp:
    profile: str
    platform: str
    conda: str  # hash of the conda layer's locked entries
    pypi: str  # hash of the PyPI layer's locked entries
    activation: str  # hash of the activation variables
    brew: str = ""  # hash of the Brewfile that `brew bundle` last satisfied
    python: str | None = None
    fingerprint: str = ""  # of the conda-meta and site-packages listings when the apply finished
    exact: bool = False  # the environment was exactly the lock then (no extras kept, nothing left over)
    inputs: str = ""  # digest of the files that decide the outcome (quick.py's no-op answer)
    provision_version: str = __version__
    variant: str | None = None  # the profile's variant installed (cpu, cuda), when it has variants
    own: dict[str, str] = field(default_factory=dict)  # provision's own files -> hash or link (accounting.py)

    def same_lock(self, other: Stamp) -> bool:
        """Both describe the same locked environment (the fingerprint and versions aside)."""
        return (self.profile, self.variant, self.platform, self.conda, self.pypi, self.python) == (
            other.profile, other.variant, other.platform, other.conda, other.pypi, other.python,
        )  # fmt: skip


def layer_hash(packages: list[LockedPackage], manager: str) -> str:
    entries = sorted((p.name, p.version, p.url, p.sha256) for p in packages if p.manager == manager)
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()


def file_hash(path: Path | None) -> str:
    """A file's sha256, or "" when there is none (a profile without a Brewfile)."""
    if path is None or not path.is_file():
        return ""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def values_hash(values: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


def stamp_path(prefix: Path) -> Path:
    return Path(layout.stamp_path(prefix))


def read_stamp(prefix: Path) -> Stamp | None:
    try:  # capped, and never blocking on a FIFO put in its place
        fields = json.loads(read_capped(stamp_path(prefix), 1 << 20).decode("utf-8"))
        return Stamp(**fields) if isinstance(fields, dict) else None
    except (OSError, ValueError, UnicodeDecodeError, TypeError):
        return None


def write_stamp(prefix: Path, stamp: Stamp) -> None:
    """The stamp, then (when it allows the no-op answer) the quick record that answer reads."""
    quick = Path(layout.quick_path(prefix))
    quick.unlink(missing_ok=True)
    text = json.dumps(asdict(stamp), indent=2, sort_keys=True) + "\n"
    write_atomic(stamp_path(prefix), text)
    if stamp.exact and not stamp.variant and stamp.inputs and stamp.fingerprint:
        write_atomic(quick, layout.quick_record(stamp.profile, stamp.inputs, stamp.fingerprint, text))


def clear_stamp(prefix: Path) -> None:
    Path(layout.quick_path(prefix)).unlink(missing_ok=True)  # first: the record never outlives its stamp
    stamp_path(prefix).unlink(missing_ok=True)
