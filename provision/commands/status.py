from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import CheckFailed, ProvisionError

if TYPE_CHECKING:
    from ..apply.drift import Drift
from .apply_options import pack_option, select_target, target_options
from .common import json_option, print_json


@click.command("status")
@target_options
@pack_option
@click.option("--files", "check_files", is_flag=True, help="Also hash every installed file against its record.")
@json_option
@click.pass_context
def command(
    ctx: click.Context, profile: str | None, lockfile: Path | None, prefix: Path | None, pack: Path | None,
    check_files: bool,
    as_json: bool,
) -> None:  # fmt: skip
    """Compare the environment on disk with its lock: one line per difference and layer.

    Exit 0 when the environment is exactly the lock, 1 when it differs (`provision apply` repairs it)."""
    from ..apply.inputs import observe

    target, _ = select_target(ctx, profile, lockfile, prefix, pack=pack)
    if not target.prefix.is_dir():
        raise ProvisionError(f"{target.prefix}: no environment here; run `{target.apply_command}`.")
    seen = observe(target, check_files, trust_fingerprint=False, account=check_files)
    drift = seen.drift
    finished = seen.stamp is not None and seen.stamp.same_lock(target.wanted)
    # A git entry has no artifact hash: say what pins it, so "exact" is never read as "hashed".
    by_commit = [p for p in target.packages if p.git_commit is not None]
    if as_json:
        print_json({"target": target.name, "variant": target.variant, "prefix": str(target.prefix),
                    "platform": target.platform,
                    "matches_lock": not drift, "last_apply_finished": finished,
                    "drift": [d.as_dict() for d in drift],
                    "pinned_by_commit": {p.name: p.git_commit for p in by_commit}})  # fmt: skip
    else:
        for difference in drift:
            click.echo(difference.line())
        for package in by_commit:
            click.echo(f"{package.name} {package.version}: pinned by {package.pin} (from git, no artifact hash)")
        if not finished:
            click.echo("note: the last apply of this lock did not finish; `provision apply` completes it", err=True)
        if not drift:
            checked = "packages, every file checked" if check_files else "packages checked"
            click.echo(f"{target.label}: the environment is exactly the lock ({len(target.packages)} {checked})")
    if drift:
        raise CheckFailed(f"{target.label}: {len(drift)} difference(s) from the lock; {_repair(drift)}.")


def _repair(drift: list[Drift]) -> str:
    """What mends these differences: apply repairs the packages it installed; a file of no package is not its
    to delete, and a changed link or scaffolding file comes back with a fresh environment."""
    from ..apply.drift import DriftKind, Layer

    packages = [d for d in drift if d.layer is not Layer.PREFIX]
    said = []
    if packages:
        deep = any(d.kind is DriftKind.FILES for d in packages)
        said.append("`provision apply --repair-files` repairs the packages" if deep else
                    "`provision apply` repairs the packages")  # fmt: skip
    if len(packages) < len(drift):
        said.append("remove the files provision did not write; `provision remove` and apply again makes the "
                    "environment anew")  # fmt: skip
    return "; ".join(said)
