"""A failed change leaves the previous environment usable (a full disk, an I/O error, Ctrl-C, SIGTERM).

A conda prefix cannot be built elsewhere and moved in (its files hold their own path), so the change is
made in place over a copy of the old one: a hard-link copy beside the prefix, which costs folders and
inodes, not data. conda's linker and uv replace a file by writing a new one and renaming it over the
old name, so the copy's links keep the old contents. On failure the changed prefix is set aside and the
copy renamed back; on success the copy is deleted. A copy left by a process killed outright (SIGKILL
cannot be caught) is put back by the next apply before it plans, so it starts from the environment
that was there.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .. import layout
from ..errors import ToolFailed


def backup_path(prefix: Path) -> Path:
    return Path(layout.backup_path(prefix))


def restore_interrupted(prefix: Path, say: Callable[[str], None]) -> None:
    """Put back the copy a killed apply left, so this apply plans from the environment before it. A prefix
    with a stamp finished its change (the kill came while the copy was being deleted): the copy goes."""
    copy = backup_path(prefix)
    if not copy.is_dir():
        return
    if os.path.isfile(layout.stamp_path(prefix)):
        _remove(copy)
        return
    _swap_back(prefix, copy)
    say(f"environment: an earlier apply was interrupted; the environment before it is back in {prefix}")


@contextmanager
def kept_until_done(prefix: Path, say: Callable[[str], None]) -> Iterator[None]:
    """Run the change with the previous environment kept aside; restored if the change fails in any way."""
    if not prefix.is_dir():
        yield  # a new environment: on failure there is nothing to go back to, and the stamp says it failed
        return
    copy = backup_path(prefix)
    _remove(copy)
    try:
        _link_copy(prefix, copy)
    except OSError as exc:
        _remove(copy)
        raise ToolFailed(f"{prefix}: cannot keep the previous environment aside ({_cause(exc, prefix)}); "
                         "nothing was changed") from None  # fmt: skip
    try:
        yield
    except BaseException as exc:
        _swap_back(prefix, copy)
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EIO, errno.EDQUOT):
            advice = "free some space and apply again" if exc.errno != errno.EIO else "check the disk and apply again"
            raise ToolFailed(f"{_cause(exc, prefix)}; {advice}: the previous environment was restored") from None
        if isinstance(exc, ToolFailed) and _no_space(exc.message):
            step = exc.message.removeprefix(f"{prefix}: ").split(" (Caused by")[0]
            raise ToolFailed(f"no space left on the device of {prefix} ({_free(prefix)}; {step}); free some space "
                             "and apply again: the previous environment was restored") from None  # fmt: skip
        say(f"environment: the change failed; the previous environment was restored in {prefix}")
        raise
    _remove(copy)


def _link_copy(source: Path, target: Path) -> None:
    """`cp -al`: folders made anew, files hard-linked, links copied as links."""
    for folder, dirs, files in os.walk(source, followlinks=False):
        relative = Path(folder).relative_to(source)
        (target / relative).mkdir(parents=True, exist_ok=True)
        for name in dirs:
            path = Path(folder) / name
            if path.is_symlink():
                os.symlink(os.readlink(path), target / relative / name)
        for name in files:
            path = Path(folder) / name
            if path.is_symlink():
                os.symlink(os.readlink(path), target / relative / name)
            else:
                os.link(path, target / relative / name, follow_symlinks=False)
    shutil.copystat(source, target)


def _swap_back(prefix: Path, copy: Path) -> None:
    failed = prefix.with_name(f".{prefix.name}.provision-failed")
    _remove(failed)
    if prefix.exists():
        prefix.rename(failed)
    copy.rename(prefix)
    _remove(failed)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)


def _no_space(text: str) -> bool:
    return "No space left on device" in text or "os error 28" in text or "Disk quota exceeded" in text


def _free(prefix: Path) -> str:
    try:
        return f"{shutil.disk_usage(prefix.parent).free / 1e6:.0f} MB free"
    except OSError:
        return "free space unknown"


def _cause(exc: OSError, prefix: Path) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left on the device of {prefix} ({_free(prefix)})"
    return f"{exc.strerror or type(exc).__name__}" + (f": {exc.filename}" if exc.filename else "")
