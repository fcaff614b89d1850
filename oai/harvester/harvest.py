"""The harvest loop: ListRecords page by page, each page one write of the store.

A page's records, their provenance and the resumption token of the next page commit in
one transaction, stamped at commit (records.stamping): a page is served whole or not at
all, and after an interruption the next run asks for the page after the last one
stored. A list harvested to its end leaves its first responseDate as the next run's
``from`` (harvester guidelines §3). Deleted headers become tombstones of the records we
hold. Records that cannot be mapped are reported by identifier; without
``skip_invalid`` the page that holds one is not stored and the harvest stops there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from lxml import etree

from oai.harvester import mapping
from oai.harvester.client import NS, Client, HarvestFailed, OAIError, Response
from oai.harvester.mapping import MappingError, SourceFormat
from oai.harvester.provenance import Origin, earlier_origin, render_about
from oai.store import Store
from records import harvest_state
from records.ingest import ImportSummary, Renderer, import_records
from records.models import HarvestSource
from records.stamping import Clock
from records.validate import (
    RESERVED_SETS,
    SET_SPEC_RE,
    RecordError,
    content_hash,
    normalize_record,
    utc_now,
)

OAI_ID_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
_SECONDS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
# What LOCAL_ID_RE (records.validate) allows besides letters and digits; the rest is %-encoded.
_ID_SAFE = "-_.!~*'();/?:@&=+$,"
#: checkpoint events: "page-written" (in the page's transaction, before it commits) and
#: "page-committed"; tests stop a harvest at either
Checkpoint = Callable[[str, int], None]


@dataclass(frozen=True)
class HarvestOptions:
    set_spec: str | None = None
    prefix: str | None = None
    from_: str | None = None
    full: bool = False
    id_prefix: str | None = None
    skip_invalid: bool = False
    assume_access: str | None = None


@dataclass(frozen=True, order=True)
class Problem:
    """A record that could not be stored, named by its identifier at the source."""

    identifier: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.identifier}: {self.field}: {self.message}"


@dataclass
class HarvestReport:
    base_url: str
    prefix: str = ""
    from_: str | None = None
    summary: ImportSummary = field(default_factory=ImportSummary)
    problems: list[Problem] = field(default_factory=list)
    pages: int = 0
    #: deleted headers of records this store never had (nothing to delete)
    unknown_deletions: int = 0
    complete: bool = False
    notes: list[str] = field(default_factory=list)


class PageRejected(Exception):
    """A page held records that cannot be mapped, and bad records are not to be skipped."""

    def __init__(self, report: HarvestReport, page: int) -> None:
        super().__init__(f"page {page} has records that cannot be mapped")
        self.report = report
        self.page = page


class HarvestError(Exception):
    """The harvest cannot go on (the source, its formats, the options); one line why."""


@dataclass
class _Source:
    """What the harvest learnt from Identify and ListMetadataFormats, and its state row."""

    base_url: str
    granularity: str
    repository_identifier: str | None
    repository_name: str
    prefix: str
    namespace: str
    fmt: SourceFormat
    id_prefix: str
    row_id: int


@dataclass
class _Page:
    lines: list[dict[str, Any]] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)  # per line, for reporting
    origins: list[harvest_state.Origin] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)
    deletions: list[tuple[str, str]] = field(default_factory=list)  # (local id, identifier)
    problems: list[Problem] = field(default_factory=list)


class Harvester:
    def __init__(
        self,
        store: Store,
        renderer: Renderer,
        client: Client,
        options: HarvestOptions,
        *,
        log: Callable[[str], None] = lambda _message: None,
        checkpoint: Checkpoint | None = None,
        now: Clock | None = None,
    ) -> None:
        self.store = store
        self.renderer = renderer
        self.client = client
        self.options = options
        self.log = log
        self.checkpoint = checkpoint or (lambda _event, _page: None)
        self.mapping_options = mapping.Options(assume_access=options.assume_access)
        #: datestamps for the written pages (tests); None: the store's, at commit
        self.now = now

    # --- the run ---------------------------------------------------------------------------

    def run(self) -> HarvestReport:
        report = HarvestReport(self.client.base_url)
        source = self._source()
        report.prefix = source.prefix
        try:
            self._harvest(source, report)
        except (HarvestFailed, HarvestError, OAIError, PageRejected) as exc:
            message = str(exc)
            if isinstance(exc, PageRejected):
                message += f" ({len(exc.report.problems)} record(s)); it was not stored"
            with self.store.transaction() as session:
                harvest_state.record_error(session, source.row_id, message, utc_now())
            raise
        return report

    def _harvest(self, source: _Source, report: HarvestReport) -> None:
        with self.store.session() as session:
            row = session.get(HarvestSource, source.row_id)
            assert row is not None
            saved_token, list_from, list_date = row.token, row.list_from, row.list_response_date
            last = row.last_response_date
        restarted = False
        if saved_token and not (self.options.full or self.options.from_):
            token: str | None = saved_token
            report.from_ = list_from
            report.notes.append(f"resuming the interrupted list (from {list_from or 'the start'})")
            self.log(report.notes[-1])
        else:
            token, list_date = None, None
            list_from = self.options.from_ or (None if self.options.full else last)
            list_from = _in_granularity(list_from, source.granularity)
            report.from_ = list_from
        while True:
            try:
                response = self._list(source, token, list_from)
            except OAIError as exc:
                if exc.code == "noRecordsMatch" and token is None:
                    self._finish_empty(source, exc.response_date or list_date or "")
                    report.complete = True
                    return
                if exc.code == "badResumptionToken" and token is not None and not restarted:
                    restarted = True
                    report.notes.append(
                        "the source refused the resumption token (expired?): "
                        f"the list starts again from {list_from or 'the start'}"
                    )
                    self.log(report.notes[-1])
                    token, list_date = None, None
                    continue
                raise
            if token is None:
                list_date = response.response_date
            container = response.find("oai:ListRecords")
            if container is None:
                raise HarvestError("the ListRecords response has no ListRecords element")
            next_token = _next_token(container)
            page = self._read_page(source, container, response, report.pages + 1)
            report.problems += page.problems
            if page.problems and not self.options.skip_invalid:
                raise PageRejected(report, report.pages + 1)
            self._write(source, page, report, next_token, list_from, list_date or "")
            report.pages += 1
            self.checkpoint("page-committed", report.pages)
            if next_token is None:
                report.complete = True
                return
            token = next_token

    def _list(self, source: _Source, token: str | None, list_from: str | None) -> Response:
        if token is not None:
            return self.client.request("ListRecords", resumptionToken=token)
        return self.client.request(
            "ListRecords",
            metadataPrefix=source.prefix,
            set=self.options.set_spec,
            **{"from": list_from},
        )

    # --- Identify, formats, the state row ---------------------------------------------------

    def _source(self) -> _Source:
        identify = self.client.request("Identify")
        granularity = (
            identify.root.findtext("oai:Identify/oai:granularity", namespaces=NS) or "YYYY-MM-DD"
        ).strip()
        name = (
            identify.root.findtext("oai:Identify/oai:repositoryName", namespaces=NS) or ""
        ).strip()
        repository_identifier = identify.root.findtext(
            f"oai:Identify/oai:description/{{{OAI_ID_NS}}}oai-identifier/"
            f"{{{OAI_ID_NS}}}repositoryIdentifier",
            namespaces=NS,
        )
        repository_identifier = (repository_identifier or "").strip() or None
        offered = self._formats()
        set_spec = self.options.set_spec or ""
        with self.store.transaction() as session:
            known = harvest_state.sources_of(session, self.client.base_url, set_spec)
            prefix = self._choose(offered, [s.prefix for s in known])
            row = harvest_state.find_source(session, self.client.base_url, set_spec, prefix)
            stored_key = next((s.id_prefix for s in known), None)
            key = self.options.id_prefix or stored_key
            key = key or _derived_key(repository_identifier, self.client.base_url)
            _check_key(key)
            if stored_key and key != stored_key:
                raise HarvestError(
                    f"this source was harvested with --id-prefix {stored_key!r}; "
                    f"its records would get new ids under {key!r}"
                )
            if row is None:
                row = harvest_state.add_source(session, self.client.base_url, set_spec, prefix, key)
            row_id = row.id
        namespace, fmt = offered[prefix]
        return _Source(
            self.client.base_url,
            granularity,
            repository_identifier,
            name or self.client.base_url,
            prefix,
            namespace,
            fmt,
            key,
            row_id,
        )

    def _formats(self) -> dict[str, tuple[str, SourceFormat]]:
        response = self.client.request("ListMetadataFormats")
        offered: dict[str, tuple[str, SourceFormat]] = {}
        self.unreadable: list[str] = []
        for entry in response.root.iterfind("oai:ListMetadataFormats/oai:metadataFormat", NS):
            prefix = (entry.findtext("oai:metadataPrefix", namespaces=NS) or "").strip()
            namespace = (entry.findtext("oai:metadataNamespace", namespaces=NS) or "").strip()
            fmt = mapping.format_of(prefix, namespace)
            if fmt is None:
                self.unreadable.append(prefix)
            else:
                offered[prefix] = (namespace, fmt)
        return offered

    def _choose(self, offered: dict[str, tuple[str, SourceFormat]], known: list[str]) -> str:
        """``--prefix``, else the prefix this source was harvested in, else the richest."""
        wanted = self.options.prefix
        if wanted:
            if wanted not in offered:
                readable = ", ".join(sorted(offered)) or "none"
                if wanted in self.unreadable:
                    raise HarvestError(
                        f"the source offers {wanted!r}, but oaipress cannot read that format "
                        f"(formats it can read here: {readable})"
                    )
                raise HarvestError(
                    f"the source does not offer {wanted!r} (formats it can read here: {readable})"
                )
            return wanted
        for prefix in known:
            if prefix in offered:
                return prefix
        if not offered:
            raise HarvestError(
                "the source offers no format oaipress can read (oai_dc, marcxml, jats)"
            )
        return min(offered, key=lambda p: (offered[p][1].rank, p))

    # --- one page ---------------------------------------------------------------------------

    def _read_page(
        self, source: _Source, container: etree._Element, response: Response, number: int
    ) -> _Page:
        page = _Page()
        for position, record in enumerate(container.iterfind("oai:record", NS), start=1):
            header = record.find("oai:header", NS)
            identifier = (
                (header.findtext("oai:identifier", namespaces=NS) or "").strip()
                if header is not None
                else ""
            )
            name = identifier or f"(record {position} of page {number})"

            def problem(field: str, message: str, name: str = name) -> None:
                page.problems.append(Problem(name, field, message))

            if header is None or not identifier:
                problem("header.identifier", "the record's header has no identifier")
                continue
            local_id = _local_id(source.id_prefix, identifier, source.repository_identifier)
            if header.get("status") == "deleted":
                page.deletions.append((local_id, identifier))
                continue
            datestamp = (header.findtext("oai:datestamp", namespaces=NS) or "").strip()
            if not datestamp:
                problem("header.datestamp", "the record's header has no datestamp")
                continue
            metadata = record.find("oai:metadata", NS)
            payload = None if metadata is None else next(iter(metadata), None)
            while payload is not None and not isinstance(payload.tag, str):
                payload = payload.getnext()  # a comment or processing instruction
            if payload is None:
                problem("metadata", "the record has no metadata")
                continue
            specs = [s.text.strip() for s in header.iterfind("oai:setSpec", NS) if s.text]
            sets = [source.id_prefix] + [
                f"{source.id_prefix}:{s}" for s in specs if SET_SPEC_RE.fullmatch(s)
            ]
            try:
                fields = source.fmt.map(payload, self.mapping_options)
                line = {"id": local_id, **fields, "sets": sets}
                canonical, _ = normalize_record(line)
            except (MappingError, RecordError) as exc:
                problem(exc.field, exc.message)
                continue
            origin = Origin(
                source.base_url, identifier, datestamp, source.namespace, response.response_date
            )
            about = render_about(origin, earlier_origin(record.findall("oai:about", NS)))
            page.lines.append(line)
            page.identifiers.append(identifier)
            page.hashes[local_id] = content_hash(canonical)
            page.origins.append(harvest_state.Origin(local_id, identifier, datestamp, about))
        return page

    def _write(
        self,
        source: _Source,
        page: _Page,
        report: HarvestReport,
        next_token: str | None,
        list_from: str | None,
        list_date: str,
    ) -> None:
        """The page's records, tombstones, provenance and the next token: one transaction."""
        number = report.pages + 1
        with self.store.transaction() as session:
            ids = [line["id"] for line in page.lines]
            stored = harvest_state.content_hashes(session, ids)
            known = harvest_state.with_origin(session, ids)
            # Provenance follows content: it is written when the record is (or was never).
            origins = [
                o
                for o in page.origins
                if stored.get(o.local_id) != page.hashes[o.local_id] or o.local_id not in known
            ]
            harvest_state.save_origins(session, source.row_id, origins)
            deleted_ids = [local_id for local_id, _ in page.deletions]
            existing = harvest_state.content_hashes(session, deleted_ids)
            # A tombstone for each record we hold (one already deleted stays unchanged).
            tombstones = [{"id": i, "deleted": True} for i in deleted_ids if i in existing]
            lines: list[dict[str, Any]] = []
            names: list[str] = []
            if not harvest_state.set_exists(session, source.id_prefix):
                lines.append(_set_line(source))
                names.append("(set)")
            lines += page.lines + tombstones
            names += page.identifiers + [
                i for local_id, i in page.deletions if local_id in existing
            ]
            harvest_state.save_progress(
                session,
                source.row_id,
                token=next_token,
                list_from=list_from,
                list_response_date=list_date,
                harvested=len(page.lines),
                deleted=len(tombstones),
                rejected=len(page.problems),
                now=utc_now(),
            )
            if next_token is None:
                harvest_state.finish_list(session, source.row_id, list_date)
            summary = import_records(
                session,
                [json.dumps(line) for line in lines],
                self.renderer,
                skip_invalid=True,
                now=self.now,
            )
            self.checkpoint("page-written", number)
        for error in summary.errors:  # only an identifier repeated within one page
            report.problems.append(Problem(names[error.line - 1], error.field, error.message))
        total = report.summary
        total.added += summary.added
        total.updated += summary.updated
        total.unchanged += summary.unchanged
        total.deleted += summary.deleted
        total.rejected += summary.rejected + len(page.problems)
        report.unknown_deletions += len(page.deletions) - len(tombstones)

    def _finish_empty(self, source: _Source, response_date: str) -> None:
        """noRecordsMatch: nothing changed since ``from``; the next run starts from now."""
        with self.store.transaction() as session:
            harvest_state.finish_list(session, source.row_id, response_date)


def _next_token(container: etree._Element) -> str | None:
    token = container.find("oai:resumptionToken", NS)
    if token is None or not (token.text or "").strip():
        return None
    return token.text.strip()


def _in_granularity(moment: str | None, granularity: str) -> str | None:
    """A responseDate as a ``from`` the source accepts: its day, at day granularity."""
    if not moment:
        return None
    if granularity.startswith("YYYY-MM-DDThh") and _SECONDS.fullmatch(moment):
        return moment
    return moment[:10]


def _derived_key(repository_identifier: str | None, base_url: str) -> str:
    """The source's repository identifier, else its host name."""
    if repository_identifier and _valid_key(repository_identifier):
        return repository_identifier
    host = urlsplit(base_url).hostname or "harvested"
    return host if _valid_key(host) else "harvested"


def _valid_key(key: str) -> bool:
    return bool(SET_SPEC_RE.fullmatch(key)) and ":" not in key and key not in RESERVED_SETS


def _check_key(key: str) -> None:
    if not _valid_key(key):
        raise HarvestError(
            f"--id-prefix {key!r} must be letters, digits and -_.!~*'() only "
            "(it is also the set of the harvested records), and not driver or openaire"
        )


def _local_id(key: str, identifier: str, repository_identifier: str | None) -> str:
    """``{key}/{local part}``: the source's own ``oai:{its id}:`` prefix is dropped."""
    own = f"oai:{repository_identifier}:" if repository_identifier else None
    part = identifier[len(own) :] if own and identifier.startswith(own) else identifier
    return f"{key}/{quote(part, safe=_ID_SAFE)}"


def _set_line(source: _Source) -> dict[str, Any]:
    return {
        "set": source.id_prefix,
        "name": f"Harvested from {source.repository_name}"[:4000],
        "description": f"Records harvested from {source.base_url}",
    }
