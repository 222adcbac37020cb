from __future__ import annotations

import click

from ..app import app_of
from .add import relock, restored_on_failure


@click.command("remove-package")
@click.argument("profile")
@click.argument("names", nargs=-1, required=True)
@click.option("--no-lock", is_flag=True, help="Edit the profile only; do not re-lock it.")
@click.option("--mirror", "mirrors", multiple=True, help="CHANNEL=URL or CHANNEL=FOLDER: solve through a mirror.")
@click.pass_context
def command(ctx: click.Context, profile: str, names: tuple[str, ...], no_lock: bool, mirrors: tuple[str, ...]) -> None:
    """Remove packages from PROFILE by name (both layers, every platform), keeping the file's comments
    and order, then re-lock PROFILE."""
    from ..profile.editing import remove_packages

    project = app_of(ctx).project
    with restored_on_failure(ctx, profile):
        path, removed = remove_packages(project, profile, list(names))
        click.echo(f"updated {project.relative(path)}: removed {', '.join(removed)}")
        if not no_lock:
            relock(ctx, profile, mirrors)
