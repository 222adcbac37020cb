from __future__ import annotations

import click

from .common import json_option, locked_platform, print_json


@click.command("tree")
@click.argument("profile")
@click.option("--platform", help="Which locked platform (default: the profile's first).")
@click.option("--invert", "invert", metavar="NAME", help="Show what pulls NAME in, up to the profile's own packages.")
@json_option
@click.pass_context
def command(ctx: click.Context, profile: str, platform: str | None, invert: str | None, as_json: bool) -> None:
    """PROFILE's locked packages as a dependency tree from what the profile asks for (or, with
    --invert NAME, why NAME is there), read from the lock's dependency edges."""
    from ..deptree import requested_names, tree_lines
    from ..errors import ProvisionError

    _, resolved, lock, chosen = locked_platform(ctx, profile, platform)
    packages = lock.for_platform(chosen)
    requested = requested_names(resolved.conda_for(chosen), resolved.pypi_for(chosen))
    lines = tree_lines(packages, requested, invert)
    if invert and not lines:
        raise ProvisionError(f"{profile}: no package {invert!r} locked for {chosen}.")
    if as_json:
        print_json({"profile": profile, "platform": chosen, "invert": invert, "lines": lines})
    else:
        click.echo("\n".join(lines))
