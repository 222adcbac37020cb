from __future__ import annotations

import click

from ..app import app_of
from ..errors import CheckFailed
from .common import json_option, print_json


@click.command("check")
@json_option
@click.pass_context
def command(ctx: click.Context, as_json: bool) -> None:
    """One check for CI and pre-commit: every profile valid, every generated file and lock fresh.

    No solving, no network. Exit 1 with every problem listed."""
    from ..consumers.project_check import check_project

    checked = check_project(app_of(ctx).project)
    problems = checked.problems
    if as_json:
        print_json({"ok": not problems, "profiles": len(checked.valid), "problems": [p.as_dict() for p in problems]})
    else:
        for problem in problems:
            click.echo(problem.line())
        click.echo(f"{len(checked.valid)} profiles, {checked.locks} platform locks: "
                   + ("all fresh." if not problems else f"{len(problems)} problem(s)."))  # fmt: skip
    if problems:
        raise CheckFailed(f"{len(problems)} problem(s); see above.")
