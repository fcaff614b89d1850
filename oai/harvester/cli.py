"""`oaipress harvest` (placeholder until its part of issue 12 lands)."""

from __future__ import annotations

import click


@click.command("harvest")
def harvest_command() -> None:
    """Not built yet."""
    raise click.ClickException("oaipress harvest is not built yet")
