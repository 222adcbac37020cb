from __future__ import annotations

from pathlib import Path

import click

from ..errors import AcceptanceFailed
from .apply_options import pack_option, select_target, target_options
from .common import json_option, print_json, subject_of

DEVICES = click.Choice(["auto", "cpu", "cuda", "mps", "gpu"])


@click.command("verify")
@target_options
@pack_option
@click.option("--device", type=DEVICES, help="Override the profile's acceptance device.")
@click.option("--quick", is_flag=True,
              help="Fewer sizes and samples (about 15 s per framework); also PROVISION_VERIFY=quick.")  # fmt: skip
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Save verify-PROFILE.json and verify-PROFILE.png here.")  # fmt: skip
@click.option("--distributed", is_flag=True,
              help="Instead: the ranks of this Slurm step (or --ranks processes on this host) all-reduce, measure "
              "bus bandwidth and take a data-parallel training step together.")  # fmt: skip
@click.option("--ranks", type=click.IntRange(2, 64), default=2, show_default=True,
              help="With --distributed outside Slurm: processes on this host (loopback).")  # fmt: skip
@json_option
@click.pass_context
def command(
    ctx: click.Context, profile: str | None, lockfile: Path | None, prefix: Path | None, pack: Path | None,
    device: str | None, quick: bool, report_dir: Path | None, distributed: bool, ranks: int, as_json: bool,
) -> None:  # fmt: skip
    """Prove PROFILE's environment works: placement, correctness, speed. Exit 4 on FAIL."""
    from ..bench.values import Status
    from ..bench.verify import verify_target

    target, _ = select_target(ctx, profile, lockfile, prefix, pack=pack)
    if distributed:
        from ..bench.distributed import verify_distributed

        if verify_distributed(subject_of(target), ranks, report_dir, show=not as_json) is not Status.PASS:
            raise AcceptanceFailed(f"{target.label}: distributed acceptance verdict FAIL.")
        return
    acceptance = verify_target(subject_of(target), device, quick, report_dir, show=not as_json)
    if as_json:
        print_json(acceptance.to_json())
    elif acceptance.files:
        click.echo("saved " + ", ".join(acceptance.files))
    if acceptance.status is not Status.PASS:
        raise AcceptanceFailed(f"{target.label}: acceptance verdict FAIL.")
