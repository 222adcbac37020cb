from __future__ import annotations

from pathlib import Path

import click

from .common import json_option, print_json


@click.command("report")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), help="Write the comparison chart here.")
@json_option
def command(paths: tuple[Path, ...], png: Path | None, as_json: bool) -> None:
    """Aggregate `provision verify --report` results from many machines into one table and chart.

    A folder written by the exported Slurm job also lists the nodes it was given: a node with no
    report is shown as NO REPORT, a report with no results as NO RESULTS. Every node writes into that
    folder, so a file that is not a valid report is named in one line and the others are still shown.
    Exit 1 when any machine failed, never reported or reported no results, or any report was not valid."""
    from ..bench.team import chart, expected_nodes, load_reports, problems, rows, show, unreported
    from ..errors import CheckFailed

    reports, refused = load_reports(list(paths))
    nodes = frozenset(node for path in paths for node in expected_nodes(path))
    table = rows(reports, nodes) + unreported(list(paths), reports, refused)
    if as_json:
        print_json([row.as_json() for row in table])
    elif table:  # only refused files: their lines say it all
        show(table)
    if png is not None and table:  # with every report refused there is nothing to draw
        chart(table, png)
        if not as_json:
            click.echo(f"saved {png}")
    found = problems(table, refused)
    if found:
        raise CheckFailed("; ".join(found) + ".")
