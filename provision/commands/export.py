from __future__ import annotations

import shutil
from pathlib import Path

import click

from ..errors import ProvisionError
from ..export import FORMATS
from .common import project_from


@click.command("export")
@click.argument("profile")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option("--platform", help="Which locked platform (default: the profile's first).")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path),
              help="Write files into this folder (required for dockerfile: it writes the build context).")  # fmt: skip
@click.pass_context
def command(ctx: click.Context, profile: str, fmt: str, platform: str | None, output: Path | None) -> None:
    """Export PROFILE's lock: explicit conda list, hashed requirements, pylock.toml, or a Dockerfile."""
    from .. import export
    from ..bench.run import script_path
    from ..files import write_atomic
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
    packages, python = lock.for_platform(chosen), lock.python_version(chosen)
    files = {
        "explicit": {f"explicit-{chosen}.txt": export.explicit(packages, chosen, profile)},
        "requirements": {f"requirements-{chosen}.txt": export.requirements(packages, chosen, profile)},
        "pylock": {"pylock.toml": export.pylock(packages, chosen, profile, python)},
    }.get(fmt)
    if fmt == "dockerfile":
        if not chosen.startswith("linux"):
            raise ProvisionError(f"{profile}: a Dockerfile is for Linux platforms; {chosen} is not one.")
        if output is None:
            raise click.UsageError("--format dockerfile writes a build context: give --output DIR")
        files = {
            "Dockerfile": export.dockerfile(resolved, chosen, python),
            f"requirements-{chosen}.txt": export.requirements(packages, chosen, profile),
        }
        if resolved.kind == "conda":
            files[f"explicit-{chosen}.txt"] = export.explicit(packages, chosen, profile)
    assert files is not None
    if output is None:
        click.echo(next(iter(files.values())), nl=False)
        return
    for name, text in files.items():
        write_atomic(output / name, text)
        click.echo(f"wrote {output / name}")
    if fmt == "dockerfile":  # the acceptance scripts run inside the image
        (output / "acceptance").mkdir(parents=True, exist_ok=True)
        scripts = [script_path(fw) for fw in resolved.acceptance.benchmarks]
        for source in [script_path("jax").with_name("_benchcore.py"), *scripts]:
            shutil.copyfile(source, output / "acceptance" / source.name)
        click.echo(f"wrote {output / 'acceptance'}/")
