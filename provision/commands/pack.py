from __future__ import annotations

from pathlib import Path

import click

from ..config import cache_root
from .apply_options import select_target, target_options
from .common import mirrors_from


@click.command("pack")
@target_options
@click.option("--platform", "platform", required=True, help="The platform to pack, e.g. linux-64.")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The pack file.")
@click.option("--mirror", "mirrors", multiple=True, help="CHANNEL=URL or CHANNEL=FOLDER: fetch through a mirror.")
@click.pass_context
def command(
    ctx: click.Context, profile: str | None, lockfile: Path | None, prefix: Path | None, platform: str,
    output: Path, mirrors: tuple[str, ...],
) -> None:  # fmt: skip
    """Pack a locked platform (lock, every artifact checked against its hash, the profile's settings)
    into one file that `provision apply --pack FILE` installs with no network at all."""
    from dataclasses import replace

    from ..pack import write_pack

    target, _ = select_target(ctx, profile, lockfile, prefix)
    if platform not in target.lock.platforms:
        raise click.UsageError(f"the lock has no {platform}; it has {', '.join(target.lock.platforms)}")
    target = replace(target, platform=platform)
    summary = write_pack(target, mirrors_from(ctx, mirrors), cache_root(), output, lambda m: click.echo(m, err=True))
    click.echo(f"packed {summary.packages} packages for {platform} into {summary.path} ({summary.bytes / 1e6:.1f} MB)")
