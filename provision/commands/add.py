from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from ..app import app_of
from ..platforms import NAMES

PLATFORM = click.Choice(NAMES)


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
    comments and order, then re-lock PROFILE. An invalid result, or one that cannot be locked, leaves the
    profile as it was."""
    from ..profile.editing import add_packages
    from ..profile.merge import conda_name, pypi_name

    key = pypi_name if pypi else conda_name
    names = [key(spec) for spec in specs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise click.UsageError(f"{twice[0]} is named twice ({', '.join(s for s in specs if key(s) == twice[0])}); "
                               "give one spec per package")  # fmt: skip
    project = app_of(ctx).project
    with restored_on_failure(ctx, profile):
        path = add_packages(project, profile, list(specs), pypi, platform)
        click.echo(f"updated {project.relative(path)}: {', '.join(specs)}")
        if not no_lock:
            relock(ctx, profile, mirrors)


@contextmanager
def restored_on_failure(ctx: click.Context, profile: str) -> Iterator[None]:
    """The profile and its rendered files as they were when the edit or its lock fails (the old lock is
    never replaced by a failed solve): an edit either lands whole, locked, or not at all."""
    from ..generated import write_files
    from ..profile.load import load_profile
    from ..render import profile_files

    project = app_of(ctx).project
    path = project.require_profile(profile)
    before = path.read_bytes()
    try:
        yield
    except BaseException:
        if path.read_bytes() != before:
            path.write_bytes(before)
            write_files(project, profile_files(load_profile(project, profile)))
            click.echo(f"restored {project.relative(path)}: the change could not be locked", err=True)
        raise


def relock(ctx: click.Context, profile: str, mirrors: tuple[str, ...]) -> None:
    """Lock the edited profile and render its files, as `provision lock PROFILE` and `render` would."""
    from ..config import cache_root
    from ..generated import write_files
    from ..lock.locker import lock_profile
    from ..profile.load import load_profile
    from ..render import profile_files

    project = app_of(ctx).project
    resolved = load_profile(project, profile)
    for written in write_files(project, profile_files(resolved)):
        click.echo(f"wrote {project.relative(written)}")
    for path in lock_profile(project, resolved, app_of(ctx).mirrors(mirrors), cache_root() / "rattler",
                             progress=app_of(ctx).progress()):  # fmt: skip
        click.echo(f"wrote {project.relative(path)}")
