from __future__ import annotations

import click

from ..app import app_of
from .common import json_option, print_json


@click.command("show")
@click.argument("profile")
@json_option
@click.pass_context
def command(ctx: click.Context, profile: str, as_json: bool) -> None:
    """Show PROFILE after `extends:` is resolved, with the virtual packages each platform assumes."""
    import yaml

    from ..profile.load import load_profile, virtual_packages  # loaded when the command runs, not for --help

    resolved = load_profile(app_of(ctx).project, profile)
    data = resolved.model_dump(mode="json")
    data["virtual_packages"] = {p: virtual_packages(resolved, p) for p in resolved.platforms}
    if as_json:
        print_json(data)
    else:
        click.echo(yaml.safe_dump(data, sort_keys=False, width=100).rstrip())
