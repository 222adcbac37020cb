from __future__ import annotations

from pathlib import Path

import click

from ..apply.activation import shell_lines
from .apply_options import select_target, target_options
from .common import json_option, print_json


@click.command("shell")
@target_options
@json_option
@click.pass_context
def command(ctx: click.Context, profile: str | None, lockfile: Path | None, prefix: Path | None, as_json: bool) -> None:
    """Print shell lines that activate PROFILE: eval "$(provision shell torch-mps)". With --json, the
    prefix and the variables activation sets (PATH's new first entry, the profile's env)."""
    from ..apply.stamp import read_stamp
    from ..errors import ProvisionError

    target, _ = select_target(ctx, profile, lockfile, prefix)
    if read_stamp(target.prefix) is None:  # activating a folder that is not an environment helps no one
        raise ProvisionError(f"{target.prefix}: no completed apply here; run `{target.apply_command}` first.")
    if as_json:
        print_json({"prefix": str(target.prefix), "path_prepend": str(target.prefix / "bin"), "env": target.env})
        return
    for line in shell_lines(target.prefix, target.env, target.kind):
        click.echo(line)
