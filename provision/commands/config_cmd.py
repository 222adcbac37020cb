from __future__ import annotations

import click

from .common import json_option, print_json


@click.command("config")
@click.option("--mirror", "mirrors", multiple=True, help="CHANNEL=URL: show it as it would apply.")
@json_option
def command(mirrors: tuple[str, ...], as_json: bool) -> None:
    """Show this machine's settings (mirrors, folders, overrides) and where each comes from."""
    from ..config import settings

    found = settings(mirrors)
    if as_json:
        print_json([{"name": s.name, "value": s.value, "origin": s.origin} for s in found])
        return
    width = max(len(s.name) for s in found)
    for setting in found:
        click.echo(f"{setting.name:<{width}}  {setting.value}  ({setting.origin})")
