"""The only place that starts subprocesses: argv lists, never a shell; the command is logged.

Tests swap what starts them (`swapped`) to check what a stage asks for without running it."""

from __future__ import annotations

import logging
import shlex
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from .errors import ToolFailed

log = logging.getLogger("provision.runner")

Start = Callable[..., "subprocess.CompletedProcess[str]"]  # subprocess.run's signature, as run() calls it
_start: Start = subprocess.run


@contextmanager
def swapped(start: Start) -> Iterator[None]:
    """Every command in this block goes to `start` instead of a process (a test's fake records them)."""
    global _start
    previous, _start = _start, start
    try:
        yield
    finally:
        _start = previous


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    check: bool = True,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `argv` and capture its output; with `check`, a non-zero exit raises ToolFailed with the tail."""
    log.info("running: %s", shlex.join(argv))
    try:
        result = _start(
            list(argv), env=dict(env) if env is not None else None, cwd=cwd,
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
    except FileNotFoundError as exc:
        raise ToolFailed(f"{argv[0]}: not found; install it or put it on PATH.", tuple(argv)) from exc
    except subprocess.TimeoutExpired as exc:
        raise ToolFailed(f"{shlex.join(argv)}: no answer after {timeout} s.", tuple(argv)) from exc
    if check and result.returncode != 0:
        tail = " / ".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise ToolFailed(f"{shlex.join(argv[:3])} failed (exit {result.returncode}): {tail}", tuple(argv),
                         result.returncode, tail)  # fmt: skip
    return result
