from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..app import app_of
from .apply_options import adopt_option, insecure_option, pack_option, select_target, target_options, verify_choice
from .common import json_option, next_steps, print_json, subject_of
from .plan import print_plan

if TYPE_CHECKING:
    from ..apply.inputs import Options


@contextmanager
def progress(quiet: bool) -> Iterator[tuple[Callable[[str], None], Callable[[str], None]]]:
    """Step lines and per-package updates: a live spinner on a terminal, plain lines in CI."""
    if quiet:
        yield (lambda message: None), (lambda message: None)
    elif sys.stderr.isatty():
        from rich.console import Console

        console = Console(stderr=True)
        with console.status("applying ...") as status:

            def say(message: str) -> None:
                console.print(f"==> {message}", highlight=False)
                status.update(message)

            yield say, status.update
    else:
        yield (lambda message: click.echo(f"==> {message}", err=True)), (lambda message: None)


@click.command("apply")
@target_options
@click.option("--mirror", "mirrors", multiple=True, help="CHANNEL=URL or CHANNEL=FOLDER: install through a mirror.")
@click.option("--dry-run", is_flag=True, help="Print the plan and change nothing.")
@click.option("--no-brew", is_flag=True, help="Skip the Homebrew step.")
@click.option("--no-verify", is_flag=True, help="Skip the acceptance benchmarks.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before changing an existing environment.")
@click.option("--no-wait", is_flag=True, help="Fail instead of waiting when another apply holds the environment.")
@click.option("--jupyter", is_flag=True, help="Register the environment as a Jupyter kernel named after the profile.")
@click.option("--keep-extras", is_flag=True, help="Leave packages installed outside the lock in place.")
@click.option("--repair-files", is_flag=True, help="Hash every installed file; reinstall packages whose files changed.")
@pack_option
@adopt_option
@insecure_option
@json_option
@click.pass_context
def command(
    ctx: click.Context, profile: str | None, lockfile: Path | None, prefix: Path | None, mirrors: tuple[str, ...],
    dry_run: bool, no_brew: bool, no_verify: bool, yes: bool, no_wait: bool, jupyter: bool, keep_extras: bool,
    repair_files: bool, pack: Path | None, adopt: bool, allow_http: bool, as_json: bool,
) -> None:  # fmt: skip
    """Install a locked profile on this machine, then prove it works.

    Preflight checks come first; what differs between the lock and the environment is repaired
    (packages missing, changed or installed outside the lock); downloads are verified against the
    lock's hashes before anything changes; acceptance runs after a change."""
    from ..apply.inputs import Options

    _apply(ctx, Request(profile, lockfile, prefix, mirrors, dry_run, yes, as_json, allow_http, pack),
           Options(use_brew=not no_brew, verify=not no_verify, wait=not no_wait, jupyter=jupyter, adopt=adopt,
                   keep_extras=keep_extras, check_files=repair_files))  # fmt: skip


@dataclass(frozen=True)
class Request:
    """What the user asked for, besides the apply options."""

    profile: str | None
    lockfile: Path | None
    prefix: Path | None
    mirrors: tuple[str, ...]
    dry_run: bool
    yes: bool
    as_json: bool
    allow_http: bool
    pack: Path | None


def _apply(ctx: click.Context, request: Request, asked: Options) -> None:
    started = time.perf_counter()
    from ..apply.execute import apply_target
    from ..apply.inputs import look_and_plan
    from ..apply.plan import StepName
    from ..config import cache_root
    from ..errors import AcceptanceFailed
    from ..machine.facts import override_note

    as_json, app = request.as_json, app_of(ctx)
    target, host = select_target(
        ctx, request.profile, request.lockfile, request.prefix, allow_http=request.allow_http, pack=request.pack,
        by_host=True,
    )  # fmt: skip
    from ..apply.inputs import preflight_warnings

    note = override_note(host)
    if note and not as_json:
        click.echo(f"note: {note}", err=True)
    if target.variant_reason and not as_json:
        click.echo(f"note: {target.variant_reason}", err=True)
    for warning in [] if as_json else preflight_warnings(target, host):
        click.echo(f"warning: {warning}", err=True)
    verify, why_not = verify_choice(not asked.verify, host)
    options = replace(asked, verify=verify, no_verify_reason=why_not)
    seen, plan = look_and_plan(target, host, options)  # the one look: the executor looks again only if it moved
    if request.dry_run:
        print_json(plan.as_dict()) if as_json else print_plan(plan)
        return
    interactive = sys.stdin.isatty() and not as_json
    if interactive and not request.yes and not plan.up_to_date and target.prefix.exists():
        print_plan(plan)
        click.confirm("Change this environment?", default=True, abort=True)
    with progress(quiet=as_json or app.quiet) as (say, tick):
        done = apply_target(target, host, options, app.mirrors(request.mirrors), cache_root(), say, (seen, plan), tick)
    verdict = None
    if done.step(StepName.VERIFY).acts and not done.up_to_date:
        from ..bench.verify import verify_target

        verdict = verify_target(subject_of(target), device=None, quick=False, report_dir=None, show=not as_json)
    elapsed = time.perf_counter() - started
    report: dict[str, object] = {"plan": done.as_dict(), "seconds": round(elapsed, 3)}
    if verdict is not None:
        report["verify"] = verdict.to_json()
    if as_json:
        print_json(report)
    elif done.up_to_date:
        click.echo(f"{target.label}: up to date ({target.prefix})")
    else:
        click.echo(f"{target.label}: applied to {target.prefix} in {elapsed:.1f} s")
        if not app.quiet:
            click.echo(next_steps(target.name if request.profile else target.origin, target.benchmarks, app.root,
                                  request.prefix if request.profile else None))  # fmt: skip
    if verdict is not None:
        from ..bench.values import Status  # only when something was verified: --no-verify never loads bench

        if verdict.status is not Status.PASS:
            raise AcceptanceFailed(f"{target.label}: acceptance failed; see the table above (`provision verify`).")
