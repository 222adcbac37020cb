from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import CheckFailed
from ..profile.model import Profile
from ..project import Project
from .apply_options import host_facts, say_unknown_files
from .common import json_option, print_json, project_from

if TYPE_CHECKING:
    from ..machine.requirements import Finding

MARK = {"error": "ERROR  ", "warning": "warning", "info": "info   "}


@click.command("doctor")
@click.option("--facts", "facts_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Diagnose saved host facts instead of this machine.")  # fmt: skip
@click.option("--save-facts", "save_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write the raw outputs of the commands run here (to replay with --facts).")  # fmt: skip
@click.option("--strict", is_flag=True, help="Also exit 1 when a requirement could not be checked (a fact unknown).")
@json_option
@click.pass_context
def command(ctx: click.Context, facts_dir: Path | None, save_dir: Path | None, strict: bool, as_json: bool) -> None:
    """Find host problems that break ML setups, each with its exact fix. Exit 1 on an error."""
    from ..errors import ProfileError, ProjectNotFound
    from ..grammar import printable
    from ..machine.doctor import diagnose
    from ..machine.facts import collect_raw, load_raw, override_note, parse_facts, save_raw, with_overrides
    from ..profile.load import concrete_profiles

    raw = load_raw(facts_dir) if facts_dir else collect_raw()
    if facts_dir:
        say_unknown_files(facts_dir)
    if save_dir is not None:
        save_raw(raw, save_dir)
    if facts_dir or save_dir:
        host = with_overrides(parse_facts(raw, f"{facts_dir}/" if facts_dir else ""), os.environ)
    else:
        host = host_facts(None)
    from ..machine.requirements import Finding, Severity

    invalid: list[Finding] = []
    try:
        profiles = concrete_profiles(project_from(ctx))
    except ProjectNotFound:
        profiles = {}  # outside a project: host checks only
    except ProfileError as exc:
        # An invalid profile is a problem of this setup, not a reason to drop every profile check.
        invalid.append(Finding(Severity.ERROR, "profile", exc.message, "fix the profile at that location"))
        profiles = _valid_profiles(project_from(ctx))
    findings = invalid + diagnose(host, profiles) + _project_findings(ctx)
    if as_json:
        print_json({"host": host.as_dict(), "findings": [f.as_dict() for f in findings]})
    else:
        gib = f"{host.memory_bytes / 2**30:.0f} GiB" if host.memory_bytes else "? GiB"
        system = f"macOS {host.macos}" if host.macos else host.system
        python = f"Python {host.python_version or '(version not recorded)'} ({host.machine})"
        gpus = ""
        if host.gpus:
            names = sorted({g.name for g in host.gpus})
            gpus = f", {len(host.gpus)} x {' / '.join(names)} (driver {host.nvidia_driver}, CUDA {host.cuda_driver})"
        shown = printable  # facts may come from another machine's files: no raw control characters
        click.echo(shown(f"{host.chip or host.cpu_model or host.machine}, {gib}, {system}, {python}{gpus}"))
        note = override_note(host)
        if note:
            click.echo(f"note: {note}")
        for finding in findings:
            click.echo(shown(f"{MARK[finding.severity.value]}  {finding.topic}: {finding.message}"))
            click.echo(shown(f"         fix: {finding.fix}"))
        if not findings:
            click.echo("no problems found")
        if save_dir is not None:
            click.echo(f"raw outputs saved in {save_dir}")
    from ..machine.requirements import UNCHECKED

    errors = [f for f in findings if f.severity.value == "error" or (strict and f.message.startswith(UNCHECKED))]
    if errors:
        raise CheckFailed(f"{len(errors)} error(s): " + "; ".join(f.topic for f in errors) + ".")


def _valid_profiles(project: Project) -> dict[str, Profile]:
    from ..errors import ProfileError
    from ..profile.load import load_profile

    valid = {}
    for name in project.profile_names():
        try:
            profile = load_profile(project, name)
        except ProfileError:
            continue
        if not profile.abstract:
            valid[name] = profile
    return valid


def _project_findings(ctx: click.Context) -> list[Finding]:
    """The project's own soundness, by `check`'s rules (an invalid profile is already a finding above)."""
    from ..consumers.project_check import check_project
    from ..errors import ProjectNotFound
    from ..machine.requirements import Finding, Severity

    try:
        checked = check_project(project_from(ctx))
    except ProjectNotFound:
        return []
    stale = [p for p in checked.problems if p.kind != "profile"]
    if not stale:
        return []
    first = stale[0]
    more = f" (and {len(stale) - 1} more)" if len(stale) > 1 else ""
    return [Finding(Severity.WARNING, "project", f"{first.where}: {first.problem}{more}",
                    "`provision check` lists every problem of the project")]  # fmt: skip
