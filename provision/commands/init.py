from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..app import app_of

if TYPE_CHECKING:
    from ..project import Project


@click.command("init")
@click.argument("name")
@click.option("--from", "source", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The file to start from, recognised by its content (any name): an environment.yml, a pixi "
                   "manifest, a pyproject.toml (project, dependency-groups, poetry, pdm, uv, conda-lock, pixi), "
                   "a requirements file (with -r includes) or a Brewfile.")  # fmt: skip
@click.option("--with", "wanted", multiple=True, metavar="NAME",
              help="Also import this extra, dependency group, pixi feature or pixi environment (repeatable).")
@click.option("--strict", is_flag=True, help="Exit 1, writing nothing, if anything could not be carried over.")
@click.option("--force", is_flag=True, help="Replace profiles/NAME.yaml if it exists.")
@click.pass_context
def command(ctx: click.Context, name: str, source: Path, wanted: tuple[str, ...], strict: bool, force: bool) -> None:
    """Write profiles/NAME.yaml from another tool's environment file, keeping every package.
    What a profile cannot express is one `note:` line each; the last line counts both. The profile
    is validated before it is kept."""
    from .. import grammar
    from ..adopt import import_file
    from ..errors import ProvisionError
    from ..profile.editing import write_new_profile

    if not grammar.full(grammar.PROFILE_NAME, name):
        shown = grammar.printable(name)
        raise click.UsageError(f"{shown[:40]!r}{'…' if len(shown) > 40 else ''} is not a profile name; use at most 64 "
                               "lower-case letters, digits and '-'")  # fmt: skip
    draft = import_file(source, str(source), frozenset(wanted))  # before any folder is made
    profile = draft.profile(name, source.name)  # the last notes (defaults chosen) are written here
    for note in draft.notes:  # text from the file: control characters are shown, never sent to the terminal
        click.echo(f"note: {grammar.printable(note)}", err=True)
    counted = f"{draft.packages} entries kept, {len(draft.notes)} note(s)"
    if strict and draft.notes:
        raise ProvisionError(f"{source}: {counted}; --strict: nothing was written.")
    project = _project_or_new(ctx)
    path = write_new_profile(project, name, profile, force)
    click.echo(f"wrote {project.relative(path)}: {counted}; next: provision lock {name}")


def _project_or_new(ctx: click.Context) -> Project:
    """The project here, or a new one (a profiles/ folder) at --root, $PROVISION_ROOT or in this folder. --root
    may name a folder to make (as `pixi init PATH` does); a PROVISION_ROOT that points nowhere is most likely
    stale (set for another project, in a shell profile), so its folder is never made: that is refused."""
    from ..errors import ProjectNotFound, UnsafeInput
    from ..layout import ROOT_VARIABLE
    from ..project import Project, root_given

    try:
        return app_of(ctx).project
    except ProjectNotFound:
        given = root_given(app_of(ctx).root)
        root = (given[0] if given else Path.cwd()).resolve()
        if (given and given[1] == ROOT_VARIABLE and not root.exists()) or (root.exists() and not root.is_dir()):
            raise  # its line names where the folder came from and what is wrong with it
        try:
            (root / "profiles").mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file on the way, no permission: one line, never a traceback
            raise UnsafeInput(f"{root / 'profiles'}: cannot be made ({exc.strerror}); pass --root with a folder "
                              "you can write.") from None  # fmt: skip
        return Project(root)
