from __future__ import annotations

from pathlib import Path

import click

from ..apply.execute import remove_prefix
from ..apply.prefixes import default_prefix, resolved


@click.command("remove")
@click.argument("profile")
@click.option("--prefix", type=click.Path(file_okay=False, path_type=Path), help="Environment folder.")
@click.option("--no-wait", is_flag=True, help="Fail instead of waiting for a running apply.")
def command(profile: str, prefix: Path | None, no_wait: bool) -> None:
    """Delete PROFILE's environment, if provision created it; nothing else is touched."""
    target = resolved(prefix or default_prefix(profile, "remove"))
    remove_prefix(target, not no_wait, lambda message: click.echo(message, err=True))
    click.echo(f"removed {target}")
