from __future__ import annotations

import click


@click.command("schema")
def command() -> None:
    """Print the JSON Schema of the profile format (also written to schema/profile.schema.json)."""
    from ..render import schema_file

    click.echo(schema_file().content, nl=False)
