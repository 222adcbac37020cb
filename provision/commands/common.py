"""Small helpers shared by the command modules."""

from __future__ import annotations

import json
from typing import Any

import click

from ..project import Project, find_project

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")


def project_from(ctx: click.Context) -> Project:
    return find_project(ctx.obj.root)


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True))
