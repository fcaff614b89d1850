"""`oaipress check` (placeholder until its part of issue 12 lands)."""

from __future__ import annotations

import click


@click.command("check")
def check_command() -> None:
    """Not built yet."""
    raise click.ClickException("oaipress check is not built yet")
