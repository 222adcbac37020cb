"""Options shared by plan, apply, run, shell and remove, and the target they select."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..app import app_of
from ..lock.records import MAIN

if TYPE_CHECKING:  # loaded when a command runs, not for its --help (the apply machinery is most of start-up)
    from ..apply.target import Target
    from ..machine.facts import HostFacts

F = Callable[..., Any]


def target_options(func: F) -> F:
    func = click.option(
        "--prefix", type=click.Path(file_okay=False, path_type=Path), help="The environment's folder "
        "(default: ~/.provision/envs/PROFILE, or $PROVISION_HOME/envs/PROFILE)."
    )(func)  # fmt: skip
    func = category_option(func)
    func = lockfile_option(func)
    func = variant_option(func)
    return click.argument("profile", required=False)(func)


def _keep_variant(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    from ..grammar import VARIANT_NAME, full, printable

    if value is not None and not full(VARIANT_NAME, value):
        raise click.BadParameter(f"{printable(value)[:40]!r} is not a variant name (e.g. cpu, cuda)")
    ctx.meta["provision.variant"] = value


variant_option = click.option(
    "--variant", expose_value=False, callback=_keep_variant, metavar="NAME",
    help="Of a profile with variants (cpu, cuda, ...), this one (default: the one this host fits; for commands "
    "that read an environment, the one installed).",
)  # fmt: skip


def _keep_categories(ctx: click.Context, _: click.Parameter, values: tuple[str, ...]) -> None:
    ctx.meta["provision.categories"] = values


# Shared by every command that reads a foreign lock: the same words everywhere.
lockfile_option = click.option(
    "--lockfile", type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A lock instead of a profile: conda-lock.yml of any version-1 era, or an @EXPLICIT list.",
)  # fmt: skip
category_option = click.option(
    "--category", "categories", multiple=True, expose_value=False, callback=_keep_categories, metavar="NAME",
    help="With --lockfile: also the packages of this conda-lock category (repeatable; main is always taken).",
)  # fmt: skip


def lock_categories(ctx: click.Context) -> frozenset[str]:
    """main, and each --category NAME given (what `conda-lock install` takes with its extras)."""
    return frozenset({MAIN, *ctx.meta.get("provision.categories", ())})


def _keep_pack_check(ctx: click.Context, param: click.Parameter, value: object) -> None:
    ctx.meta[f"provision.pack_check.{param.name}"] = value


def _pack_checks(ctx: click.Context, _: click.Parameter, pack: Path | None) -> Path | None:
    """The outside checks (eager, so already read) become one value; without --pack they would check nothing
    (and the pack machinery is not even imported: most applies have no pack)."""
    given = {name: ctx.meta.get(f"provision.pack_check.{name}") for name in ("sha256", "sha256_file",
                                                                                "allowed_signers")}  # fmt: skip
    if pack is None:
        if any(value is not None for value in given.values()):
            raise click.UsageError("--sha256, --sha256-file and --allowed-signers check a --pack FILE; give one")
        return None
    from ..consumers.pack_runner import OutsideChecks

    ctx.meta["provision.pack_checks"] = OutsideChecks(**given)
    return pack


def pack_option(func: F) -> F:
    """--pack FILE, and what checks it from outside it: its sha256, or its OpenSSH signature."""
    for name, kind, text in [
        ("--allowed-signers", click.Path(dir_okay=False, exists=True, path_type=Path),
         "With --pack: require PACK.sig (from `provision pack --sign KEY`) by a signer in this file "
         "(ssh-keygen's allowed_signers format)."),
        ("--sha256-file", click.Path(dir_okay=False, exists=True, path_type=Path),
         "With --pack: check the whole pack against its line in this `sha256sum` file (PACK.sha256) before "
         "opening it."),
        ("--sha256", click.STRING, "With --pack: check the whole pack against this sha256 before opening it."),
    ]:  # fmt: skip
        func = click.option(name, type=kind, expose_value=False, is_eager=True, callback=_keep_pack_check,
                            metavar="HEX" if name == "--sha256" else None, help=text)(func)  # fmt: skip
    return click.option(
        "--pack", "pack", type=click.Path(dir_okay=False, exists=True, path_type=Path), callback=_pack_checks,
        help="A file made by `provision pack`: its lock and settings name the environment (apply installs it "
        "with no network).",
    )(func)  # fmt: skip


adopt_option = click.option(
    "--adopt", is_flag=True,
    help="Take over an existing environment of the same kind (conda or venv) that provision did not create.",
)  # fmt: skip
insecure_option = click.option(
    "--allow-insecure-http", "allow_http", is_flag=True,
    help="Accept plain http:// URLs in the lock (each artifact is still checked against its hash).",
)  # fmt: skip

facts_option = click.option(
    "--facts", "facts_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Read host facts saved by `provision doctor --save-facts DIR` instead of this machine's.",
)  # fmt: skip


def host_facts(facts_dir: Path | None) -> HostFacts:
    """This machine's facts (or a saved folder's), with CONDA_OVERRIDE_* applied on top."""
    import os

    from ..machine.facts import load_raw, parse_facts, this_host, with_overrides

    host = this_host() if facts_dir is None else parse_facts(load_raw(facts_dir), f"{facts_dir}/")
    if facts_dir is not None:
        say_unknown_files(facts_dir)
    return with_overrides(host, os.environ)


def say_unknown_files(facts_dir: Path) -> None:
    """Name what a facts folder holds that provision does not read (a misnamed file is not a fact)."""
    from ..grammar import printable
    from ..machine.facts import unknown_fact_files

    unknown = unknown_fact_files(facts_dir)
    if unknown:
        click.echo(f"note: {facts_dir}: not read (not a fact provision knows): "
                   f"{printable(', '.join(unknown))[:300]}", err=True)  # fmt: skip


def select_target(
    ctx: click.Context, profile: str | None, lockfile: Path | None, prefix: Path | None,
    facts_dir: Path | None = None, allow_http: bool = False, pack: Path | None = None, by_host: bool = False,
) -> tuple[Target, HostFacts]:  # fmt: skip
    """The target of a PROFILE, a --lockfile or a --pack (unpacked into a private folder that lives
    as long as the command), and this machine's facts. A profile's variant is `--variant`, else (`by_host`,
    for commands that change or plan an environment) the one this host fits, else the one installed."""
    from ..apply.target import target_for_lockfile, target_for_profile
    from ..lock.validate import Rules

    if sum(map(bool, (profile, lockfile, pack))) != 1:
        raise click.UsageError("give a PROFILE, --lockfile PATH or --pack FILE (one of them)")
    if ctx.meta.get("provision.variant") and not profile:
        raise click.UsageError("--variant chooses among a profile's variants; a --lockfile or --pack is one already")
    if allow_http:
        click.echo("warning: --allow-insecure-http: plain http URLs are accepted (hashes are still checked)", err=True)
    host = host_facts(facts_dir)
    platform = host.target_subdir or f"{host.system}-{host.machine}".lower()
    rules = Rules(allow_insecure_http=allow_http)
    if pack is not None:
        from ..consumers.pack import open_pack, target_for_pack
        from ..consumers.pack_runner import OutsideChecks

        checks = ctx.meta.get("provision.pack_checks", OutsideChecks())
        opened = ctx.with_resource(open_pack(pack, checks, lambda line: click.echo(f"note: {line}", err=True)))
        return target_for_pack(opened, pack, prefix, platform), host
    if lockfile:
        return target_for_lockfile(lockfile, prefix, platform, rules, lock_categories(ctx)), host
    if ctx.meta.get("provision.categories"):
        raise click.UsageError("--category selects from a --lockfile; a profile's lock has only main")
    assert profile is not None
    target = target_for_profile(app_of(ctx).project, profile, prefix, platform, rules, host,
                                ctx.meta.get("provision.variant"), by_host)  # fmt: skip
    return target, host


def verify_choice(no_verify: bool, host: HostFacts) -> tuple[bool, str]:
    """Whether acceptance runs, and why not: with CONDA_OVERRIDE_* the real hardware is elsewhere."""
    if host.overrides:
        return False, "deferred to the target machine (CONDA_OVERRIDE_* in effect)"
    return not no_verify, "--no-verify"
