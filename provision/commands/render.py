from __future__ import annotations

import click

from ..app import app_of
from ..errors import CheckFailed
from .common import json_option, print_json


@click.command("render")
@click.argument("profile", required=False)
@click.option("--all", "render_all", is_flag=True, help="Render every profile and the root files (the default).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 with a diff if a committed file differs.")
@click.option("--force", is_flag=True, help="Also replace files that provision did not write (no generated header).")
@json_option
@click.pass_context
def command(ctx: click.Context, profile: str | None, render_all: bool, check: bool, force: bool, as_json: bool) -> None:
    """Write envs/<profile>/environment.yml and Brewfile, and the root Brewfile and flake.nix."""
    from ..generated import find_drift, write_files  # the stages load when the command runs, not for --help
    from ..profile.load import concrete_profiles, load_profile, variant_units
    from ..render import profile_files, render_project

    if profile and render_all:
        raise click.UsageError("give a PROFILE or --all, not both")
    project = app_of(ctx).project
    if profile:
        resolved = load_profile(project, profile)
        if resolved.abstract:
            raise click.UsageError(f"{profile} is abstract (only extended); render a profile that extends it")
        files, known = profile_files(resolved), None
    else:
        profiles = concrete_profiles(project)
        files = render_project(profiles)
        known = sorted(unit.lock_name for profile in profiles.values() for unit in variant_units(profile))
    if not check:
        written = write_files(project, files, force)
        if as_json:
            print_json({"written": [str(project.relative(p)) for p in written], "files": len(files)})
            return
        for path in written:
            click.echo(f"wrote {project.relative(path)}")
        click.echo(f"{len(files)} files rendered, {len(written)} changed.")
        return
    drift = find_drift(project, files, known)
    if as_json:
        print_json({"fresh": not drift, "drift": [d.__dict__ for d in drift]})
    else:
        for item in drift:
            click.echo(item.diff or f"{item.path}: {item.reason}")
        click.echo(f"{len(files)} files checked, {len(drift)} out of date.")
    if drift:
        summary = ", ".join(f"{d.path} ({d.reason})" for d in drift)
        raise CheckFailed(f"generated files are out of date: {summary}; run `provision render` and commit.")
