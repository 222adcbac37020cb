from __future__ import annotations

import click

from ..app import app_of
from ..errors import CheckFailed
from ..profile.catalog import ProfileSummary, summarize
from .common import json_option, print_json


@click.command("list")
@json_option
@click.pass_context
def command(ctx: click.Context, as_json: bool) -> None:
    """List the profiles with their platforms and descriptions."""
    summaries = summarize(app_of(ctx).project)
    invalid = [s.name for s in summaries if s.error]
    if as_json:
        print_json([s.as_dict() for s in summaries])
    else:
        _table(summaries)
    if invalid:
        raise CheckFailed(f"{len(invalid)} invalid profile(s): {', '.join(invalid)}; `provision show NAME` says where.")


def _table(summaries: list[ProfileSummary]) -> None:
    width = max((len(s.name) for s in summaries), default=0)
    for s in summaries:
        if s.error:
            click.echo(f"{s.name:<{width}}  INVALID: {s.error}")
            continue
        platforms = "(abstract)" if s.abstract else ", ".join(s.platforms)
        click.echo(f"{s.name:<{width}}  {s.kind:<5}  {platforms:<34}  {s.description}")
