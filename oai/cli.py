"""The ``oaipress`` console script: import, export, delete, rebuild, sets, serve, demo."""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import IO, Any, NoReturn

import click
from sqlalchemy.exc import DBAPIError

from oai.config import ConfigError, load_settings, masked_url, without_password
from oai.ctrl_c import CtrlC, noted_ctrl_c
from oai.formats import formats
from oai.protocol.rendering import ProtocolRenderer
from oai.store import COMMITTED, RENDER_SIGNATURE, Store
from records.db import refresh_statistics
from records.ingest import ImportRejected, delete_record, import_records, rerender
from records.models import OAISet
from records.pipeline import stop_workers
from records.queries import iter_records, record_to_dict, set_definitions
from records.validate import RESERVED_SETS, SET_SPEC_RE, format_datestamp

DEMO_DATABASE = "sqlite:///oaipress-demo.sqlite"
# A batch's ids go into one IN (...) list and PostgreSQL (psycopg) takes at most 65,535
# parameters per statement: a larger batch would fail mid-import.
MAX_BATCH_SIZE = 10_000


def _settings(database_url: str | None = None) -> dict[str, Any]:
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if database_url:
        settings["OAIPRESS_DATABASE_URL"] = database_url
    return settings


def _open(
    settings: dict[str, Any], *, check_signature: bool = True
) -> tuple[Store, ProtocolRenderer]:
    url = settings["OAIPRESS_DATABASE_URL"]
    try:
        store = Store(url)
    except Exception as exc:  # noqa: BLE001 - any driver error is a user-facing problem here
        # The URL may carry a password: it is shown masked, and hidden in the driver's text.
        reason = without_password(_one_line(exc), url)
        message = f"cannot open the database {masked_url(url)}: {reason}"
        raise click.ClickException(message) from None
    renderer = ProtocolRenderer(
        settings["OAIPRESS_REPOSITORY_IDENTIFIER"], formats(settings["OAIPRESS_FORMATS"])
    )
    stored = store.setting(RENDER_SIGNATURE)
    if stored is None:
        store.set_setting(RENDER_SIGNATURE, renderer.signature())
    elif check_signature and stored != renderer.signature():
        raise click.ClickException(
            f"the store was rendered for '{stored}' but the configuration says "
            f"'{renderer.signature()}'; run `oaipress rebuild` first"
        )
    return store, renderer


def _one_line(exc: Exception) -> str:
    """A driver's message on one line, without SQLAlchemy's link to its error catalogue."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    lines = (line.strip() for line in str(exc).splitlines())
    return " ".join(line for line in lines if line and not line.startswith("(Background on"))


@contextmanager
def _progress(total: int, label: str) -> Iterator[Any]:
    """A progress bar on a terminal; silent when output goes to a file or a pipe."""
    if sys.stderr.isatty() and total:
        with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
            yield bar.update
    else:
        yield lambda _n: None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="oaipress")
def cli() -> None:
    """oaipress: an OAI-PMH 2.0 data provider for journal articles and their rights."""


def _lines(stream: IO[bytes], advance: Any, ctrl_c: CtrlC) -> Iterator[bytes]:
    for line in stream:
        ctrl_c.check()
        advance(len(line))
        yield line


def run_import(
    settings: dict[str, Any],
    path: str,
    *,
    skip_invalid: bool,
    keep_datestamps: bool,
    batch_size: int = 500,
    jobs: int | None = None,
) -> None:
    # When Ctrl-C lands inside a batched insert, psycopg aborts its pipeline while the
    # KeyboardInterrupt propagates and logs "error ignored terminating <Pipeline>": the
    # interruption itself is reported below, in one line, so that warning is noise.
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    size = 0 if path == "-" else os.path.getsize(path)
    if jobs is None:  # worker processes pay off only for large files
        jobs = (os.cpu_count() or 1) if size > 4_000_000 or path == "-" else 1
    stream: IO[bytes] = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    committed = False
    session: Any = None
    store: Store | None = None
    try:
        with noted_ctrl_c() as ctrl_c:
            # Opened inside: a Ctrl-C while the store is created is an interruption too.
            store, renderer = _open(settings)
            with _progress(size, "importing") as advance, store.transaction() as session:
                summary = import_records(
                    session,
                    _lines(stream, advance, ctrl_c),
                    renderer,
                    keep_datestamps=keep_datestamps,
                    skip_invalid=skip_invalid,
                    batch_size=batch_size,
                    jobs=jobs,
                )
                ctrl_c.check()  # the last lines' writes may have swallowed it
            committed = True
            ctrl_c.check()  # swallowed during the commit: reported as stored
        if summary.added + summary.updated + summary.deleted:
            refresh_statistics(store.engine)
    except ImportRejected as rejected:
        for error in rejected.summary.errors:
            click.echo(f"{path}: {error}", err=True)
        more = rejected.summary.rejected - len(rejected.summary.errors)
        if more > 0:
            click.echo(f"{path}: … and {more} more bad line(s)", err=True)
        raise click.ClickException(
            f"{rejected.summary.rejected} bad line(s) in {path}; nothing was stored "
            "(--skip-invalid stores the good lines)"
        ) from None
    except KeyboardInterrupt:
        _interrupted(path, _stored(committed, session))
    except Exception as failure:
        if _raised_while_interrupted(failure):
            _interrupted(path, _stored(committed, session))
        if not isinstance(failure, _database_errors()):
            raise
        # A full disk, a database gone away: one line, never a traceback.
        stored = _stored(committed, session)
        raise click.ClickException(_write_failure(path, failure, stored)) from None
    finally:
        # Whatever ended the import, its worker processes stop now, not when the garbage
        # collector gets to them: a pool left to the interpreter's exit can hang it.
        stop_workers()
        if stream is not sys.stdin.buffer:
            stream.close()
        if store is not None:
            store.dispose()
    for error in summary.errors:
        click.echo(f"{path}: skipped {error}", err=True)
    click.echo(f"{path}: {summary}", err=True)
    good = summary.added + summary.updated + summary.unchanged + summary.deleted
    if summary.rejected and not good:  # --skip-invalid, and not one line was usable
        raise click.ClickException(
            f"every line of {path} is bad ({summary.rejected} line(s)); nothing was stored"
        )


def _stored(committed: bool, session: Any) -> bool:
    """Whether the import's transaction committed: a failure or a Ctrl-C may come after
    the commit, while its datestamps are confirmed (oai.store.Store.transaction)."""
    return committed or (session is not None and session.info.get(COMMITTED, False))


def _interrupted(path: str, stored: bool) -> NoReturn:
    """Ctrl-C: before the commit, the transaction was rolled back.

    130 is what shells report for a command ended by SIGINT.
    """
    outcome = "the import was stored" if stored else "nothing was stored"
    click.echo(f"{path}: interrupted; {outcome}", err=True)
    raise SystemExit(130) from None


def _raised_while_interrupted(failure: BaseException) -> bool:
    """An error from cleaning up after a Ctrl-C (a rollback on a connection the
    interruption left mid-command) is still the interruption, not a database failure."""
    seen: set[int] = set()
    cause: BaseException | None = failure
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


#: SQLite's SQLITE_FULL and PostgreSQL's disk_full (SQLSTATE 53100).
_SQLITE_FULL = 13
_DISK_FULL = "53100"


def _database_errors() -> tuple[type[Exception], ...]:
    """SQLAlchemy's wrapped errors, and the drivers' own (bulk COPY talks to psycopg).

    A driver that was never loaded raised nothing: it is not imported just to be named.
    """
    errors: list[type[Exception]] = [DBAPIError]
    for name in ("sqlite3", "psycopg"):
        driver = sys.modules.get(name)
        if driver is not None:
            errors.append(driver.Error)
    return tuple(errors)


def _disk_full(failure: Exception) -> bool:
    original = failure.orig if isinstance(failure, DBAPIError) else failure
    return (
        getattr(original, "sqlite_errorcode", None) == _SQLITE_FULL
        or getattr(original, "sqlstate", None) == _DISK_FULL
        or "No space left on device" in str(original)
    )


def _write_failure(path: str, failure: Exception, stored: bool) -> str:
    """What an import that the database refused tells its user, in one line."""
    reason = _one_line(failure)
    what = "the disk is full" if _disk_full(failure) else "the database failed"
    if stored:
        return f"{path}: the import was stored, but then {what} ({reason})"
    return f"{path}: {what} ({reason}); nothing of this import was stored"


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--skip-invalid", is_flag=True, help="Store the good lines and report the bad.")
@click.option("--keep-datestamps", is_flag=True, help="Honour each line's datestamp (migrations).")
@click.option(
    "--batch-size", default=500, show_default=True, type=click.IntRange(1, MAX_BATCH_SIZE)
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes that check and render lines [default: CPU count for large files].",
)
def import_command(
    file: str, skip_invalid: bool, keep_datestamps: bool, batch_size: int, jobs: int | None
) -> None:
    """Import records from a JSON Lines FILE (- for standard input), upserting by id."""
    run_import(
        _settings(),
        file,
        skip_invalid=skip_invalid,
        keep_datestamps=keep_datestamps,
        batch_size=batch_size,
        jobs=jobs,
    )


@cli.command("export")
@click.argument("file", type=click.File("w", encoding="utf-8"), default="-")
def export_command(file: IO[str]) -> None:
    """Write every named set, then every record (tombstones and datestamps included), as
    JSON Lines that ``oaipress import`` reads back."""
    store, _ = _open(_settings(), check_signature=False)
    count = 0
    with store.session() as session:
        for definition in set_definitions(session):
            file.write(json.dumps(definition, ensure_ascii=False) + "\n")
        for record in iter_records(session):
            line = record_to_dict(record)
            line["datestamp"] = format_datestamp(record.datestamp)
            file.write(json.dumps(line, ensure_ascii=False) + "\n")
            count += 1
    click.echo(f"exported {count} record(s)", err=True)


@cli.command("delete")
@click.argument("record_id")
def delete_command(record_id: str) -> None:
    """Replace a record by a persistent tombstone (identifier, datestamp and sets stay)."""
    store, renderer = _open(_settings())
    with store.transaction() as session:
        found = delete_record(session, record_id, renderer)
    if not found:
        raise click.ClickException(f"no record has the id {record_id!r}")
    click.echo(f"deleted {record_id}", err=True)


@cli.command("rebuild")
def rebuild_command() -> None:
    """Render every record again (after an upgrade or a new repository identifier)."""
    store, renderer = _open(_settings(), check_signature=False)
    from records.queries import ListWindow, count_window

    with store.engine.connect() as connection:
        total = count_window(connection, ListWindow(None, None, None))
    with _progress(total, "rendering") as advance, store.transaction() as session:
        count, changed = rerender(session, renderer, progress=advance)
    store.set_setting(RENDER_SIGNATURE, renderer.signature())
    click.echo(f"rendered {count} record(s)", err=True)
    if changed:
        click.echo(f"{changed} record(s) now read differently: new datestamps", err=True)


@cli.command("lift-embargoes")
def lift_embargoes_command() -> None:
    """Re-stamp records whose embargo has ended (run daily, e.g. from cron)."""
    from records.embargo import lift_embargoes

    store, renderer = _open(_settings())
    today = datetime.now(UTC).date()
    with store.transaction() as session:
        lifted = lift_embargoes(session, renderer, today)
    for local_id in lifted:
        click.echo(f"open access from today: {local_id}", err=True)
    click.echo(f"{len(lifted)} embargo(es) ended", err=True)


@cli.command("set")
@click.argument("spec")
@click.argument("name")
@click.option("--description", default=None, help="Shown in ListSets as dc:description.")
def set_command(spec: str, name: str, description: str | None) -> None:
    """Name a set (and describe it) for ListSets; records join sets on import."""
    if not SET_SPEC_RE.fullmatch(spec):
        raise click.ClickException(f"{spec!r} is not a setSpec (e.g. 'cac' or 'cac:ART')")
    if spec.split(":")[0] in RESERVED_SETS:
        raise click.ClickException(f"{spec!r} is computed by oaipress and cannot be renamed")
    store, _ = _open(_settings(), check_signature=False)
    with store.transaction() as session:
        existing = session.get(OAISet, spec)
        if existing is None:
            session.add(OAISet(spec=spec, name=name, description=description))
        else:  # a new name keeps the description unless another one is given
            existing.name = name
            if description is not None:
                existing.description = description
    click.echo(f"set {spec}: {name}", err=True)


def serve_app(
    settings: dict[str, Any],
    host: str,
    port: int,
    workers: int,
    threads: int,
    access_log: bool = False,
) -> None:
    """gunicorn manages the worker processes; each reads requests on an asyncio loop
    under oai.serving's deadlines and limits and runs the app in ``threads`` threads."""
    from gunicorn.app.base import BaseApplication

    from oai import create_app
    from oai.serving.limits import Limits
    from oai.serving.worker import configure, raise_open_files_limit

    host = host.strip("[]")
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    _check_address(host, port, address)
    from oai.hosts import exposure_warning

    warning = exposure_warning(settings, host)
    if warning:
        click.echo(warning, err=True)
    limits = Limits.from_settings(settings)
    raise_open_files_limit(limits.max_connections + 256)

    def when_ready(_arbiter: Any) -> None:
        click.echo(f"Serving OAI-PMH at http://{address}/oai", err=True)

    class _Server(BaseApplication):  # type: ignore[misc]
        serving_limits = limits  # read by each worker (oai.serving.worker)

        def load_config(self) -> None:
            self.cfg.set("bind", address)
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            configure(self.cfg)
            if access_log:
                self.cfg.set("accesslog", "-")
            self.cfg.set("timeout", 120)  # the heartbeat of a worker whose loop is stuck
            self.cfg.set("graceful_timeout", 30)  # SIGTERM: responses under way may finish
            # gunicorn believes X-Forwarded-Proto from loopback by default: only the
            # OAIPRESS_PROXY_COUNT proxies may be believed, and ProxyFix (create_app)
            # does that; gunicorn itself never rewrites the scheme.
            self.cfg.set("forwarded_allow_ips", "")
            self.cfg.set("when_ready", when_ready)

        def load(self) -> Any:
            return create_app(settings)

    _Server().run()


def _check_address(host: str, port: int, address: str) -> None:
    """Bind the address once before gunicorn does: a busy port is a one-line error now,
    where gunicorn would retry for five seconds and log each attempt."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does
            sock.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            reason = "the port is in use (another server?)"
        else:
            reason = exc.strerror or str(exc)
        raise click.ClickException(f"cannot serve on {address}: {reason}") from None


def _serve_options(function: Any) -> Any:
    function = click.option("--host", default="127.0.0.1", show_default=True)(function)
    function = click.option(
        "--port", default=8000, show_default=True, type=click.IntRange(1, 65535)
    )(function)
    function = click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))(
        function
    )
    function = click.option(
        "--access-log", is_flag=True, help="Log every request to standard output."
    )(function)
    function = click.option(
        "--threads",
        default=4,
        show_default=True,
        type=click.IntRange(1, 64),
        help="Threads per worker that run the app (requests are read before, on a loop).",
    )(function)
    return function


@cli.command("serve")
@_serve_options
def serve_command(host: str, port: int, workers: int, threads: int, access_log: bool) -> None:
    """Serve the repository: gunicorn workers that read requests under deadlines and limits
    (safe to expose without a proxy; see docs/deployment.md)."""
    settings = _settings()
    store, _ = _open(settings)  # create the schema and check the store before workers start
    store.dispose()  # no pooled connection may be shared with the forked workers
    serve_app(settings, host, port, workers, threads, access_log)


@cli.command("demo")
@_serve_options
@click.option("--database", default=DEMO_DATABASE, show_default=True, help="SQLAlchemy URL.")
def demo_command(
    host: str, port: int, workers: int, threads: int, access_log: bool, database: str
) -> None:
    """Load the example article into a SQLite database (made once, then reused) and serve it."""
    settings = _settings(database)
    example = resources.files("records") / "examples" / "article-587.jsonl"
    with resources.as_file(example) as path:
        run_import(settings, str(path), skip_invalid=False, keep_datestamps=False)
    store, _ = _open(settings)
    with store.transaction() as session:
        session.merge(OAISet(spec="cac", name="Central Asia and the Caucasus"))
    store.dispose()
    click.echo(
        f"Open http://{host}:{port}/ in a browser (the article: /records/article/587), or\n"
        f"try: curl 'http://{host}:{port}/oai?verb=ListRecords&metadataPrefix=oai_dc'",
        err=True,
    )
    serve_app(settings, host, port, workers, threads, access_log)


@cli.command("get")
@click.argument("path")
def get_command(path: str) -> None:
    """Answer one request in-process and print it, e.g. oaipress get '/oai?verb=Identify'."""
    from oai import create_app

    settings = _settings()
    store, _ = _open(settings, check_signature=False)  # a clean error if the database fails
    store.dispose()
    app = create_app(settings)
    response = app.test_client().get(path)
    sys.stdout.buffer.write(response.get_data())
    app.extensions["oaipress.store"].dispose()
    if response.status_code >= 400:
        raise click.ClickException(f"HTTP {response.status_code}")


def main() -> None:  # pragma: no cover
    cli()


def _add_tools() -> None:
    """The archivists' tools, each in its own package (issue 12)."""
    from oai.checks.cli import check_command
    from oai.harvester.cli import harvest_command
    from oai.validator.cli import validate_command

    for command in (check_command, validate_command, harvest_command):
        cli.add_command(command)


_add_tools()


if __name__ == "__main__":  # pragma: no cover
    Path.cwd()
    main()
