from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import project_from

if TYPE_CHECKING:
    from ..project import Project


@click.command("init")
@click.argument("name")
@click.option("--from", "source", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="environment.yml, requirements.txt, pixi.toml or pyproject.toml to start from.")  # fmt: skip
@click.option("--force", is_flag=True, help="Replace profiles/NAME.yaml if it exists.")
@click.pass_context
def command(ctx: click.Context, name: str, source: Path, force: bool) -> None:
    """Write profiles/NAME.yaml from another tool's environment file, keeping every package.
    What a profile cannot express is one `note:` line each; the profile is validated before it is kept."""
    from .. import grammar
    from ..editing import write_new_profile
    from ..importer import import_file

    if not grammar.full(grammar.PROFILE_NAME, name):
        raise click.UsageError(f"{name!r} is not a profile name; use lower-case letters, digits and '-'")
    draft = import_file(source, str(source))  # before any folder is made: a bad file leaves nothing behind
    project = _project_or_new(ctx)
    path = write_new_profile(project, name, draft.profile(name, source.name), force)
    for note in draft.notes:  # text from the file: control characters are shown, never sent to the terminal
        click.echo(f"note: {grammar.printable(note)}", err=True)
    packages = len(draft.conda) + len(draft.pypi) + sum(len(v) for t in draft.targets.values() for v in t.values())
    click.echo(f"wrote {project.relative(path)} ({packages} packages); next: provision lock {name}")


def _project_or_new(ctx: click.Context) -> Project:
    """The project here, or a new one (a profiles/ folder) at --root or in this folder."""
    from ..errors import ProjectNotFound
    from ..project import Project

    try:
        return project_from(ctx)
    except ProjectNotFound:
        root = (ctx.obj.root or Path.cwd()).resolve()
        (root / "profiles").mkdir(parents=True, exist_ok=True)
        return Project(root)
