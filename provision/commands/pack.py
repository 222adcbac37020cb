from __future__ import annotations

from pathlib import Path

import click

from ..app import app_of
from ..config import cache_root
from .apply_options import select_target, target_options


@click.command("pack")
@target_options
@click.option("--platform", "platform", help="The platform to pack, e.g. linux-64 (default: this machine's).")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The pack file.")
@click.option("--mirror", "mirrors", multiple=True, help="CHANNEL=URL or CHANNEL=FOLDER: fetch through a mirror.")
@click.option(
    "--bootstrap-python",
    "pythons",
    multiple=True,
    metavar="X.Y",
    help="Also carry provision for this Python (repeatable; the bootstrap profile's is always carried).",
)
@click.option("--no-bootstrap", is_flag=True,
              help="Leave provision itself out (the node then needs provision to apply the pack).")  # fmt: skip
@click.option("--sign", "key", type=click.Path(dir_okay=False, exists=True, path_type=Path), metavar="KEYFILE",
              help="Also sign the pack with this OpenSSH key into FILE.sig (`ssh-keygen -Y sign`); "
              "`apply --pack FILE --allowed-signers SIGNERS` checks it.")  # fmt: skip
@click.pass_context
def command(
    ctx: click.Context, profile: str | None, lockfile: Path | None, prefix: Path | None, platform: str | None,
    output: Path, mirrors: tuple[str, ...], pythons: tuple[str, ...], no_bootstrap: bool, key: Path | None,
) -> None:  # fmt: skip
    """Pack a locked platform (lock, every artifact checked against its hash, the profile's settings)
    and provision itself into one file that installs with no network at all: `python3 FILE apply`
    on a node with only python3, or `provision apply --pack FILE`. Its sha256 goes beside it in
    FILE.sha256 (and, with --sign, its signature in FILE.sig): what checks the pack from outside."""
    from dataclasses import replace

    from ..consumers.bootstrap import bootstrap_for
    from ..consumers.pack import checksum_file, sign_pack, write_pack

    target, _ = select_target(ctx, profile, lockfile, prefix)
    platform = platform or target.platform  # select_target's platform is this machine's
    if platform not in target.lock.platforms:
        locked = ", ".join(target.lock.platforms)
        raise click.UsageError(f"the lock has no {platform}; it has {locked} (give --platform)")
    target = replace(target, platform=platform)
    bootstrap = None if no_bootstrap else bootstrap_for(_bootstrap_root(ctx), platform, _checked_pythons(pythons))
    summary = write_pack(target, app_of(ctx).mirrors(mirrors), cache_root(), output, app_of(ctx).progress(),
                         bootstrap)  # fmt: skip
    click.echo(f"packed {summary.packages} packages for {platform} into {summary.path} ({summary.bytes / 1e6:.1f} MB)")
    click.echo(f"sha256 {summary.sha256} (in {checksum_file(summary.path)}, which `sha256sum -c` and "
               "`--sha256-file` read)")  # fmt: skip
    if key is not None:
        click.echo(f"signed: {sign_pack(summary.path, key)} (checked by `--allowed-signers FILE`)")
    if bootstrap is not None:
        click.echo(f"on a node with python {' or '.join(bootstrap.pythons)}: python3 {summary.path} apply --yes "
                   f"--sha256 {summary.sha256}")  # fmt: skip


def _bootstrap_root(ctx: click.Context) -> Path:
    """The project whose root lock is the bootstrap (a --lockfile's own folder is not one)."""
    from ..errors import ProjectNotFound, ProvisionError

    try:
        return app_of(ctx).project.root
    except ProjectNotFound:
        raise ProvisionError(
            "no provision project here, so no bootstrap lock to pack provision itself from: run in the project, "
            "or pack with --no-bootstrap (the node then needs provision)"
        ) from None


def _checked_pythons(pythons: tuple[str, ...]) -> tuple[str, ...]:
    from .. import grammar

    for python in pythons:
        if not grammar.full(grammar.PYTHON, python) or python.count(".") != 1 or int(python.split(".")[1]) < 10:
            raise click.BadParameter(f"{python!r}: give a Python version like 3.12 (3.10 or newer)",
                                     param_hint="--bootstrap-python")  # fmt: skip
    return pythons
