from __future__ import annotations

import click

from .common import mirrors_from, progress_line, project_from

PLATFORM = click.Choice(["osx-arm64", "linux-64", "linux-aarch64"])


@click.command("add")
@click.argument("profile")
@click.argument("specs", nargs=-1, required=True)
@click.option("--pypi", is_flag=True, help="PEP 508 requirements for the PyPI layer (default: conda MatchSpecs).")
@click.option("--platform", type=PLATFORM, help="Only for this platform (the profile's targets).")
@click.option("--no-lock", is_flag=True, help="Edit the profile only; do not re-lock it.")
@click.option("--mirror", "mirrors", multiple=True, help="CHANNEL=URL or CHANNEL=FOLDER: solve through a mirror.")
@click.pass_context
def command(
    ctx: click.Context, profile: str, specs: tuple[str, ...], pypi: bool, platform: str | None, no_lock: bool,
    mirrors: tuple[str, ...],
) -> None:  # fmt: skip
    """Add packages to PROFILE (a spec for a package already listed replaces it), keeping the file's
    comments and order, then re-lock PROFILE. An invalid result leaves the profile as it was."""
    from ..editing import add_packages

    project = project_from(ctx)
    path = add_packages(project, profile, list(specs), pypi, platform)
    click.echo(f"updated {project.relative(path)}: {', '.join(specs)}")
    if not no_lock:
        relock(ctx, profile, mirrors)


def relock(ctx: click.Context, profile: str, mirrors: tuple[str, ...]) -> None:
    """Lock the edited profile and render its files, as `provision lock PROFILE` and `render` would."""
    from ..config import cache_root
    from ..generated import write_files
    from ..lock.locker import lock_profile
    from ..profiles import load_profile
    from ..render import profile_files

    project = project_from(ctx)
    resolved = load_profile(project, profile)
    for written in write_files(project, profile_files(resolved)):
        click.echo(f"wrote {project.relative(written)}")
    for path in lock_profile(project, resolved, mirrors_from(ctx, mirrors), cache_root() / "rattler",
                             progress=progress_line(ctx)):  # fmt: skip
        click.echo(f"wrote {project.relative(path)}")
