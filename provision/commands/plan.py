from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .apply_options import (
    adopt_option,
    facts_option,
    insecure_option,
    pack_option,
    select_target,
    target_options,
    verify_choice,
)
from .common import json_option, print_json

if TYPE_CHECKING:
    from ..apply.plan import Plan


def print_plan(plan: Plan) -> None:
    click.echo(f"{plan.target} -> {plan.prefix} ({plan.platform})")
    for step in plan.steps:
        click.echo(f"  {step.action.value:<4} {step.name.value:<11} {step.reason}")
    for drift in plan.drift:
        click.echo(f"  differs: {drift.line()}")
    click.echo("up to date." if plan.up_to_date else "changes pending.")


@click.command("plan")
@target_options
@pack_option
@click.option("--no-brew", is_flag=True, help="Leave Homebrew out.")
@click.option("--no-verify", is_flag=True, help="Leave the acceptance benchmarks out.")
@adopt_option
@insecure_option
@facts_option
@json_option
@click.pass_context
def command(
    ctx: click.Context, profile: str | None, lockfile: Path | None, prefix: Path | None, pack: Path | None,
    no_brew: bool, no_verify: bool, adopt: bool, allow_http: bool, facts_dir: Path | None, as_json: bool,
) -> None:  # fmt: skip
    """Show what `apply` would do on this machine (or the one --facts describes), and why.
    Changes nothing; lists the preflight problems apply would stop on."""
    from ..apply.inputs import Options, look_and_plan, preflight_problems

    target, host = select_target(ctx, profile, lockfile, prefix, facts_dir, allow_http, pack, by_host=True)
    from ..machine.facts import override_note

    verify, why_not = verify_choice(no_verify, host)
    plan = look_and_plan(target, host, Options(use_brew=not no_brew, verify=verify, adopt=adopt,
                                               no_verify_reason=why_not))[1]  # fmt: skip
    for note in [override_note(host), target.variant_reason]:
        if note and not as_json:
            click.echo(f"note: {note}", err=True)
    problems = preflight_problems(target, host)
    if as_json:
        print_json({**plan.as_dict(), "preflight_problems": problems})
    else:
        for problem in problems:  # first: the plan below would not be carried out here
            click.echo(f"preflight: {problem}")
        print_plan(plan)
    if problems:
        from ..errors import HostUnfit

        raise HostUnfit(f"{target.label}: apply would stop before any change on this machine: "
                        f"{len(problems)} preflight problem(s), listed above.")  # fmt: skip
