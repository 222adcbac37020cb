from __future__ import annotations

from pathlib import Path

import click

from ..errors import AcceptanceFailed
from .common import json_option, print_json
from .verify import DEVICES


@click.command("bench")
@click.option("--python", "python", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The interpreter of the environment to test.")  # fmt: skip
@click.option("--framework", required=True, type=click.Choice(["torch", "tensorflow", "jax", "mlx"]),
              help="The framework whose matrix multiply is measured.")  # fmt: skip
@click.option("--device", type=DEVICES, default="auto", show_default=True,
              help="Where it runs (auto: the accelerator the framework finds, else the CPU).")  # fmt: skip
@click.option("--quick", is_flag=True, help="Fewer sizes and samples.")
@click.option(
    "--report", "report_dir", type=click.Path(file_okay=False, path_type=Path), help="Save JSON and PNG here."
)
@json_option
def command(python: Path, framework: str, device: str, quick: bool, report_dir: Path | None, as_json: bool) -> None:
    """Run one acceptance benchmark with any interpreter (default thresholds). Exit 4 on FAIL."""
    from ..bench import report
    from ..bench.run import benchmark
    from ..profile.model import Thresholds

    click.echo(f"acceptance: {framework} on {device} with {python} (about {15 if quick else 30} s)", err=True)
    result = benchmark(python, framework, device, quick, Thresholds())
    if as_json:
        print_json(result.to_json())
    else:
        report.show([result], f"{framework} with {python}")
    if report_dir is not None:
        paths = report.save([result], report_dir, framework, {"python": str(python)})
        if not as_json:
            click.echo("saved " + ", ".join(str(p) for p in paths))
    if not result.passed:
        raise AcceptanceFailed(f"{framework}: acceptance verdict FAIL.")
