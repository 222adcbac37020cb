from __future__ import annotations

from pathlib import Path

import click

from ..app import app_of
from .common import json_option, print_json


@click.command("remove")
@click.argument("profile")
@click.option("--prefix", type=click.Path(file_okay=False, path_type=Path), help="Environment folder.")
@click.option("--no-wait", is_flag=True, help="Fail instead of waiting for a running apply.")
@json_option
@click.pass_context
def command(ctx: click.Context, profile: str, prefix: Path | None, no_wait: bool, as_json: bool) -> None:
    """Delete PROFILE's environment, if provision created it; nothing else is touched."""
    from ..apply.execute import remove_prefix
    from ..apply.prefixes import default_prefix, resolved

    target = resolved(prefix or default_prefix(profile, "remove"))
    remove_prefix(target, not no_wait, app_of(ctx).progress(as_json))
    if as_json:
        print_json({"removed": str(target)})
    else:
        click.echo(f"removed {target}")
