from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..app import app_of
from ..errors import ProvisionError
from .apply_options import lockfile_option
from .common import json_option, print_json

if TYPE_CHECKING:
    from ..consumers.lockdiff import PlatformDiff


@click.command("diff")
@click.argument("profile", required=False)
@lockfile_option
@click.option("--against", default="HEAD", show_default=True,
              help="A git revision, or the path of another lock (conda-lock.yml or @EXPLICIT); with --lockfile, "
                   "a path.")  # fmt: skip
@json_option
@click.pass_context
def command(ctx: click.Context, profile: str | None, lockfile: Path | None, against: str, as_json: bool) -> None:
    """What changed in PROFILE's lock (or between --lockfile and --against, two locks of anyone's),
    per platform and layer (Markdown for a pull request)."""
    from ..consumers.lockdiff import as_json as diff_json
    from ..consumers.lockdiff import as_markdown, diff_locks
    from ..layout import lock_path
    from ..lock.lockfile import read_lock

    if (profile is None) == (lockfile is None):
        raise click.UsageError("give a PROFILE or --lockfile PATH (one of them)")
    if lockfile is not None:
        if not Path(against).is_file():
            raise click.UsageError(f"--against {against}: with --lockfile, give the path of the other lock")
        diffs = diff_locks(read_lock(Path(against)), read_lock(lockfile))
        title = f"Lock changes from {against} to {lockfile}"
        if as_json:
            print_json({"lockfile": str(lockfile), "against": against, "platforms": diff_json(diffs)})
        else:
            click.echo(as_markdown(title, diffs))
        return
    assert profile is not None
    from ..profile.load import load_profile, variant_units

    project = app_of(ctx).project
    reports = []
    for unit in variant_units(load_profile(project, profile)):  # every variant: a review sees them all
        relative = lock_path(unit.lock_name)
        label, diffs = _against(project.root, relative, against)
        reports.append((unit.lock_name, label, diffs))
    if as_json:
        platforms = {name: diff_json(diffs) for name, _, diffs in reports}
        print_json({"profile": profile, "against": reports[0][1],
                    "platforms": platforms[profile] if len(reports) == 1 else platforms})  # fmt: skip
        return
    for name, label, diffs in reports:
        click.echo(as_markdown(f"Lock changes for `{name}` (against {label})", diffs))


def _against(root: Path, relative: str, against: str) -> tuple[str, list[PlatformDiff]]:
    """The lock at `relative` compared with `against`: another lock file, or the same path at a git revision."""
    from ..consumers.lockdiff import diff_locks
    from ..lock.lockfile import read_lock
    from ..runner import run

    current = read_lock(root / relative, str(relative))
    other_path = Path(against)
    if other_path.is_file():
        old, label = read_lock(other_path), str(other_path)
    else:
        shown = run(["git", "-C", str(root), "show", f"{against}:{relative}"], check=False)
        if shown.returncode != 0:
            if "exists on disk, but not in" in shown.stderr or "does not exist in" in shown.stderr:
                old, label = None, f"{against} (no lock there)"
            else:
                raise ProvisionError(f"--against {against}: not a file and not a git revision holding {relative}.")
        else:
            with tempfile.NamedTemporaryFile("w", suffix="-conda-lock.yml", delete=False) as handle:
                handle.write(shown.stdout)
            old, label = read_lock(Path(handle.name), f"{against}:{relative}"), against
            Path(handle.name).unlink()
    return label, diff_locks(old, current)
