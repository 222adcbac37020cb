from __future__ import annotations

import click

from ..app import app_of
from .apply_options import variant_option
from .common import json_option, locked_platform, print_json


@click.command("outdated")
@variant_option
@click.argument("profile")
@click.option("--platform", help="Which locked platform (default: the profile's first).")
@click.option(
    "--mirror", "mirrors", multiple=True, help="CHANNEL=URL or CHANNEL=FOLDER: read repodata through a mirror."
)
@json_option
@click.pass_context
def command(ctx: click.Context, profile: str, platform: str | None, mirrors: tuple[str, ...], as_json: bool) -> None:
    """Locked packages of PROFILE with newer versions: the newest the profile allows (`provision lock
    --update NAME` takes it) and the newest there is (a pin must change first)."""
    from ..config import cache_root
    from ..consumers.outdated import outdated

    view = locked_platform(ctx, profile, platform)
    assert view.profile is not None and view.project is not None
    chosen = view.platform
    found = outdated(view.profile, view.lock, chosen, app_of(ctx).mirrors(mirrors), cache_root() / "rattler",
                     view.project.root)  # fmt: skip
    if as_json:
        print_json([{**o.__dict__, "held_back": o.held_back} for o in found])
        return
    if not found:
        click.echo(f"{profile} [{chosen}]: every locked package is the newest there is.")
        return
    width = max(len(o.name) for o in found)
    click.echo(f"{'package':<{width}}  layer  {'locked':<12} {'allowed':<12} newest")
    for o in found:
        note = "  (the profile's pin holds it back)" if o.held_back else ""
        click.echo(f"{o.name:<{width}}  {o.layer:<5}  {o.locked:<12} {o.allowed:<12} {o.newest}{note}")
