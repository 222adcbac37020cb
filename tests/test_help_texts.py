"""Every option's help says what it does for the command it is on: an option shared by many commands
(--lockfile, --prefix, --pack, --mirror, --variant) is read in each command's --help on its own."""

from __future__ import annotations

import click

from provision.cli import COMMANDS, cli


def _options() -> list[tuple[str, click.Option]]:
    ctx = click.Context(cli)
    out = []
    for name in sorted(COMMANDS):
        command = cli.get_command(ctx, name)
        assert command is not None, name
        out += [(name, p) for p in command.params if isinstance(p, click.Option)]
    return out


def test_every_option_says_what_it_does_on_its_own_command() -> None:
    options = _options()
    assert len(options) > 100
    missing = [f"{name} {p.opts[0]}" for name, p in options if not (p.help or "").strip() and not p.hidden]
    assert missing == []
    # "Apply ..." is apply's: on plan, status or run it would promise what the command does not do.
    applying = [f"{name} {p.opts[0]}: {p.help}" for name, p in options if (p.help or "").startswith("Apply")
                and name != "apply"]  # fmt: skip
    assert applying == []
    mirrors = {name: p.help or "" for name, p in options if p.opts[0] == "--mirror"}
    assert "dockerfile" in mirrors["export"]  # export makes a pack only for a Dockerfile's build context
    assert all(("through a mirror" in text or "as it would apply" in text) for text in mirrors.values()), mirrors


def test_a_usage_error_is_one_line_naming_the_help() -> None:
    import subprocess
    import sys
    from pathlib import Path

    provision = str(Path(sys.executable).parent / "provision")
    for argv, said in [(["apply", "--bogus"], "error: No such option '--bogus' (see `provision apply --help`)"),
                       (["nonsense"], "error: No such command 'nonsense' (see `provision --help`)"),
                       (["export", "linux-cpu", "--format", "nope"], "'nope' is not one of ")]:  # fmt: skip
        done = subprocess.run([provision, *argv], capture_output=True, text=True)
        assert done.returncode == 2 and done.stderr.count("\n") == 1 and said in done.stderr, done.stderr
