"""Small helpers shared by the command modules."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..app import app_of
from ..errors import ProjectNotFound
from ..project import Project, find_project

if TYPE_CHECKING:
    from ..apply.target import Target
    from ..bench.verify import Subject
    from ..lock.lockfile import LockData
    from ..lock.records import LockedPackage
    from ..profile.model import Profile

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True))


@dataclass(frozen=True)
class LockedView:
    """What a read-only lock command works on: a profile's lock, or a --lockfile of anyone's."""

    lock: LockData
    platform: str
    label: str  # the profile's name, or the lockfile's path, as the user gave it
    profile: Profile | None = None
    project: Project | None = None
    lock_path: Path | None = None

    @property
    def packages(self) -> list[LockedPackage]:
        return self.lock.for_platform(self.platform)

    def requested(self) -> list[str]:
        """The packages asked for: the profile's, or (for a lock with no profile) those nothing depends on."""
        from ..consumers.deptree import requested_names, roots

        if self.profile is None:
            return roots(self.packages)
        return requested_names(self.profile.conda_for(self.platform), self.profile.pypi_for(self.platform))


def locked_platform(ctx: click.Context, profile: str | None, platform: str | None,
                    lockfile: Path | None = None) -> LockedView:  # fmt: skip
    """A profile's lock (or a --lockfile) and the platform asked for, which the lock must have. The
    default platform: the profile's first; for a lockfile, this machine's if locked, else its first."""
    from ..errors import ProvisionError
    from ..layout import lock_path
    from ..lock.lockfile import read_lock
    from ..profile.load import load_profile
    from .apply_options import lock_categories

    if (profile is None) == (lockfile is None):
        raise click.UsageError("give a PROFILE or --lockfile PATH (one of them)")
    if lockfile is not None:
        lock = read_lock(lockfile).in_categories(lock_categories(ctx), str(lockfile))
        here = _this_platform()
        chosen = platform or (here if here in lock.platforms else lock.platforms[0])
        if chosen != here and platform is None:  # said, as the help promises this machine's platform
            click.echo(f"note: {lockfile} has no {here or 'platform of this machine'}; showing {chosen} "
                       f"(--platform NAME for another: {', '.join(lock.platforms)})", err=True)  # fmt: skip
        view = LockedView(lock, chosen, str(lockfile), lock_path=lockfile)
        shown = str(lockfile)
    else:
        assert profile is not None
        project = app_of(ctx).project
        resolved = _read_variant(ctx, load_profile(project, profile))
        path = project.root / lock_path(resolved.lock_name)
        shown = str(project.relative(path))
        lock = read_lock(path, shown)
        view = LockedView(lock, platform or resolved.platforms[0], profile, resolved, project, path)
    if view.platform not in view.lock.platforms:
        raise ProvisionError(f"{shown}: no {view.platform} in this lock; it has {', '.join(view.lock.platforms)}.")
    return view


def _read_variant(ctx: click.Context, profile: Profile) -> Profile:
    """The variant a command that reads a lock works on: `--variant`, else the first declared (the solve
    group's reference), said in one line. No host decides it: a lock is read for any machine."""
    from ..apply.variant_choice import choose_variant

    if not profile.variants:
        return choose_variant(profile, None, ctx.meta.get("provision.variant")).unit
    forced = ctx.meta.get("provision.variant")
    if forced is None:
        forced = next(iter(profile.variants))
        others = ", ".join(list(profile.variants)[1:])
        click.echo(f"note: {profile.name}: variant {forced} ({others}: --variant NAME)", err=True)
        ctx.meta["provision.variant"] = forced  # what a pack made for this command takes too
    return choose_variant(profile, None, forced).unit


def invoked_as() -> str:
    """How the user ran provision, for a command line they can paste: `provision` when that is on PATH,
    else the path they typed (`.venv/bin/provision`, right after the README's first command)."""
    import os
    import shlex
    import shutil
    import sys

    argv0 = sys.argv[0]
    if argv0.endswith("__main__.py"):
        return "python -m provision"
    found = shutil.which("provision")
    if found and os.path.realpath(found) == os.path.realpath(argv0):
        return "provision"
    relative = os.path.relpath(argv0)
    return shlex.quote(argv0 if relative.startswith("../..") else relative)


def next_steps(target: str, frameworks: tuple[str, ...], root: Path | None, prefix: Path | None = None) -> str:
    """The short block after a finished apply: how to run, activate and check what was made (with `--root`
    when the project is not the one this folder is in, so each line works pasted here)."""
    import shlex

    prog = invoked_as()
    if root is not None and _project_here() != root.resolve():
        prog += f" --root {shlex.quote(str(root))}"
    if prefix is not None:  # before the profile: `run` reads what follows the profile as the command
        target = f"--prefix {shlex.quote(str(prefix))} {target}"
    module = {"torch": "torch", "jax": "jax", "tensorflow": "tensorflow", "mlx": "mlx.core"}.get(
        frameworks[0] if frameworks else "", "sys"
    )
    rows = [(f"{prog} run {target} -- python -c 'import {module}'", "a command inside the environment"),
            (f'eval "$({prog} shell {target})"', "activate it in this shell"),
            (f"{prog} status {target}", "is it still exactly the lock?")]  # fmt: skip
    width = max(len(command) for command, _ in rows)
    return "next:\n" + "\n".join(f"  {command:<{width}}  # {why}" for command, why in rows)


def _project_here() -> Path | None:
    """The project this folder is in, which a pasted command would find without --root."""
    try:
        return find_project(None).root
    except ProjectNotFound:
        return None


def _this_platform() -> str | None:
    import platform

    from ..machine.facts import conda_subdir

    return conda_subdir(platform.system(), platform.machine())


def subject_of(target: Target) -> Subject:
    """What bench checks, from what apply installed: the command composes the two stages."""
    from ..apply.activation import activated_environment
    from ..apply.pypi_install import env_python
    from ..bench.verify import Subject

    def report_meta() -> dict[str, object]:
        from ..apply.inputs import environment_fingerprint

        return {"profile": target.name, "variant": target.variant, "platform": target.platform,
                "prefix": str(target.prefix), "environment": environment_fingerprint(target)}  # fmt: skip

    return Subject(
        name=target.name, label=target.label, prefix=target.prefix, python=env_python(target.prefix),
        env=activated_environment(target.prefix, target.env, kind=target.kind),
        acceptance=target.intent.acceptance,
        apply_command=target.apply_command, report_meta=report_meta,
    )  # fmt: skip
