"""One apply per prefix at a time: an exclusive file lock keyed by the prefix's real path.

The lock lives under $PROVISION_HOME/locks, named by a hash of the resolved path, so the same
folder reached through a symlink (or `..`) takes the same lock, and no lock file is ever written
beside a prefix (for `--prefix /` that would be `/..lock`)."""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import ExitCode, ProvisionError
from .prefixes import provision_home, resolved


class PrefixBusy(ProvisionError):
    exit_code = ExitCode.BUSY


def lock_file(prefix: Path) -> Path:
    key = hashlib.sha256(str(resolved(prefix)).encode()).hexdigest()[:32]
    return provision_home() / "locks" / f"{key}.lock"


@contextmanager
def prefix_lock(prefix: Path, wait: bool, notify: Callable[[str], None]) -> Iterator[None]:
    path = lock_file(prefix)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            if not wait:
                raise PrefixBusy(
                    f"{prefix}: another provision apply (pid {holder}) holds this environment; "
                    "wait for it, or run again without --no-wait."
                ) from None
            notify(f"waiting for another provision apply (pid {holder}) on {prefix} ...")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock, also when the process is killed
