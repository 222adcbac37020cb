"""Small helpers shared by the command modules."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import ProjectNotFound
from ..lock.mirrors import Mirrors
from ..project import Project, find_project

if TYPE_CHECKING:
    from ..lock.lockfile import LockData
    from ..model import Profile

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


def locked_platform(ctx: click.Context, profile: str, platform: str | None) -> tuple[Project, Profile, LockData, str]:
    """A profile, its lock and the platform asked for (default: the profile's first), which the lock must have."""
    from ..errors import ProvisionError
    from ..lock.inputs import lock_path
    from ..lock.lockfile import read_lock
    from ..profiles import load_profile

    project = project_from(ctx)
    resolved = load_profile(project, profile)
    path = project.root / lock_path(profile)
    lock = read_lock(path, str(project.relative(path)))
    chosen = platform or resolved.platforms[0]
    if chosen not in lock.platforms:
        raise ProvisionError(f"{project.relative(path)}: no {chosen} in this lock; it has {', '.join(lock.platforms)}.")
    return project, resolved, lock, chosen
