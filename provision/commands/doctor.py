from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..app import app_of
from ..errors import CheckFailed
from .apply_options import host_facts, say_unknown_files
from .common import json_option, print_json

if TYPE_CHECKING:
    from ..consumers.project_check import ProjectCheck
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
    from ..grammar import printable
    from ..machine.doctor import diagnose
    from ..machine.facts import collect_raw, load_raw, override_note, parse_facts, save_raw, with_overrides

    raw = load_raw(facts_dir) if facts_dir else collect_raw()
    if facts_dir:
        say_unknown_files(facts_dir)
    if save_dir is not None:
        save_raw(raw, save_dir)
    if facts_dir or save_dir:
        host = with_overrides(parse_facts(raw, f"{facts_dir}/" if facts_dir else ""), os.environ)
    else:
        host = host_facts(None)
    from ..consumers.project_check import check_project

    project = app_of(ctx).project_if_any()  # outside a project: host checks only
    checked = check_project(project) if project is not None else None  # its profiles, files and locks, as `check`
    profiles = {name: p for name, p in checked.valid.items() if not p.abstract} if checked else {}
    findings = diagnose(host, profiles)
    if checked is not None:
        findings = _project_findings(checked) + findings
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


def _project_findings(checked: ProjectCheck) -> list[Finding]:
    """An invalid profile is an error of this setup (the valid ones are still checked); a stale generated file or
    lock, a warning with check's first problem."""
    from ..machine.requirements import Finding, Severity

    out = [Finding(Severity.ERROR, "profile", p.problem, "fix the profile at that location")
           for p in checked.problems if p.kind == "profile"]  # fmt: skip
    stale = [p for p in checked.problems if p.kind != "profile"]
    if stale:
        first, more = stale[0], f" (and {len(stale) - 1} more)" if len(stale) > 1 else ""
        out.append(Finding(Severity.WARNING, "project", f"{first.where}: {first.problem}{more}",
                           "`provision check` lists every problem of the project"))  # fmt: skip
    return out
