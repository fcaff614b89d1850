"""``oaipress check``: the record checker, for people at a terminal, cron jobs and CI.

Over the store, a run of every rule on every record also saves its findings in the store
for ``/explore/checks`` and the landing pages' badges (records.findings); a run limited by
``--rules`` or ``--set`` does not (it would pass for the whole store's), nor does one with
``--no-save``. Over a FILE, nothing is stored.

Exit status (also in ``--help`` and the README): 0 nothing at or above ``--fail-on``;
1 warnings (or, with ``--fail-on info``, information) and no errors; 2 errors; 3 the
check could not run (bad options, an unreadable file, the database). ``--fail-on never``
exits 0 whatever was found.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import click

from oai.checks.model import RANK
from oai.checks.report import FORMATS, WRITERS, summary_line
from oai.checks.rules import GROUPS, select
from oai.checks.runner import (
    Checker,
    CheckResult,
    check_lines,
    check_store,
    count_records,
    read_with_progress,
    save_result,
)
from records.validate import SET_SPEC_RE

FAIL_ON = ("error", "warning", "info", "never")
#: the check could not run; 1 and 2 say what it found
CANNOT_RUN = 3


class CannotRun(click.ClickException):
    exit_code = CANNOT_RUN


class _CheckCommand(click.Command):
    """Bad options exit 3 (click's own usage status, 2, means errors were found here)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            error.exit_code = CANNOT_RUN
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:  # an option checked by the command itself
            error.exit_code = CANNOT_RUN
            raise


def exit_status(counts: dict[str, int], fail_on: str) -> int:
    """2 for errors, 1 for warnings (or information), each when at or above ``fail_on``."""
    if fail_on == "never":
        return 0
    found = [severity for severity, count in counts.items() if count]
    if not found:
        return 0
    worst = min(found, key=RANK.__getitem__)
    if RANK[worst] > RANK[fail_on]:
        return 0
    return 2 if worst == "error" else 1


def _groups(value: str | None) -> list[str] | None:
    if value is None:
        return None
    groups = [g.strip() for g in value.split(",") if g.strip()]
    try:
        select(groups)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--rules") from None
    return groups


@contextmanager
def _output(path: str | None, fmt: str) -> Iterator[IO[str]]:
    if path is None or path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        out = open(path, "w", encoding="utf-8", newline="" if fmt == "csv" else None)  # noqa: SIM115
    except OSError as exc:
        raise CannotRun(f"cannot write {path}: {exc.strerror or exc}") from None
    with out:
        yield out


def _check_file(path: str, checker: Checker, set_spec: str | None) -> CheckResult:
    from oai.cli import _progress

    try:
        stream: IO[bytes] = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise CannotRun(f"cannot read {path}: {exc.strerror or exc}") from None
    size = 0 if path == "-" else os.path.getsize(path)
    try:
        with _progress(size, "checking") as advance:
            return check_lines(read_with_progress(stream, advance), checker, set_spec=set_spec)
    except OSError as exc:
        raise CannotRun(f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _check_store(checker: Checker, set_spec: str | None, save: bool) -> CheckResult:
    from sqlalchemy.exc import DBAPIError

    from oai.cli import _one_line, _open, _progress, _settings

    try:
        store, _ = _open(_settings(), check_signature=False)
    except click.ClickException as exc:
        raise CannotRun(exc.message) from None
    try:
        with store.engine.connect() as connection:
            total = count_records(connection)
            with _progress(total, "checking") as advance:
                result = check_store(connection, checker, set_spec=set_spec, advance=advance)
        if save:
            with store.transaction() as session:
                save_result(session, result)
    except DBAPIError as exc:
        raise CannotRun(f"the database failed: {_one_line(exc)}") from None
    finally:
        store.dispose()
    return result


@click.command("check", cls=_CheckCommand)
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
    help="table for people; json or csv for programs.",
)  # fmt: skip
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write here, not stdout.")
@click.option(
    "--fail-on", type=click.Choice(FAIL_ON), default="error", show_default=True,
    help="The least severity that makes the exit status non-zero.",
)  # fmt: skip
@click.option(
    "--rules", "groups", metavar="GROUP,...",
    help=f"Only these rule groups: {', '.join(GROUPS)} [default: all].",
)  # fmt: skip
@click.option("--set", "set_spec", metavar="SPEC", help="Only the records in this set.")
@click.option(
    "--no-save", is_flag=True,
    help="Do not store the findings (a run over the whole store with every rule saves them "
    "for /explore/checks).",
)  # fmt: skip
def check_command(
    file: str | None,
    fmt: str,
    output: str | None,
    fail_on: str,
    groups: str | None,
    set_spec: str | None,
    no_save: bool,
) -> None:
    """Check the records of the store, or of an import FILE (- for standard input) before
    importing it, against the rules of OAI-PMH/oai_dc, DRIVER/OpenAIRE, Google Scholar and
    plain data quality.

    Each finding names the record, the field, the rule, its source and a severity (error,
    warning, info); a line of FILE that import would refuse is an error. A run over the
    whole store with every rule saves its findings for /explore/checks.

    \b
    Exit status:
      0  nothing at or above --fail-on (always, with --fail-on never)
      1  warnings and no errors (with --fail-on warning or info),
         or information only (with --fail-on info)
      2  errors (unless --fail-on never)
      3  the check could not run: bad options, an unreadable file, the database
    """
    chosen = _groups(groups)
    if set_spec is not None and not SET_SPEC_RE.fullmatch(set_spec):
        raise click.BadParameter(f"{set_spec!r} is not a setSpec", param_hint="--set")
    checker = Checker(*select(chosen))
    scope: dict[str, Any] = {"rules": chosen or list(GROUPS), "set": set_spec}
    if file is not None:
        what = "standard input" if file == "-" else file
        result = _check_file(file, checker, set_spec)
        saved = False
    else:
        what = "the store"
        saved = not no_save and chosen is None and set_spec is None
        result = _check_store(checker, set_spec, saved)
    result.scope.update(scope)
    with _output(output, fmt) as out:
        WRITERS[fmt](result, out, what)
    if fmt != "table" or output not in (None, "-"):
        click.echo(summary_line(result, what), err=True)
    if saved:
        click.echo("findings saved: /explore/checks shows them", err=True)
    elif file is None and not no_save:
        click.echo("findings not saved: only a run of every rule over every record is", err=True)
    status = exit_status(result.counts(), fail_on)
    if status:
        sys.exit(status)
