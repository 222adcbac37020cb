"""The only place that starts subprocesses: argv lists, never a shell; the command is logged."""

from __future__ import annotations

import logging
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import ToolFailed

log = logging.getLogger("provision.runner")


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
        result = subprocess.run(
            list(argv), env=dict(env) if env is not None else None, cwd=cwd,
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
    except FileNotFoundError as exc:
        raise ToolFailed(f"{argv[0]}: not found; install it or put it on PATH.") from exc
    except subprocess.TimeoutExpired as exc:
        raise ToolFailed(f"{shlex.join(argv)}: no answer after {timeout} s.") from exc
    if check and result.returncode != 0:
        tail = " / ".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise ToolFailed(f"{shlex.join(argv[:3])} failed (exit {result.returncode}): {tail}")
    return result
