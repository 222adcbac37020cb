from __future__ import annotations

from pathlib import Path

import click

from ..apply.activation import shell_lines
from .apply_options import select_target, target_options


@click.command("shell")
@target_options
@click.pass_context
def command(ctx: click.Context, profile: str | None, lockfile: Path | None, prefix: Path | None) -> None:
    """Print shell lines that activate PROFILE: eval "$(provision shell torch-mps)"."""
    target, _ = select_target(ctx, profile, lockfile, prefix)
    for line in shell_lines(target.prefix, target.env):
        click.echo(line)
