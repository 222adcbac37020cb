"""Options shared by plan, apply, run, shell and remove, and the target they select."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..apply.target import Target, target_for_lockfile, target_for_profile
from ..host import HostFacts, this_host
from .common import project_from

F = Callable[..., Any]


def target_options(func: F) -> F:
    func = click.option(
        "--prefix", type=click.Path(file_okay=False, path_type=Path), help="Environment folder "
        "(default: ~/.provision/envs/PROFILE, or $PROVISION_HOME/envs/PROFILE)."
    )(func)  # fmt: skip
    func = click.option(
        "--lockfile", type=click.Path(dir_okay=False, exists=True, path_type=Path),
        help="Apply a conda-lock.yml written by conda-lock (or anyone) instead of a profile.",
    )(func)  # fmt: skip
    return click.argument("profile", required=False)(func)


facts_option = click.option(
    "--facts", "facts_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Read host facts saved by `provision doctor --save-facts DIR` instead of this machine's.",
)  # fmt: skip


def host_facts(facts_dir: Path | None) -> HostFacts:
    if facts_dir is None:
        return this_host()
    from ..host import load_raw, parse_facts

    return parse_facts(load_raw(facts_dir))


def select_target(
    ctx: click.Context, profile: str | None, lockfile: Path | None, prefix: Path | None, facts_dir: Path | None = None
) -> tuple[Target, HostFacts]:
    if bool(profile) == bool(lockfile):
        raise click.UsageError("give a PROFILE or --lockfile PATH (one of them)")
    host = host_facts(facts_dir)
    platform = host.subdir or f"{host.system}-{host.machine}".lower()
    if lockfile:
        return target_for_lockfile(lockfile, prefix, platform), host
    assert profile is not None
    return target_for_profile(project_from(ctx), profile, prefix, platform), host
