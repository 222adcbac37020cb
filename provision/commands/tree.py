from __future__ import annotations

from pathlib import Path

import click

from .apply_options import category_option, lockfile_option, variant_option
from .common import json_option, locked_platform, print_json


@click.command("tree")
@click.argument("profile", required=False)
@lockfile_option
@variant_option
@category_option
@click.option("--platform", help="Which locked platform (default: the profile's first; a lockfile's: this machine's).")
@click.option("--invert", "invert", metavar="NAME", help="Show what pulls NAME in, up to the profile's own packages.")
@json_option
@click.pass_context
def command(
    ctx: click.Context, profile: str | None, lockfile: Path | None, platform: str | None, invert: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """PROFILE's (or a --lockfile's) locked packages as a dependency tree from what was asked for
    (for a lockfile: the packages nothing else needs), or, with --invert NAME, why NAME is there."""
    from ..consumers.deptree import tree_lines
    from ..errors import ProvisionError

    view = locked_platform(ctx, profile, platform, lockfile)
    lines = tree_lines(view.packages, view.requested(), invert)
    if invert and not lines:
        raise ProvisionError(f"{view.label}: no package {invert!r} locked for {view.platform}.")
    if as_json:
        print_json({"profile": view.label, "platform": view.platform, "invert": invert, "lines": lines})
    else:
        click.echo("\n".join(lines))
