"""The `provision` command line. Commands live in provision/commands/, one module each,
and are imported only when invoked, so `provision --help` stays fast."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from . import __version__
from .app import App
from .errors import ExitCode, ProvisionError

# name -> (module in provision.commands, one-line help shown by `provision --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("list_cmd", "List the profiles with their platforms and descriptions."),
    "show": ("show", "Show a profile after `extends:` is resolved."),
    "render": ("render", "Write environment.yml, Brewfile and flake.nix from the profiles."),
    "lock": ("lock", "Lock every profile's packages for every platform into conda-lock.yml."),
    "plan": ("plan", "Show what `apply` would change on this machine, and why."),
    "apply": ("apply", "Install a locked profile on this machine and verify it."),
    "status": ("status", "Compare an environment with its lock: what is missing, changed or extra."),
    "run": ("run_cmd", "Run a command inside a profile's environment."),
    "shell": ("shell", "Print the shell lines that activate a profile's environment."),
    "remove": ("remove", "Delete an environment that provision created."),
    "verify": ("verify", "Run a profile's acceptance benchmarks in its environment."),
    "bench": ("bench", "Run one acceptance benchmark with any Python interpreter."),
    "doctor": ("doctor", "Find host problems (Rosetta, old macOS, disk, leaks) and their fixes."),
    "fit": ("fit", "Will a model run here (inference or training), and what must change?"),
    "check": ("check", "Validate profiles and check every generated file and lock is fresh (for CI)."),
    "diff": ("diff", "Show what changed in a lock: added, removed, upgraded, downgraded packages."),
    "pack": ("pack", "Pack a locked platform with every artifact, for `apply --pack` with no network."),
    "export": ("export", "Export a lock: explicit list, requirements, pylock.toml, Dockerfile + pack, Slurm job."),
    "report": ("report", "Aggregate verify reports from many machines into one table and chart."),
    "schema": ("schema", "Print the JSON Schema of the profile format."),
    "config": ("config_cmd", "Show this machine's settings (mirrors, folders) and where each comes from."),
    "init": ("init", "Write a profile from an environment.yml, requirements.txt, pixi.toml or pyproject.toml."),
    "add": ("add", "Add packages to a profile (comments kept), then re-lock it."),
    "remove-package": ("remove_package", "Remove packages from a profile by name, then re-lock it."),
    "tree": ("tree", "Show why a package is in a lock: its dependency tree, or who needs it (--invert)."),
    "outdated": ("outdated", "List locked packages with newer versions, and whether the profile allows them."),
    "completion": ("completion", "Print the shell completion script for bash, zsh or fish."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(f"provision.commands.{COMMANDS[cmd_name][0]}")
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help from the table, so listing commands imports none of them.
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in sorted(COMMANDS)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="provision")
@click.option(
    "--root",
    type=click.Path(path_type=Path),  # checked by find_project, which also reads $PROVISION_ROOT and names each
    help="Project folder (default: $PROVISION_ROOT, else the nearest parent folder with profiles/).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines: only results, warnings and errors.")
@click.option("--verbose", "-v", count=True, help="Log each external command run (-vv: everything provision logs).")
@click.pass_context
def cli(ctx: click.Context, root: Path | None, debug: bool, quiet: bool, verbose: int) -> None:
    """Declarative, locked and verified ML environments.

    Profiles in profiles/*.yaml are the source of truth; provision renders and locks
    them, applies them to this machine, and proves the accelerator works.
    """
    # --debug is declared here for --help and parsing; main() reads it before click runs,
    # because errors raised while click parses must already be reported with it.
    if verbose:
        import logging

        logging.basicConfig(format="provision: %(message)s", level=logging.INFO if verbose == 1 else logging.DEBUG)
    ctx.obj = App(root=root, quiet=quiet)  # the one app object of this run


OUTPUT_FLAGS = ("-q", "--quiet", "-v", "-vv", "-vvv", "--verbose")


def hoisted(args: list[str]) -> list[str]:
    """`provision lock -q` as `provision -q lock`: -q and -v are accepted anywhere before `--`, as uv
    and pixi accept them. `run` is left alone: what follows its profile is the user's command."""
    command = next((i for i, a in enumerate(args) if a in COMMANDS), None)
    if command is None or args[command] == "run":
        return args
    end = args.index("--") if "--" in args else len(args)
    flags = [a for a in args[command + 1 : end] if a in OUTPUT_FLAGS]
    rest = [a for i, a in enumerate(args) if not (command < i < end and a in OUTPUT_FLAGS)]
    return flags + rest


def _terminated(signum: int, frame: object) -> None:
    # SIGTERM (a scheduler's kill, `kill PID`) as Ctrl-C: the same clean-up runs (a failed change puts the
    # previous environment back, private folders are removed) and the same "interrupted" line is said.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    import signal

    args = hoisted(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    signal.signal(signal.SIGTERM, _terminated)
    try:
        cli.main(args=args, prog_name="provision", standalone_mode=False)
    except ProvisionError as exc:
        if debug:
            raise
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(int(exc.exit_code))
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(int(ExitCode.INTERRUPTED))
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(int(ExitCode.INTERRUPTED))
    except click.UsageError as exc:
        # One line, like every other error: what is wrong, and where the command's help is.
        where = exc.ctx.command_path if exc.ctx is not None else "provision"
        click.echo(f"error: {exc.format_message().rstrip('.')} (see `{where} --help`)", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        if debug:
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", err=True)
        sys.exit(int(ExitCode.TOOL_FAILED))
