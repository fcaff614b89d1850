"""The six verbs (§4): checked request + store → the verb element and the stored bytes.

Every error a verb can raise is raised here, before the first byte of the response is
written; what follows is concatenation of bytes already in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from lxml import etree
from sqlalchemy import Connection, select

from oai.formats import XSI_NS, MetadataFormat
from oai.formats.oai_dc import DC_NS, OAI_DC_NS
from oai.formats.oai_dc import SCHEMA as OAI_DC_SCHEMA
from oai.protocol.arguments import SECOND_GRANULARITY, OAIRequest
from oai.protocol.errors import (
    BadResumptionToken,
    CannotDisseminateFormat,
    IdDoesNotExist,
    NoMetadataFormats,
    NoRecordsMatch,
    NoSetHierarchy,
)
from oai.protocol.rendering import RIGHTS_NS, local_id_of, oai_identifier
from oai.protocol.tokens import ListState, TokenCodec
from oai.protocol.writer import oai, resumption_token
from records import queries
from records.models import Record
from records.validate import format_datestamp, utc_now

OAI_ID_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_ID_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
RIGHTS_MANIFEST_SCHEMA = "http://www.openarchives.org/OAI/2.0/rightsManifest.xsd"
METADATA_ENTITY = "http://www.openarchives.org/OAI/2.0/entity#metadata"
_LIST_START = datetime(1, 1, 1)


@dataclass(frozen=True)
class Repository:
    """What the verbs need to know about this repository (built from the app config)."""

    name: str
    base_url: str
    admin_emails: tuple[str, ...]
    identifier: str
    metadata_license: str
    formats: dict[str, MetadataFormat]
    codec: TokenCodec
    about: bytes
    records_page_size: int = 100
    identifiers_page_size: int = 500
    sets_page_size: int = 100
    now: Callable[[], datetime] = utc_now
    #: when a list starts, on the store's clock, and the replica position it needs
    #: (oai.store.Store.list_clock); None: ``now`` is the store's clock (SQLite)
    list_clock: Callable[[Connection], tuple[datetime, str | None]] | None = None
    #: raises records.replica.ReplicaBehind when a later page's replica lags its first page
    check_replayed: Callable[[Connection, str], None] | None = None


@dataclass
class Reply:
    """The verb element; ``pieces`` are stored bytes streamed as its first content.

    ``response_date`` is set by a list that starts: the time its window was frozen at.
    """

    element: etree._Element
    pieces: list[bytes] | None = None
    response_date: datetime | None = None


def identify(repo: Repository, connection: Connection, request: OAIRequest) -> Reply:
    element = etree.Element(oai("Identify"))

    def add(name: str, text: str) -> None:
        etree.SubElement(element, oai(name)).text = text

    add("repositoryName", repo.name)
    add("baseURL", repo.base_url)
    add("protocolVersion", "2.0")
    for email in repo.admin_emails:
        add("adminEmail", email)
    earliest = queries.earliest_datestamp(connection) or repo.now()
    add("earliestDatestamp", format_datestamp(earliest))
    add("deletedRecord", "persistent")
    add("granularity", SECOND_GRANULARITY)
    add("compression", "gzip")
    add("compression", "deflate")
    element.append(_description(_oai_identifier_description(repo, connection)))
    element.append(_description(_rights_manifest(repo.metadata_license)))
    return Reply(element)


def _description(child: etree._Element) -> etree._Element:
    description = etree.Element(oai("description"))
    description.append(child)
    return description


def _oai_identifier_description(repo: Repository, connection: Connection) -> etree._Element:
    sample = connection.scalar(
        select(Record.local_id).order_by(Record.datestamp, Record.local_id).limit(1)
    )
    root = etree.Element(f"{{{OAI_ID_NS}}}oai-identifier", nsmap={None: OAI_ID_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_ID_NS} {OAI_ID_SCHEMA}")
    for name, text in (
        ("scheme", "oai"),
        ("repositoryIdentifier", repo.identifier),
        ("delimiter", ":"),
        ("sampleIdentifier", oai_identifier(repo.identifier, sample or "article/1")),
    ):
        etree.SubElement(root, f"{{{OAI_ID_NS}}}{name}").text = text
    return root


def _rights_manifest(license_uri: str) -> etree._Element:
    root = etree.Element(f"{{{RIGHTS_NS}}}rightsManifest", nsmap={None: RIGHTS_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{RIGHTS_NS} {RIGHTS_MANIFEST_SCHEMA}")
    root.set("appliesTo", METADATA_ENTITY)
    rights = etree.SubElement(root, f"{{{RIGHTS_NS}}}rights")
    etree.SubElement(rights, f"{{{RIGHTS_NS}}}rightsReference").set("ref", license_uri)
    return root


def _format(repo: Repository, prefix: str) -> MetadataFormat:
    fmt = repo.formats.get(prefix)
    if fmt is None:
        raise CannotDisseminateFormat(
            f"metadataPrefix {prefix!r} is not supported; see ListMetadataFormats"
        )
    return fmt


def _page_parts(repo: Repository, rows: Sequence[queries.ListedRecord]) -> list[bytes]:
    """The ``<record>`` elements of ``rows`` as stored bytes, joined later per output chunk.

    Rows are unpacked, not read by attribute: this loop runs for every record served.
    A harvested record has a second ``<about>``, its provenance (oai.harvester), which
    the same query fetched (records.queries).
    """
    about = repo.about
    parts: list[bytes] = []
    for deleted, header_xml, _, _, metadata_xml, provenance_xml in rows:
        if deleted or metadata_xml is None:
            parts += (b"<record>", header_xml, b"</record>")
        else:
            parts += (
                b"<record>",
                header_xml,
                b"<metadata>",
                metadata_xml,
                b"</metadata>",
                about,
                provenance_xml or b"",
                b"</record>",
            )
    return parts


def get_record(repo: Repository, connection: Connection, request: OAIRequest) -> Reply:
    identifier = request.arguments["identifier"]
    fmt = _format(repo, request.arguments["metadataPrefix"])
    local_id = local_id_of(repo.identifier, identifier)
    row = queries.get_record(connection, local_id, fmt.prefix) if local_id is not None else None
    if row is None:
        raise IdDoesNotExist(f"{identifier!r} is not an identifier in this repository")
    if not row.deleted and row.metadata_xml is None:
        # A live record not rendered in this format (a format registered after the
        # record was written, before `oaipress rebuild`): a bare header is a lie.
        raise CannotDisseminateFormat(f"{identifier!r} is not available as {fmt.prefix!r}")
    return Reply(etree.Element(oai("GetRecord")), _page_parts(repo, [row]))


def list_metadata_formats(repo: Repository, connection: Connection, request: OAIRequest) -> Reply:
    """§4.4: with an identifier, only the formats that item can be disseminated in.

    A live record lacks a format that cannot express it (oai.formats); a tombstone is
    answered in every format (its header), so it lists them all.
    """
    offered = list(repo.formats.values())
    if "identifier" in request.arguments:
        identifier = request.arguments["identifier"]
        local_id = local_id_of(repo.identifier, identifier)
        found = queries.rendered_prefixes(connection, local_id) if local_id is not None else None
        if found is None:
            raise IdDoesNotExist(f"{identifier!r} is not an identifier in this repository")
        deleted, prefixes = found
        if not deleted:
            offered = [fmt for fmt in offered if fmt.prefix in prefixes]
        if not offered:
            raise NoMetadataFormats(f"{identifier!r} is not available in any format yet")
    element = etree.Element(oai("ListMetadataFormats"))
    for fmt in offered:
        entry = etree.SubElement(element, oai("metadataFormat"))
        etree.SubElement(entry, oai("metadataPrefix")).text = fmt.prefix
        etree.SubElement(entry, oai("schema")).text = fmt.schema
        etree.SubElement(entry, oai("metadataNamespace")).text = fmt.namespace
    return Reply(element)


def _start_state(
    repo: Repository, connection: Connection, request: OAIRequest
) -> tuple[ListState, datetime]:
    fmt = _format(repo, request.arguments["metadataPrefix"])
    set_spec = request.get("set")
    if set_spec is not None and not queries.has_sets(connection):
        raise NoSetHierarchy("this repository has no sets")
    # Freeze the list at the second before this request: records that change during the
    # harvest move past `until` and are left to the next incremental harvest. Writes are
    # stamped in the future as they commit (records.stamping), so nothing stamped up to
    # `until` can still appear; the responseDate is this same moment, on the same clock.
    now, position = repo.list_clock(connection) if repo.list_clock else (repo.now(), None)
    frozen = now - timedelta(seconds=1)
    until = frozen if request.until is None else min(request.until, frozen)
    window = queries.ListWindow(request.from_, until, set_spec, None, _in_format(fmt.prefix))
    total = (
        0 if request.from_ and request.from_ > until else queries.count_window(connection, window)
    )
    if total == 0:
        raise NoRecordsMatch("no records match the arguments", response_date=now)
    return ListState(
        request.verb, fmt.prefix, set_spec, request.from_, until, None, 0, total, position
    ), now


def _in_format(prefix: str | None) -> str | None:
    """The format a list is filtered on: none for oai_dc, which every record has (§3.4,
    and oai.protocol.rendering renders it for each); its lists count from the stored totals."""
    return None if prefix in (None, "oai_dc") else prefix


def _resumed_state(repo: Repository, connection: Connection, request: OAIRequest) -> ListState:
    state = repo.codec.decode(request.arguments["resumptionToken"], request.verb)
    if state.prefix is not None and state.prefix not in repo.formats:
        raise BadResumptionToken("the resumptionToken names a format no longer served")
    if state.position is not None and repo.check_replayed is not None:
        repo.check_replayed(connection, state.position)
    return state


def _list_items(repo: Repository, connection: Connection, request: OAIRequest) -> Reply:
    with_metadata = request.verb == "ListRecords"
    resumed = "resumptionToken" in request.arguments
    if resumed:
        state, started = _resumed_state(repo, connection, request), None
    else:
        state, started = _start_state(repo, connection, request)
    page_size = repo.records_page_size if with_metadata else repo.identifiers_page_size
    window = queries.ListWindow(
        state.from_, state.until, state.set_spec, state.after, _in_format(state.prefix)
    )
    rows = queries.list_page(
        connection, window, page_size + 1, state.prefix if with_metadata else None
    )
    if not rows:
        raise NoRecordsMatch("no records remain in this list")
    more = len(rows) > page_size
    rows = rows[:page_size]
    if with_metadata:
        pieces = _page_parts(repo, rows)
    else:
        pieces = [header_xml for _, header_xml, _, _, _, _ in rows]
    element = etree.Element(oai(request.verb))
    last = rows[-1]
    _append_token(repo, element, state, (last.datestamp, last.local_id), len(rows), more, resumed)
    return Reply(element, pieces, started)


def _append_token(
    repo: Repository,
    element: etree._Element,
    state: ListState,
    after: tuple[datetime, str],
    sent: int,
    more: bool,
    resumed: bool,
) -> None:
    if more:
        token = repo.codec.encode(state.advanced(after, sent))
        element.append(resumption_token(token, state.cursor, state.total, repo.codec.expiration()))
    elif resumed:
        element.append(resumption_token("", state.cursor, state.total, None))


def list_sets(repo: Repository, connection: Connection, request: OAIRequest) -> Reply:
    resumed = "resumptionToken" in request.arguments
    if resumed:
        state = repo.codec.decode(request.arguments["resumptionToken"], "ListSets")
    else:
        total = queries.count_sets(connection)
        if total == 0:
            raise NoSetHierarchy("this repository has no sets")
        state = ListState("ListSets", None, None, None, None, None, 0, total)
    after = state.after[1] if state.after else None
    sets = queries.list_sets(connection, after, repo.sets_page_size + 1)
    if not sets:
        raise BadResumptionToken("no sets remain in this list")
    more = len(sets) > repo.sets_page_size
    sets = sets[: repo.sets_page_size]
    element = etree.Element(oai("ListSets"))
    for oai_set in sets:
        entry = etree.SubElement(element, oai("set"))
        etree.SubElement(entry, oai("setSpec")).text = oai_set.spec
        etree.SubElement(entry, oai("setName")).text = oai_set.name
        description = etree.SubElement(entry, oai("setDescription"))
        description.append(_set_description(oai_set.name, oai_set.description))
    _append_token(repo, element, state, (_LIST_START, sets[-1].spec), len(sets), more, resumed)
    return Reply(element)


def _set_description(name: str, text: str | None) -> etree._Element:
    dc = etree.Element(
        f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS}
    )
    dc.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} {OAI_DC_SCHEMA}")
    etree.SubElement(dc, f"{{{DC_NS}}}title").text = name
    if text:
        etree.SubElement(dc, f"{{{DC_NS}}}description").text = text
    return dc


VERB_HANDLERS: dict[str, Callable[[Repository, Connection, OAIRequest], Reply]] = {
    "GetRecord": get_record,
    "Identify": identify,
    "ListIdentifiers": _list_items,
    "ListMetadataFormats": list_metadata_formats,
    "ListRecords": _list_items,
    "ListSets": list_sets,
}
