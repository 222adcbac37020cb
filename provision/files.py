"""Writing files so that an interrupted write never leaves half a file behind."""

from __future__ import annotations

import difflib
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, fsync it, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_text_or_none(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError):
        return None


def unified_diff(old: str | None, new: str, name: str) -> str:
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"{name} (committed)" if old is not None else f"{name} (missing)",
        tofile=f"{name} (fresh render)",
    )
    return "".join(lines)


class NotRegularFile(OSError):
    """A path that is a FIFO, a device or a folder: reading it could hang or never end."""


class TooLarge(OSError):
    """A file past the size its reader accepts."""


def open_regular(path: Path | str) -> BinaryIO:
    """Open a regular file for reading, refusing (without blocking) a FIFO, a device or a folder."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotRegularFile(f"{path} is not a regular file")
    return os.fdopen(fd, "rb")


def read_untrusted_text(path: Path, limit: int, shown: str, fix: str) -> str:
    """The UTF-8 text of an untrusted file (a node list, another tool's environment file), or one
    located line saying why it cannot be read, with `fix`."""
    from .errors import LocatedError

    try:
        return read_capped(path, limit).decode("utf-8")
    except NotRegularFile:
        raise LocatedError(shown, "not a regular file", fix) from None
    except TooLarge:
        raise LocatedError(shown, f"larger than {limit >> 20} MiB", fix) from None
    except UnicodeDecodeError:
        raise LocatedError(shown, "not UTF-8 text", fix) from None
    except OSError as exc:
        raise LocatedError(shown, f"cannot be read ({exc.strerror or type(exc).__name__})", fix) from None


def read_capped(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, without ever blocking on a FIFO or
    reading a device without end (untrusted folders: facts, foreign locks)."""
    with open_regular(path) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"{path} is larger than {limit} bytes")
    return data
