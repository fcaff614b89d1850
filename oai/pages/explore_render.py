"""An OAI-PMH response document read into what the ``/explore`` templates show.

The input is the XML ``/oai`` would send (oai.protocol.views.protocol_response), parsed
with lxml; nothing here queries the store or knows the protocol's rules, so the page
shows exactly what a harvester gets. Everything returned is plain text for autoescaped
templates: no markup is made here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from oai.protocol.rendering import OAI_NS, local_id_of

XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
MARC_NS = "http://www.loc.gov/MARC21/slim"
_O = f"{{{OAI_NS}}}"

#: MARC 21 bibliographic fields oaipress writes (oai/formats/marcxml.py), by tag
MARC_FIELDS = {
    "001": "Control number",
    "003": "Control number identifier",
    "005": "Date of latest transaction",
    "008": "Fixed-length data elements",
    "020": "ISBN",
    "022": "ISSN",
    "024": "Other standard identifier",
    "041": "Language code",
    "100": "Main entry – personal name",
    "245": "Title statement",
    "246": "Varying form of title",
    "251": "Version information",
    "264": "Production, publication, distribution",
    "300": "Physical description",
    "336": "Content type",
    "504": "Bibliography note",
    "506": "Restrictions on access",
    "520": "Summary",
    "540": "Terms governing use and reproduction",
    "542": "Copyright status",
    "546": "Language note",
    "650": "Subject – topical term",
    "653": "Index term – uncontrolled",
    "655": "Genre/form",
    "700": "Added entry – personal name",
    "773": "Host item entry",
    "856": "Electronic location and access",
}
#: attribute names that read badly when only split at capitals
_ATTRIBUTE_NAMES = {f"{{{XML_NS}}}lang": "Language", "ind1": "Indicator 1", "ind2": "Indicator 2"}
#: MARC elements whose label already says this attribute ("245 Title statement", "$a")
_MARC_LABELLED = {
    f"{{{MARC_NS}}}datafield": "tag",
    f"{{{MARC_NS}}}controlfield": "tag",
    f"{{{MARC_NS}}}subfield": "code",
}
_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|[-_]+")


#: names whose words are initials, which no rule can tell from the spelling
_KNOWN_NAMES = {
    "oai-identifier": "OAI identifier",
    "oai_dc": "OAI Dublin Core",
    "dc": "Dublin Core",
}


def human_name(name: str) -> str:
    """``dateIssued`` → "Date issued", ``rightsURI`` → "Rights URI", ``fpage`` → "Fpage"."""
    if name in _KNOWN_NAMES:
        return _KNOWN_NAMES[name]
    words = [w for w in _WORD_BREAK.split(name) if w]
    if not words:
        return name
    shown = [w if w.isupper() and len(w) > 1 else w.lower() for w in words]
    return shown[0][:1].upper() + shown[0][1:] + "".join(" " + w for w in shown[1:])


@dataclass
class Field:
    """One label and its values (a term of Dublin Core, a line of Identify)."""

    label: str
    values: list[str]


@dataclass
class Node:
    """One element of a metadata record, for people: name, attributes, text, children."""

    label: str
    attributes: list[tuple[str, str]]
    text: str | None
    children: list[Node] = field(default_factory=list)


@dataclass
class Record:
    """A header, and for ListRecords and GetRecord its metadata in a readable form."""

    identifier: str
    local_id: str | None
    datestamp: str
    sets: list[str]
    deleted: bool
    title: str | None = None
    #: Dublin Core as a definition list (oai_dc), else None
    dc: list[Field] | None = None
    #: any other format as an outline, else None
    outline: Node | None = None
    #: the metadata element, indented
    xml: str | None = None
    about: list[Node] = field(default_factory=list)


@dataclass
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str


@dataclass
class Set:
    spec: str
    name: str
    descriptions: list[str]


@dataclass
class Position:
    """Where a page of a list is (§3.5): 1-based first and last item, and the list size."""

    first: int
    last: int
    total: int | None
    #: the token for the next page; None on the last page
    token: str | None
    expiration: str | None


@dataclass
class Error:
    code: str
    message: str


@dataclass
class Response:
    """One OAI-PMH response, read."""

    verb: str | None
    #: the arguments echoed in <request> (empty for badVerb and badArgument, §3.2)
    arguments: dict[str, str]
    base_url: str
    response_date: str
    errors: list[Error] = field(default_factory=list)
    identify: list[Field] = field(default_factory=list)
    descriptions: list[Node] = field(default_factory=list)
    formats: list[MetadataFormat] = field(default_factory=list)
    sets: list[Set] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    position: Position | None = None


def read_response(document: etree._Element, repository_identifier: str) -> Response:
    """``document`` is the ``OAI-PMH`` root element of a response."""
    request = document.find(f"{_O}request")
    arguments = dict(request.attrib) if request is not None else {}
    response = Response(
        verb=arguments.get("verb"),
        arguments={k: v for k, v in arguments.items() if k != "verb"},
        base_url=_text(request),
        response_date=document.findtext(f"{_O}responseDate") or "",
    )
    response.errors = [Error(e.get("code", ""), _text(e)) for e in document.findall(f"{_O}error")]
    if response.errors:
        return response
    body = document.find(f"{_O}{response.verb}")
    if body is None:
        return response
    if response.verb == "Identify":
        _read_identify(response, body)
    elif response.verb == "ListMetadataFormats":
        response.formats = [
            MetadataFormat(
                f.findtext(f"{_O}metadataPrefix") or "",
                f.findtext(f"{_O}schema") or "",
                f.findtext(f"{_O}metadataNamespace") or "",
            )
            for f in body.findall(f"{_O}metadataFormat")
        ]
    elif response.verb == "ListSets":
        response.sets = [_read_set(s) for s in body.findall(f"{_O}set")]
        response.position = _position(body, len(response.sets))
    elif response.verb == "ListIdentifiers":
        response.records = [
            _read_header(h, repository_identifier) for h in body.findall(f"{_O}header")
        ]
        response.position = _position(body, len(response.records))
    else:  # ListRecords, GetRecord
        response.records = [
            _read_record(r, repository_identifier) for r in body.findall(f"{_O}record")
        ]
        if response.verb == "ListRecords":
            response.position = _position(body, len(response.records))
    return response


def _text(element: etree._Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _read_identify(response: Response, body: etree._Element) -> None:
    fields: dict[str, Field] = {}
    for child in body:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if name == "description":
            response.descriptions += [_outline(d) for d in child if isinstance(d.tag, str)]
            continue
        label = "Admin e-mail" if name == "adminEmail" else human_name(name)
        fields.setdefault(name, Field(label, [])).values.append(_text(child))
    response.identify = list(fields.values())


def _read_set(element: etree._Element) -> Set:
    return Set(
        spec=element.findtext(f"{_O}setSpec") or "",
        name=element.findtext(f"{_O}setName") or "",
        descriptions=[
            _text(d) for d in element.iterfind(f"{_O}setDescription//{{{DC_NS}}}description")
        ],
    )


def _position(body: etree._Element, count: int) -> Position:
    """The cursor is the number of items sent before this page (§3.5)."""
    token = body.find(f"{_O}resumptionToken")
    if token is None:
        return Position(1 if count else 0, count, count, None, None)
    cursor = _int(token.get("cursor")) or 0
    return Position(
        first=cursor + 1,
        last=cursor + count,
        total=_int(token.get("completeListSize")),
        token=_text(token) or None,
        expiration=token.get("expirationDate"),
    )


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _read_header(header: etree._Element, repository_identifier: str) -> Record:
    identifier = header.findtext(f"{_O}identifier") or ""
    return Record(
        identifier=identifier,
        local_id=local_id_of(repository_identifier, identifier),
        datestamp=header.findtext(f"{_O}datestamp") or "",
        sets=[s.text or "" for s in header.findall(f"{_O}setSpec")],
        deleted=header.get("status") == "deleted",
    )


def _read_record(element: etree._Element, repository_identifier: str) -> Record:
    header = element.find(f"{_O}header")
    record = _read_header(header, repository_identifier) if header is not None else None
    if record is None:  # the schema requires a header; show what there is
        record = Record("", None, "", [], False)
    metadata = element.find(f"{_O}metadata")
    payload = None
    if metadata is not None:
        payload = next((c for c in metadata if isinstance(c.tag, str)), None)
    if payload is not None:
        record.title = record_title(payload)
        if payload.tag == f"{{{OAI_DC_NS}}}dc":
            record.dc = _dublin_core(payload)
        else:
            record.outline = _outline(payload)
        record.xml = pretty_xml(payload)
    record.about = [
        _outline(child)
        for about in element.findall(f"{_O}about")
        for child in about
        if isinstance(child.tag, str)
    ]
    return record


def record_title(payload: etree._Element) -> str | None:
    """The title in any of the formats served: MARC 245 $a, else the first *title."""
    for subfield in payload.iterfind(
        f".//{{{MARC_NS}}}datafield[@tag='245']/{{{MARC_NS}}}subfield[@code='a']"
    ):
        return " ".join((subfield.text or "").split()) or None
    for element in payload.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname in (
            "title",
            "article-title",
        ):
            text = " ".join("".join(element.itertext()).split())
            if text:
                return text
    return None


def _dublin_core(dc: etree._Element) -> list[Field]:
    """The fifteen terms in the order the record gives them, repeated terms together."""
    fields: dict[str, Field] = {}
    for element in dc:
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        fields.setdefault(name, Field(human_name(name), [])).values.append(_text(element))
    return list(fields.values())


def _outline(element: etree._Element) -> Node:
    shown_in_label = _MARC_LABELLED.get(element.tag)
    attributes = [
        (_attribute_label(name), value)
        for name, value in element.attrib.items()
        if not name.startswith(f"{{{XSI_NS}}}") and name != shown_in_label
    ]
    children = [_outline(child) for child in element if isinstance(child.tag, str)]
    text = " ".join("".join(element.itertext()).split()) if not children else None
    return Node(_element_label(element), attributes, text or None, children)


def _element_label(element: etree._Element) -> str:
    name = etree.QName(element).localname
    if _MARC_LABELLED.get(element.tag) == "tag":
        tag = element.get("tag", "")
        return f"{tag} {MARC_FIELDS[tag]}" if tag in MARC_FIELDS else f"Field {tag}"
    if element.tag == f"{{{MARC_NS}}}subfield":
        return f"${element.get('code', '')}"
    return human_name(name)


def _attribute_label(name: str) -> str:
    if name in _ATTRIBUTE_NAMES:
        return _ATTRIBUTE_NAMES[name]
    return human_name(etree.QName(name).localname)


def pretty_xml(element: etree._Element) -> str:
    """``element`` alone, indented; unused namespace declarations of the envelope dropped."""
    copy = etree.fromstring(etree.tostring(element))
    etree.cleanup_namespaces(copy)
    etree.indent(copy, space="  ")
    return etree.tostring(copy, encoding="unicode")
