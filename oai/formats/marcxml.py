"""MARC 21 bibliographic records in MARCXML (`marcxml`), for library catalogues.

The record describes the article as a serial component part (Leader/06 ``a`` language
material, /07 ``b`` serial component part, /09 ``a`` Unicode) linked to its journal by
773, and fixes what OJS's MARC gets wrong (metadata.md §4.1): indicators are spaces, the
journal's ISSN goes in 773 $x (never 022, which is the record's own ISSN), 008 is a real
40-character field, and the copyright statement goes in 542, not 540.

Where each part of the record goes:

- 001 the local id; 008 publication date and language; 024 7_ the DOI; 041 the language
  (MARC codes = ISO 639-2/B).
- 100 the first author, 700 the others: $a "Family, Given", $u affiliation, $4 ``aut``,
  $1 the ORCID iD as a URI.
- 245 the title ($a, never recased; ind2 counts an initial article, for the languages
  in ``_ARTICLES``); 251 the version (COAR); 264 _1 $c the year; 336 content type.
- 504 one per reference; 520 3_ the abstract; 653 one per keyword; 655 _7 the resource
  type (COAR label, $0 its URI).
- Rights: 506 access (ind1 0 open, 1 otherwise; $f from the ``star`` list, $u the COAR
  access right, $g the embargo's end as yyyymmdd), 540 the licence ($a name, $f short
  form and $2 ``cc`` for Creative Commons, $u URI), 542 copyright ($d holder, $f the
  statement verbatim, $g year, $l status).
- 773 0_ the journal: $t, $d publisher, $g "Vol. 5, no. 4 (2004), p. 61-70", $q "5:4<61",
  $x the print ISSN (else the online one). $x is not repeatable, so when the journal has
  both ISSNs a second 773 1_ (no display) links the online ISSN.
- 856 40 the landing page first, then the DOI as a (percent-encoded) URL, then each file
  ($q media type, $y label, $7 0 open / 1 not open).

Lengths the leader cannot know are zeros; Leader/17 is ``3`` (abbreviated: no cataloguer
made it) and /18 blank (no ISBD punctuation). 008/00-05 ("date entered on file") is the
publication date, month and day 01 when unknown: the record has no cataloguing date, and
a rendition must not change when the record does not (``oaipress rebuild`` restamps
records whose rendition changed).

Disseminated for every record: each one has the title, date and landing page a MARC
record needs, so ``build`` never returns None.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from lxml import etree

from oai.formats import XSI_NS, MetadataFormat, register
from oai.formats.languages import iso639_2b
from oai.formats.vocabulary import (
    COAR_ACCESS,
    doi_url,
    effective_access,
    license_info,
    resource_type,
    version,
)

MARC_NS = "http://www.loc.gov/MARC21/slim"
SCHEMA = "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"

#: 00-04 length, 05 new, 06 language material, 07 serial component part, 08 no control,
#: 09 Unicode, 10-11 "22", 12-16 base address, 17 abbreviated level, 18 non-ISBD,
#: 19 not multipart, 20-23 "4500".
LEADER = "00000" + "n" + "a" + "b" + " " + "a" + "22" + "00000" + "3" + " " + " " + "4500"

#: 506 $f: DLF/OCLC "Standardized terminology for access restriction" (MARC source ``star``).
STAR_TERMS = {
    "open": "Unrestricted online access",
    "embargoed": "No online access",
    "restricted": "Online access with authorization",
    "closed": "No online access",
}

#: Initial articles that 245 ind2 skips, by language (MARC "Initial Definite and
#: Indefinite Articles"); an entry ending in an apostrophe is elided ("L'eau").
_ARTICLES: dict[str, tuple[str, ...]] = {
    "en": ("the", "a", "an"),
    "fr": ("le", "la", "les", "l'"),
    "de": ("der", "die", "das"),
    "es": ("el", "la", "los", "las"),
    "it": ("il", "lo", "la", "i", "gli", "le", "l'"),
    "pt": ("o", "a", "os", "as"),
    "nl": ("de", "het"),
}
_LEADING_MARKS = "\"'“‘«„([¿¡"
_PAGE_SEPARATOR = re.compile(r"\s*[-–—]\s*")

Subfields = list[tuple[str, str | None]]


class DataField(NamedTuple):
    """A data field before serialisation (a tuple: tens of them are made per record)."""

    tag: str
    ind1: str
    ind2: str
    subfields: Subfields


def build(record: dict[str, Any]) -> etree._Element:
    root = etree.Element(f"{{{MARC_NS}}}record", nsmap={None: MARC_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{MARC_NS} {SCHEMA}")
    root.set("type", "Bibliographic")
    etree.SubElement(root, f"{{{MARC_NS}}}leader").text = LEADER
    _control(root, "001", record["id"])
    _control(root, "008", fixed_length_data(record))
    for field in _data_fields(record):
        _append(root, field)
    return root


def _data_fields(record: dict[str, Any]) -> list[DataField]:
    """Every data field, in tag order."""
    authors = record.get("authors") or []
    language = marc_language(record.get("language"))
    fields: list[DataField] = []
    if record.get("doi"):
        fields.append(DataField("024", "7", " ", [("a", record["doi"]), ("2", "doi")]))
    if language != "und":
        fields.append(DataField("041", " ", " ", [("a", language)]))
    if authors:
        fields.append(_author("100", authors[0]))
    fields.append(_title(record, has_main_entry=bool(authors)))
    fields.append(_version(record))
    fields.append(DataField("264", " ", "1", [("c", record["published"][:4])]))
    fields.append(DataField("336", " ", " ", [("a", "text"), ("b", "txt"), ("2", "rdacontent")]))
    fields += [DataField("504", " ", " ", [("a", ref)]) for ref in record.get("references") or []]
    fields.append(access_field(record["rights"]))
    if record.get("abstract"):
        fields.append(DataField("520", "3", " ", [("a", record["abstract"])]))
    fields += _license(record["rights"])
    fields += _copyright(record["rights"])
    fields += [DataField("653", " ", " ", [("a", kw)]) for kw in record.get("keywords") or []]
    fields.append(_genre(record))
    fields += [_author("700", author) for author in authors[1:]]
    fields += host_fields(record)
    fields += _links(record)
    return fields


# --- serialisation -----------------------------------------------------------------------


def _clean(text: str) -> str:
    """MARC data holds no line breaks: every run of white space becomes one space."""
    return " ".join(text.split())


#: lxml spends about a microsecond on each attribute it sets, but copies a whole field
#: with its subfields in about as long: a field is a copy of one made once for its tag,
#: indicators and subfield codes, its subfields' text filled in.
_NSMAP = {None: MARC_NS}
_CONTROLFIELD = f"{{{MARC_NS}}}controlfield"
_DATAFIELD = f"{{{MARC_NS}}}datafield"
_SUBFIELD = f"{{{MARC_NS}}}subfield"
_PROTOTYPES: dict[tuple[str, ...], etree._Element] = {}


def _prototype(key: tuple[str, ...]) -> etree._Element:
    """The empty field ``key`` = (tag, ind1, ind2, *subfield codes), or a control field."""
    proto = _PROTOTYPES.get(key)
    if proto is None:
        if len(key) == 1:
            proto = etree.Element(_CONTROLFIELD, {"tag": key[0]}, nsmap=_NSMAP)
        else:
            tag, ind1, ind2, *codes = key
            attrib = {"tag": tag, "ind1": ind1, "ind2": ind2}
            proto = etree.Element(_DATAFIELD, attrib, nsmap=_NSMAP)
            for code in codes:
                etree.SubElement(proto, _SUBFIELD, {"code": code})
        _PROTOTYPES[key] = proto
    return proto


def _control(root: etree._Element, tag: str, value: str) -> None:
    element = _prototype((tag,)).__copy__()
    element.text = value
    root.append(element)


def _append(root: etree._Element, field: DataField) -> None:
    """The field, without empty subfields; nothing at all when none is left."""
    codes: list[str] = [field.tag, field.ind1, field.ind2]
    values: list[str] = []
    for code, value in field.subfields:
        if value:
            value = _clean(value)
            if value:
                codes.append(code)
                values.append(value)
    if not values:
        return
    element = _prototype(tuple(codes)).__copy__()
    for subfield, value in zip(element, values, strict=True):
        subfield.text = value
    root.append(element)


# --- fixed fields ------------------------------------------------------------------------


def marc_language(tag: str | None) -> str:
    """MARC language code (ISO 639-2/B); ``und`` when unknown or not a three-letter code."""
    code = iso639_2b(tag) if tag else ""
    return code if re.fullmatch(r"[a-z]{3}", code) else "und"


def fixed_length_data(record: dict[str, Any]) -> str:
    """008, 40 characters: entered, s + year, no place, 18-34 not coded, language, source d."""
    published = record["published"]
    parts = published.split("-")
    month = parts[1] if len(parts) > 1 else "01"
    day = parts[2] if len(parts) > 2 else "01"
    entered = published[2:4] + month + day
    not_coded = "|" * 17  # Leader 06/07 = a/b: the continuing-resources positions
    language = marc_language(record.get("language"))
    return f"{entered}s{published[:4]}    xx {not_coded}{language} d"


# --- descriptive fields ------------------------------------------------------------------


def orcid_uri(orcid: str) -> str:
    return orcid if orcid.startswith("http") else f"https://orcid.org/{orcid}"


def _author(tag: str, author: dict[str, Any]) -> DataField:
    name = ", ".join(p for p in (author.get("family"), author.get("given")) if p)
    orcid = author.get("orcid")
    return DataField(
        tag,
        "1",  # surname first
        " ",
        [
            ("a", name),
            ("u", author.get("affiliation")),
            ("4", "aut"),
            ("1", orcid_uri(orcid) if orcid else None),
        ],
    )


def nonfiling_characters(title: str, language: str | None) -> int:
    """245 ind2: the characters of an initial article (and marks before it) to skip."""
    articles = _ARTICLES.get((language or "").split("-")[0].lower(), ())
    marks = len(title) - len(title.lstrip(_LEADING_MARKS))
    rest = title[marks:].lower().replace("’", "'")
    for article in articles:
        if article.endswith("'"):
            skip = len(article) if rest.startswith(article) else 0
        else:
            skip = len(article) + 1 if rest.startswith(article + " ") else 0
        if skip and rest[skip:].strip():
            total = marks + skip
            return total if total <= 9 else 0
    return 0


def _title(record: dict[str, Any], *, has_main_entry: bool) -> DataField:
    title = record["title"]
    skip = nonfiling_characters(title, record.get("language"))
    # ind1: 1 = title added entry (a 1XX is the main entry), 0 = the title is the main entry
    return DataField("245", "1" if has_main_entry else "0", str(skip), [("a", title)])


def _version(record: dict[str, Any]) -> DataField:
    v = version(record)
    return DataField("251", " ", " ", [("a", v.coar_label), ("2", "coar"), ("0", v.coar)])


def _genre(record: dict[str, Any]) -> DataField:
    t = resource_type(record)
    return DataField("655", " ", "7", [("a", t.label), ("2", "coar"), ("0", t.coar)])


# --- rights --------------------------------------------------------------------------------


def access_field(rights: dict[str, Any]) -> DataField:
    """506: ind1 0 affirms open access, 1 states a restriction (an embargo with its end)."""
    access = effective_access(rights)
    uri, label = COAR_ACCESS[access]
    text = label.capitalize()
    until = None
    if access == "embargoed" and rights.get("embargo_until"):
        text += f" until {rights['embargo_until']}"
        until = rights["embargo_until"].replace("-", "")
    return DataField(
        "506",
        "0" if access == "open" else "1",
        " ",
        [("a", text), ("g", until), ("f", STAR_TERMS[access]), ("u", uri), ("2", "star")],
    )


def _license(rights: dict[str, Any]) -> list[DataField]:
    """540: the licence by name, standard short form (Creative Commons) and URI."""
    info = license_info(rights.get("license"))
    name = (info.name if info else None) or rights.get("license_name")
    if not (info or name):
        return []
    short = info.short if info else None
    return [
        DataField(
            "540",
            " ",
            " ",
            [
                ("a", name),
                ("f", short),
                ("2", "cc" if short else None),
                ("u", info.uri if info else None),
            ],
        )
    ]


def _copyright(rights: dict[str, Any]) -> list[DataField]:
    """542: holder and year as given, the statement verbatim (never composed here)."""
    holder, statement, year = rights.get("holder"), rights.get("statement"), rights.get("year")
    if not (holder or statement or year):
        return []
    public_domain = (rights.get("license") or "").startswith(
        "https://creativecommons.org/publicdomain/"
    )
    status = None if public_domain else "Copyrighted"
    return [
        DataField(
            "542",
            "1",  # not private
            " ",
            [("d", holder), ("f", statement), ("g", str(year) if year else None), ("l", status)],
        )
    ]


# --- the journal and the links -------------------------------------------------------------


def first_page(pages: str) -> str:
    return _PAGE_SEPARATOR.split(pages.strip())[0]


def related_parts(record: dict[str, Any]) -> str | None:
    """773 $g: ``Vol. 5, no. 4 (2004), p. 61-70``; None without volume, issue or pages."""
    volume, issue, pages = record.get("volume"), record.get("issue"), record.get("pages")
    if not (volume or issue or pages):
        return None
    numbering = ", ".join(
        part for part in (volume and f"Vol. {volume}", issue and f"no. {issue}") if part
    )
    text = f"{numbering} ({record['published'][:4]})".strip()
    return f"{text}, p. {pages}" if pages else text


def _enumeration(record: dict[str, Any]) -> str | None:
    """773 $q: ``5:4<61`` (volume:issue<first page)."""
    numbers = ":".join(n for n in (record.get("volume"), record.get("issue")) if n)
    if not numbers:
        return None
    return f"{numbers}<{first_page(record['pages'])}" if record.get("pages") else numbers


def host_fields(record: dict[str, Any]) -> list[DataField]:
    """773: the journal; a second, undisplayed 773 carries the online ISSN ($x is NR)."""
    journal = record.get("journal") or {}
    issns = [issn for issn in (journal.get("issn"), journal.get("eissn")) if issn]
    parts = related_parts(record)
    if not (any(journal.values()) or parts):
        return []
    common: Subfields = [
        ("t", journal.get("title")),
        ("d", journal.get("publisher")),
        ("g", parts),
        ("q", _enumeration(record)),
    ]
    # $7 nnas: no main entry heading, no form of name, language material, serial
    fields = [
        DataField("773", "0", " ", [("7", "nnas"), *common, ("x", issns[0] if issns else None)])
    ]
    fields += [DataField("773", "1", " ", [("7", "nnas"), *common, ("x", i)]) for i in issns[1:]]
    return fields


def _links(record: dict[str, Any]) -> list[DataField]:
    """856 40: landing page first (where harvesters send users), DOI, then each file."""
    links = [DataField("856", "4", "0", [("u", record["url"])])]
    if record.get("doi"):
        links.append(DataField("856", "4", "0", [("u", doi_url(record["doi"]))]))
    status = "0" if effective_access(record["rights"]) == "open" else "1"
    for file in record.get("files") or []:
        links.append(
            DataField(
                "856",
                "4",
                "0",
                [
                    ("u", file["url"]),
                    ("q", file.get("mime_type")),
                    ("y", file.get("label")),
                    ("7", status),
                ],
            )
        )
    return links


MARCXML = register(MetadataFormat("marcxml", MARC_NS, SCHEMA, "1", build))
