from __future__ import annotations

import click

from ..errors import CheckFailed, ProfileError
from .common import json_option, print_json, project_from


@click.command("check")
@json_option
@click.pass_context
def command(ctx: click.Context, as_json: bool) -> None:
    """One check for CI and pre-commit: every profile valid, every generated file and lock fresh.

    No solving, no network. Exit 1 with every problem listed."""
    from ..generated import find_drift
    from ..layout import lock_path
    from ..lock.freshness import check_units
    from ..profile.load import load_profile, variant_units
    from ..render import render_project

    project = project_from(ctx)
    problems: list[dict[str, str]] = []
    profiles = {}
    for name in project.profile_names():
        try:
            profiles[name] = load_profile(project, name)
        except ProfileError as exc:
            problems.append({"kind": "profile", "where": f"profiles/{name}.yaml", "problem": exc.message})
    concrete = {n: p for n, p in profiles.items() if not p.abstract}
    units = [unit for _, profile in sorted(concrete.items()) for unit in variant_units(profile)]
    if len(profiles) == len(project.profile_names()):  # rendering needs every profile valid
        for drift in find_drift(project, render_project(concrete), [u.lock_name for u in units]):
            what = "out of date" if drift.reason == "changed" else drift.reason
            problems.append({"kind": "render", "where": drift.path, "problem": f"{what}; run `provision render`"})
    for status in check_units(project.root, units):
        for reason in status.reasons:
            problems.append({"kind": "lock", "where": f"{lock_path(status.profile)} [{status.platform}]",
                             "problem": f"{reason}; run `provision lock {status.profile.split('/')[0]}`"})  # fmt: skip
    if as_json:
        print_json({"ok": not problems, "profiles": len(profiles), "problems": problems})
    else:
        for problem in problems:
            click.echo(f"{problem['kind']:<8} {problem['where']}: {problem['problem']}")
        locks = sum(len(u.platforms) for u in units)
        click.echo(f"{len(profiles)} profiles, {locks} platform locks: "
                   + ("all fresh." if not problems else f"{len(problems)} problem(s)."))  # fmt: skip
    if problems:
        raise CheckFailed(f"{len(problems)} problem(s); see above.")
