"""`oaipress validate` (placeholder until its part of issue 12 lands)."""

from __future__ import annotations

import click


@click.command("validate")
def validate_command() -> None:
    """Not built yet."""
    raise click.ClickException("oaipress validate is not built yet")
