"""``oaipress harvest URL``: bring another OAI-PMH repository's records into the store.

Output and exit statuses follow ``oaipress import``: one line per record that cannot be
stored (``URL: IDENTIFIER: FIELD: MESSAGE``), a summary line, exit 1 when a record
cannot be mapped and ``--skip-invalid`` was not given (that page is not stored; the
pages before it are, and the next run starts at it), exit 1 when the source fails, and
130 on Ctrl-C (the pages committed so far stay; the next run resumes after them).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import click

from oai.harvester.client import Client, HarvestFailed, OAIError
from oai.harvester.harvest import (
    Harvester,
    HarvestError,
    HarvestOptions,
    HarvestReport,
    PageRejected,
)
from records.validate import ACCESS_VALUES

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?")


def _base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise click.BadParameter(
            "give the source's OAI-PMH base URL: http(s), without a query (e.g. "
            "https://journal.example.org/index.php/j/oai)"
        )
    return value


@click.command("harvest")
@click.argument("url")
@click.option("--set", "set_spec", metavar="SPEC", help="Harvest only this set of the source.")
@click.option(
    "--prefix", metavar="P", help="The source's metadataPrefix [default: the richest it offers]."
)
@click.option(
    "--from",
    "from_",
    metavar="DATE",
    help="Ask for records changed since DATE (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ) "
    "[default: the last harvest's responseDate].",
)
@click.option("--full", is_flag=True, help="Harvest everything, not only what changed.")
@click.option(
    "--id-prefix",
    metavar="STR",
    help="Start of the local ids (and the set) of this source's records "
    "[default: its repository identifier, else its host].",
)
@click.option("--skip-invalid", is_flag=True, help="Store the records that map, report the rest.")
@click.option(
    "--assume-access",
    type=click.Choice(ACCESS_VALUES),
    help="Access of records that state none and have no open licence [default: report them].",
)
def harvest_command(
    url: str,
    set_spec: str | None,
    prefix: str | None,
    from_: str | None,
    full: bool,
    id_prefix: str | None,
    skip_invalid: bool,
    assume_access: str | None,
) -> None:
    """Harvest the records of the OAI-PMH repository at URL into the store."""
    from oai.cli import _open, _settings

    url = _base_url(url)
    if from_ and not _DATE.fullmatch(from_):
        raise click.BadParameter("YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ", param_hint="--from")
    if full and from_:
        raise click.UsageError("--full and --from exclude each other")
    options = HarvestOptions(
        set_spec=set_spec,
        prefix=prefix,
        from_=from_,
        full=full,
        id_prefix=id_prefix,
        skip_invalid=skip_invalid,
        assume_access=assume_access,
    )
    store, renderer = _open(_settings())

    def log(message: str) -> None:
        click.echo(f"{url}: {message}", err=True)

    harvester = Harvester(store, renderer, Client(url, log=log), options, log=log)
    try:
        report = harvester.run()
    except PageRejected as rejected:
        _print_problems(url, rejected.report, skipped=False)
        click.echo(f"{url}: {_summary(rejected.report)}", err=True)
        raise click.ClickException(
            f"page {rejected.page} of {url} has records that cannot be mapped; it was not "
            f"stored (--skip-invalid stores the others); the {rejected.report.pages} "
            "page(s) before it were stored"
        ) from None
    except (HarvestFailed, HarvestError) as exc:
        raise click.ClickException(f"cannot harvest {url}: {exc}") from None
    except OAIError as exc:
        raise click.ClickException(f"{url} answered with an OAI-PMH error: {exc}") from None
    except KeyboardInterrupt:
        click.echo(
            f"{url}: interrupted; the pages stored so far stay, the next run resumes after them",
            err=True,
        )
        raise SystemExit(130) from None
    finally:
        store.dispose()
    _print_problems(url, report, skipped=True)
    click.echo(f"{url}: {_summary(report)}", err=True)
    good = report.summary.added + report.summary.updated + report.summary.unchanged
    if report.summary.rejected and not (good or report.summary.deleted):
        raise click.ClickException(
            f"not one record of {url} could be mapped ({report.summary.rejected}); "
            "nothing was stored"
        )


def _print_problems(url: str, report: HarvestReport, *, skipped: bool) -> None:
    word = "skipped " if skipped else ""
    for problem in report.problems:
        click.echo(f"{url}: {word}{problem}", err=True)


def _summary(report: HarvestReport) -> str:
    since = f"from {report.from_}" if report.from_ else "everything"
    extra = (
        f", {report.unknown_deletions} deletion(s) of records never harvested"
        if report.unknown_deletions
        else ""
    )
    status = "" if report.complete else " (not complete)"
    return f"{report.summary} ({report.prefix}, {since}, {report.pages} page(s){extra}){status}"
