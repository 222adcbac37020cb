from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from ..apply.activation import activated_environment
from ..apply.stamp import read_stamp
from ..errors import ProvisionError
from .apply_options import select_target, target_options


@click.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@target_options
@click.argument("cmd", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def command(
    ctx: click.Context, profile: str | None, lockfile: Path | None, prefix: Path | None, cmd: tuple[str, ...]
) -> None:
    """Run CMD inside PROFILE's environment: `provision run torch-mps -- python train.py`.

    PATH and the profile's activation variables are set; no shell is involved."""
    if lockfile is not None and profile is not None:
        # `run --lockfile L -- python -V`: with no profile, the first word is the command's own.
        cmd, profile = (profile, *cmd), None
    cmd = cmd[1:] if cmd[:1] == ("--",) else cmd
    if not cmd:
        raise click.UsageError("give the command to run after `--`, e.g. provision run linux-cpu -- python -V")
    target, _ = select_target(ctx, profile, lockfile, prefix)
    if read_stamp(target.prefix) is None:
        raise ProvisionError(f"{target.prefix}: no completed apply here; run `{target.apply_command}` first.")
    _pip_in_a_venv(cmd, target.prefix, target.kind)
    env = activated_environment(target.prefix, target.env, kind=target.kind)
    program = shutil.which(cmd[0], path=env["PATH"])
    if program is None:
        raise ProvisionError(f"{cmd[0]}: not found in {target.prefix}/bin or on PATH.")
    sys.stdout.flush()
    os.execve(program, [program, *cmd[1:]], env)


def _pip_in_a_venv(cmd: tuple[str, ...], prefix: Path, kind: str) -> None:
    """A venv made by uv has no pip: say so and what to use, before Python's "No module named pip"."""
    wants_pip = cmd[:1] in (("pip",), ("pip3",)) or (len(cmd) >= 3 and cmd[1:3] == ("-m", "pip"))
    if not wants_pip or kind != "venv" or list(prefix.glob("lib/python*/site-packages/pip")):
        return
    raise ProvisionError(
        f"{prefix} is a venv made by uv and has no pip: install with `uv pip install --python {prefix}/bin/python "
        "PACKAGE` (the lock does not know it), or add the package (or pip) to the profile's pypi.packages and "
        "apply again"
    )
