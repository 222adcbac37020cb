"""What one run of provision works from: built once by the `provision` group and handed to every command as
click's context object, so a command finds its project, reads this machine's mirrors and decides where its
progress lines go once, and in one place (the app object of hatch's commands, `pass_obj`).

Standard library only at import: `provision --help` builds one too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click

    from .lock.mirrors import Mirrors
    from .project import Project


@dataclass(frozen=True)
class App:
    root: Path | None  # --root; None: $PROVISION_ROOT, else the nearest parent with profiles/ (find_project)
    quiet: bool = False  # -q: no progress lines, only results and errors

    @cached_property
    def project(self) -> Project:
        """The project this run works on, found once (ProjectNotFound when there is none)."""
        from .project import find_project

        return find_project(self.root)

    def project_if_any(self) -> Project | None:
        from .errors import ProjectNotFound

        try:
            return self.project
        except ProjectNotFound:
            return None

    def mirrors(self, given: tuple[str, ...]) -> Mirrors:
        """This machine's mirrors (config file, PROVISION_MIRRORS, then `--mirror`); see config.py."""
        from .config import machine_mirrors

        project = self.project_if_any()
        return machine_mirrors(given, project.root if project is not None else None)

    def progress(self, quiet: bool = False) -> Callable[[str], None]:
        """Where progress lines go: stderr, or nowhere with `-q` (or `quiet`, e.g. under --json)."""
        import click

        if quiet or self.quiet:
            return lambda message: None
        return lambda message: click.echo(message, err=True)


def app_of(ctx: click.Context) -> App:
    """The run's App, from any command's context (a bare App when a command is invoked on its own)."""
    found = ctx.find_object(App)
    return found if found is not None else App(root=None)
