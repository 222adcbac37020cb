"""Run the `provision` command inside the test process: the same entry (the console script's quick path, then
`main()` with its error mapping), the given environment and working folder, stdout, stderr and the exit code
captured as a CompletedProcess. A fresh process costs a Python start-up and the imports (half a second and
more per call); most tests call provision dozens of times.

Some calls must stay processes, and `needs_process` says which: `run` replaces the process with the
command (exec), the kill points SIGKILL the process, and a test of start-up, signals or concurrency passes
`process=True` itself."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from provision.cli import main
from provision.quick import up_to_date

GLOBAL_WITH_VALUE = {"--root"}
PROVISION = str(Path(sys.executable).parent / "provision")  # the console script, for calls that need a process


def provision(
    argv: Sequence[str], env: dict[str, str], cwd: Path | None = None, process: bool = False, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`provision ARGV` as a user runs it: in this process unless it must be one (`process`, `needs_process`)."""
    if not process and not needs_process(argv, env):
        return run_in_process(argv, env, cwd)
    return subprocess.run([PROVISION, *argv], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def command_word(argv: Sequence[str]) -> str | None:
    args = list(argv)
    while args and args[0].startswith("-"):
        args = args[2:] if args[0] in GLOBAL_WITH_VALUE else args[1:]
    return args[0] if args else None


def needs_process(argv: Sequence[str], env: dict[str, str]) -> bool:
    return command_word(argv) == "run" or "PROVISION_TEST_KILL_AT" in env


def run_in_process(
    argv: Sequence[str], env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    saved_term = signal.getsignal(signal.SIGTERM)
    out, err = io.StringIO(), io.StringIO()
    code = 0
    os.environ.clear()
    os.environ.update(env)
    saved_tempdir, tempfile.tempdir = tempfile.tempdir, None  # read from TMPDIR again, as a new process would
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                line = up_to_date(list(argv))  # as the console script does before anything is loaded
                if line is not None:
                    print(line)
                else:
                    main(list(argv))
            except SystemExit as exc:
                if isinstance(exc.code, str):
                    print(exc.code, file=err)
                    code = 1
                else:
                    code = int(exc.code or 0)
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        signal.signal(signal.SIGTERM, saved_term)
        tempfile.tempdir = saved_tempdir
    return subprocess.CompletedProcess(list(argv), code, out.getvalue(), err.getvalue())
