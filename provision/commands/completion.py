from __future__ import annotations

import click


@click.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def command(shell: str) -> None:
    """Print the completion script for SHELL (click's own), e.g.
    `provision completion bash > ~/.local/share/bash-completion/completions/provision`, or
    `eval "$(provision completion zsh)"` in ~/.zshrc."""
    from click.shell_completion import get_completion_class

    from ..cli import cli

    completion = get_completion_class(shell)
    assert completion is not None  # the three choices are click's built-in shells
    click.echo(completion(cli, {}, "provision", "_PROVISION_COMPLETE").source())
