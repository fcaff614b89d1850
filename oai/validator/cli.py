"""`oaipress validate URL`: check any OAI-PMH endpoint as a harvester meets it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from oai.validator.report import terminal, write_html, write_json
from oai.validator.runner import validate_endpoint


@click.command("validate")
@click.argument("url")
@click.option(
    "--max-requests",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Hard limit on HTTP requests, redirects and 503 retries included.",
)
@click.option(
    "--delay",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Seconds to wait between requests.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help="Seconds to wait for each response.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report as JSON to this file.",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report as a self-contained HTML page to this file.",
)
def validate_command(
    url: str,
    max_requests: int,
    delay: float,
    timeout: float,
    json_path: Path | None,
    html_path: Path | None,
) -> None:
    """Validate the OAI-PMH 2.0 endpoint at URL (any repository's base URL).

    Every verb and error case, dates and granularity, whole lists across resumption
    tokens, every response against the official schemas (offline), content type,
    compression and Retry-After. It only sends GET requests, never more than
    --max-requests of them, --delay seconds apart: safe to point at a production server.
    A list too long for the budget is walked partly and reported as partial.

    \b
    Exit status:
      0  every check passed (skipped checks do not count)
      1  warnings, but no failure
      2  at least one failure, or the validator could not run (usage,
         a report it could not write)
    """
    try:
        report = validate_endpoint(url, max_requests=max_requests, delay=delay, timeout=timeout)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    click.echo(terminal(report, colour=sys.stdout.isatty()), nl=False)
    try:
        if json_path is not None:
            write_json(report, json_path)
        if html_path is not None:
            write_html(report, html_path)
    except OSError as error:
        failure = click.ClickException(f"cannot write the report: {error}")
        failure.exit_code = 2  # 1 means "warnings only"
        raise failure from None
    sys.exit(report.exit_status)
