from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..app import app_of
from ..errors import CheckFailed, ToolFailed
from .common import json_option, print_json

if TYPE_CHECKING:  # the stages load when the command runs: `lock --help` loads click only
    from ..profile.model import Profile
    from ..project import Project


@click.command("lock")
@click.argument("profile", required=False)
@click.option("--all", "lock_all", is_flag=True, help="Every profile (the default).")
@click.option("--platform", "platforms", multiple=True, help="Only re-solve this platform (repeatable).")
@click.option("--check", is_flag=True, help="Solve nothing: exit 1 if any lock is stale, with the reasons.")
@click.option("--update", "update", multiple=True, help="Let this package move to a newer version (repeatable).")
@click.option("--update-all", is_flag=True, help="Forget the previous lock's versions.")
@click.option("--mirror", "mirrors", multiple=True, help="CHANNEL=URL or CHANNEL=FOLDER: solve through a mirror.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), help="Solves at once (default 8).")
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    profile: str | None,
    lock_all: bool,
    platforms: tuple[str, ...],
    check: bool,
    update: tuple[str, ...],
    update_all: bool,
    mirrors: tuple[str, ...],
    jobs: int | None,
    as_json: bool,
) -> None:
    """Write envs/<profile>/conda-lock.yml (the bootstrap lock: ./conda-lock.yml)."""
    from ..config import cache_root
    from ..profile.load import load_profile, lock_units, variant_units

    if profile and lock_all:
        raise click.UsageError("give a PROFILE or --all, not both")
    project = app_of(ctx).project
    if profile:
        asked = load_profile(project, profile)
        if asked.abstract:
            raise click.UsageError(f"{profile} is abstract (only extended); lock a profile that extends it")
        profiles = {unit.lock_name: unit for unit in variant_units(asked)}
    else:
        profiles = lock_units(project)
    if check:
        _check(project, profiles, set(platforms), as_json)
        return
    from ..lock.locker import DEFAULT_JOBS, lock_profiles

    requests: list[tuple[Profile, list[str] | None]] = []
    for name, resolved in profiles.items():
        unknown = [p for p in platforms if p not in resolved.platforms]
        if unknown and profile:  # a profile's variants share its platforms
            raise click.UsageError(f"{name} does not list platform {unknown[0]}; it has {resolved.platforms}")
        wanted: list[str] | None = [p for p in platforms if p in resolved.platforms] or None
        if platforms and not wanted:
            continue
        requests.append((resolved, wanted))
    outcomes = lock_profiles(
        project, requests, app_of(ctx).mirrors(mirrors), cache_root() / "rattler", frozenset(update), update_all,
        progress=app_of(ctx).progress(as_json), jobs=jobs or DEFAULT_JOBS,
    )  # fmt: skip
    written = [str(project.relative(o.path)) for o in outcomes if o.path is not None]
    failed = [o for o in outcomes if o.error is not None]
    fresh = [o.profile for o in outcomes if o.fresh]
    if as_json:
        print_json({"written": written, "fresh": fresh,
                    "failed": {o.profile: o.error.message for o in failed if o.error}})  # fmt: skip
    else:
        for line in written:
            click.echo(f"wrote {line}")
        for name in fresh:
            click.echo(f"{name}: fresh, nothing to solve (--update-all solves it again)")
    if len(failed) == 1 and len(outcomes) == 1 and failed[0].error is not None:
        raise failed[0].error
    if failed:
        for outcome in failed:
            click.echo(f"error: {outcome.error.message if outcome.error else ''}", err=True)
        raise ToolFailed(f"{len(failed)} of {len(outcomes)} profiles could not be locked "
                         f"({', '.join(o.profile for o in failed)}); their old locks are unchanged.")  # fmt: skip


def _check(project: Project, profiles: dict[str, Profile], platforms: set[str], as_json: bool) -> None:
    from ..lock.freshness import check_units

    statuses = check_units(project.root, list(profiles.values()))
    statuses = [s for s in statuses if not platforms or s.platform in platforms]
    stale = [s for s in statuses if not s.fresh]
    if as_json:
        print_json([{"profile": s.profile, "platform": s.platform, "fresh": s.fresh, "reasons": s.reasons,
                     "kinds": [reason.kind.value for reason in s.stale]} for s in statuses])  # fmt: skip
    else:
        width = max([12, *(len(s.profile) for s in statuses)])  # `torch-linux/cuda`: variants widen the column
        for s in statuses:
            verdict = "fresh" if s.fresh else "STALE: " + "; ".join(s.reasons)
            click.echo(f"{s.profile:<{width}} {s.platform:<14} {verdict}")
        click.echo(f"{len(statuses)} platform locks checked, {len(stale)} stale.")
    if stale:
        names = ", ".join(f"{s.profile} [{s.platform}]" for s in stale)
        raise CheckFailed(f"stale locks: {names}; run `provision lock` and commit the result.")
