"""Small helpers shared by the command modules."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..errors import ProjectNotFound
from ..lock.mirrors import Mirrors
from ..project import Project, find_project

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")


def project_from(ctx: click.Context) -> Project:
    return find_project(ctx.obj.root)


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True))


def mirrors_from(ctx: click.Context, values: tuple[str, ...]) -> Mirrors:
    """This machine's mirrors (config file, PROVISION_MIRRORS, then `--mirror`); see config.py."""
    from ..config import machine_mirrors

    try:
        root: Path | None = project_from(ctx).root
    except ProjectNotFound:
        root = None
    return machine_mirrors(values, root)


def progress_line(ctx: click.Context, quiet: bool = False) -> Callable[[str], None]:
    """Where a command's progress lines go: stderr, or nowhere with `-q` (or `quiet`, e.g. under --json)."""
    if quiet or getattr(ctx.find_root().obj, "quiet", False):
        return lambda message: None
    return lambda message: click.echo(message, err=True)
