from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..app import app_of
from ..errors import ProvisionError
from .apply_options import category_option, lockfile_option, variant_option
from .common import json_option, locked_platform, print_json

if TYPE_CHECKING:
    from ..consumers.bootstrap import Bootstrap
    from ..lock.records import LockedPackage
    from ..profile.model import Profile


# What `--format` takes (each written by provision/consumers/); here, so that `export --help` loads only click.
FORMATS = ("explicit", "requirements", "pylock", "dockerfile", "slurm", "lmod", "cyclonedx")

@click.command("export")
@click.argument("profile", required=False)
@lockfile_option
@variant_option
@category_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="What to write (see the list).")
@click.option("--platform", help="Which locked platform (default: the profile's first; a lockfile's: this machine's).")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path),
              help="Write files into this folder (required for dockerfile and slurm).")  # fmt: skip
@click.option("--mirror", "mirrors", multiple=True,
              help="CHANNEL=URL or CHANNEL=FOLDER: with --format dockerfile, fetch the pack's packages "
              "through a mirror.")  # fmt: skip
@click.option("--shared-prefix", type=click.Path(file_okay=False, path_type=Path),
              help="With --format slurm: one folder every node reads (Lustre, NFS): the job applies it once, then "
              "checks it read-only on every node.")  # fmt: skip
@click.option("--prefix", type=click.Path(file_okay=False, path_type=Path),
              help="With --format lmod: the environment the module activates (default: this machine's for the "
              "profile).")  # fmt: skip
@json_option
@click.pass_context
def command(
    ctx: click.Context, profile: str | None, lockfile: Path | None, fmt: str, platform: str | None,
    output: Path | None, mirrors: tuple[str, ...], shared_prefix: Path | None, prefix: Path | None, as_json: bool,
) -> None:  # fmt: skip
    """Export PROFILE's lock (or a --lockfile's): an explicit conda list, hashed requirements,
    pylock.toml, a Dockerfile with the pack it installs from (its build context), a Slurm batch script, or
    an Lmod modulefile."""
    from ..consumers import export
    from ..files import write_atomic

    forced_variant = ctx.meta.get("provision.variant")  # the job passes only a variant the user chose
    view = locked_platform(ctx, profile, platform, lockfile)
    chosen, lock = view.platform, view.lock
    packages, python = view.packages, lock.python_version(chosen)
    label = view.label  # the profile's name, or the lockfile's path
    if fmt == "explicit" and not any(p.manager == "conda" for p in packages):
        # conda create --file would make an empty environment from it, and say nothing.
        raise ProvisionError(f"{label} [{chosen}]: no conda layer to list in an @EXPLICIT file (its packages come "
                             "from PyPI); use --format requirements or --format pylock")  # fmt: skip
    for flag, value, used_by in (("--shared-prefix", shared_prefix, "slurm"), ("--prefix", prefix, "lmod")):
        if value is not None and fmt != used_by:
            raise click.UsageError(f"{flag} is for --format {used_by}")
        from ..grammar import control_character

        if value is not None and control_character(str(value)):
            raise click.UsageError(f"{flag}: a folder name with the control character {control_character(str(value))}"
                                   " cannot go into a script; rename it")  # fmt: skip
        if value is not None and not value.is_absolute():
            raise click.UsageError(f"{flag} {str(value)!r}: give an absolute folder (every node reads the same path)")
    if fmt == "lmod":
        if view.profile is None or output is None:
            raise click.UsageError("--format lmod needs a PROFILE and --output DIR (the modulefile's folder)")
        assert view.lock_path is not None
        module = _modulefile(view.profile, view.lock_path, prefix, output)
        print_json({"format": fmt, "files": [str(module)]}) if as_json else click.echo(f"wrote {module}")
        return
    bootstrap = None  # what the pack carries of provision; its primary Python runs the pack on a node
    if fmt in ("dockerfile", "slurm"):
        from ..consumers.bootstrap import bootstrap_for

        if view.profile is None or view.project is None:
            raise click.UsageError(f"--format {fmt} needs a profile (its settings go into the job); for a "
                                   "--lockfile, make a pack with `provision pack --lockfile` instead")  # fmt: skip
        project, resolved = view.project, view.profile
        if not chosen.startswith("linux"):
            raise ProvisionError(f"{profile}: --format {fmt} is for Linux platforms; {chosen} is not one.")
        if output is None:
            raise click.UsageError(f"--format {fmt} writes files into a folder: give --output DIR")
        from ..grammar import control_character

        bad = control_character(str(output.resolve()))  # the folder is written into the job script
        if bad:
            raise click.UsageError(f"--output {str(output)!r}: a folder name with the control character {bad} "
                                   "cannot go into a script; rename it")  # fmt: skip
        bootstrap = bootstrap_for(project.root, chosen)
    runner = bootstrap.primary if bootstrap else ""
    files = {
        "explicit": lambda: {f"explicit-{chosen}.txt": export.explicit(packages, chosen, label)},
        "requirements": lambda: {f"requirements-{chosen}.txt": export.requirements(packages, chosen, label)},
        "pylock": lambda: {"pylock.toml": export.pylock(packages, chosen, label, python)},
        "cyclonedx": lambda: {f"sbom-{chosen}.cdx.json": _sbom(packages, chosen, label, view.lock_path)},
        "dockerfile": lambda: {"Dockerfile": export.dockerfile(resolved, chosen, _pack_name(label, chosen), runner)},
        "slurm": lambda: {"provision.sbatch": export.slurm(resolved, chosen, runner, str(project.root),
                                                          str((output or Path()).resolve() / "reports"),
                                                          forced_variant,
                                                          str(shared_prefix) if shared_prefix else None)},
    }[fmt]()  # fmt: skip
    if output is None:
        click.echo(next(iter(files.values())), nl=False)
        return
    written = []
    for name, text in files.items():
        write_atomic(output / name, text)
        written.append(output / name)
    if fmt == "slurm":
        (output / "provision.sbatch").chmod(0o755)
    if fmt == "dockerfile" and bootstrap is not None:  # the build context: the pack the Dockerfile COPYs
        written.append(_pack_context(ctx, label, output / _pack_name(label, chosen), bootstrap, mirrors, as_json))
    if as_json:
        print_json({"format": fmt, "platform": chosen, "files": [str(f) for f in written]})
    else:
        for file in written:
            click.echo(f"wrote {file}")


def _sbom(packages: list[LockedPackage], platform: str, label: str, lock: Path | None) -> str:
    import hashlib

    from ..consumers.sbom import cyclonedx

    return cyclonedx(packages, platform, label, hashlib.sha256(lock.read_bytes()).hexdigest() if lock else "")


def _modulefile(profile: Profile, lock: Path, prefix: Path | None, output: Path) -> Path:
    """OUTPUT/PROFILE.lua for `module use OUTPUT; module load PROFILE`."""
    import hashlib

    from ..apply.prefixes import default_prefix, resolved
    from ..consumers import export
    from ..files import write_atomic
    from ..grammar import control_character

    folder = resolved(prefix or default_prefix(profile.name))
    bad = control_character(str(folder))
    if bad:
        raise click.UsageError(f"--prefix: a folder name with the control character {bad} cannot be a module's path")
    text = export.lmod(profile, str(folder), profile.kind, lock.name, hashlib.sha256(lock.read_bytes()).hexdigest())
    path = output / f"{profile.name}.lua"
    write_atomic(path, text)
    return path


def _pack_name(profile: str, platform: str) -> str:
    return f"{profile}-{platform}.pack"


def _pack_context(
    ctx: click.Context, profile: str, output: Path, bootstrap: Bootstrap, mirrors: tuple[str, ...], quiet: bool
) -> Path:
    from dataclasses import replace

    from ..config import cache_root
    from ..consumers.pack import write_pack
    from .apply_options import select_target

    target, _ = select_target(ctx, profile, None, None)
    target = replace(target, platform=bootstrap.platform)
    say = app_of(ctx).progress(quiet)
    return write_pack(target, app_of(ctx).mirrors(mirrors), cache_root(), output, say, bootstrap).path
