"""Dublin Core (oai_dc), mapped as in metadata.md §1.5 (OJS's mapping plus its fixes).

``xml:lang`` goes only on text written in the record's language (title, keywords,
abstract): not on the journal citation, whose "Vol./No." labels are English, nor on the
copyright statement or the publisher's name, which are not translated. Every record can
be expressed.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from lxml.builder import ElementMaker

from oai.formats import XML_LANG, XSI_NS, MetadataFormat, register
from oai.formats.languages import iso639_3
from oai.formats.vocabulary import (
    EU_REPO_ACCESS,
    citation_label,
    copyright_statement,
    doi_url,
    effective_access,
    resource_type,
    version,
)

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"

_OAI_DC = ElementMaker(namespace=OAI_DC_NS, nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS})


def build(record: dict[str, Any]) -> etree._Element:
    root = _OAI_DC.dc()
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} {SCHEMA}")
    lang = record.get("language")

    def add(name: str, text: str | None, *, localized: bool = False) -> None:
        if not text:
            return
        element = etree.SubElement(root, f"{{{DC_NS}}}{name}")
        element.text = text
        if localized and lang:
            element.set(XML_LANG, lang)

    add("title", record["title"], localized=True)
    for author in record["authors"]:
        add("creator", ", ".join(p for p in (author["family"], author.get("given")) if p))
    for keyword in record["keywords"]:
        add("subject", keyword, localized=True)
    add("description", record.get("abstract"), localized=True)
    journal = record.get("journal") or {}
    add("publisher", journal.get("publisher") or journal.get("title"))
    add("date", record["published"])
    rights = record["rights"]
    access = effective_access(rights)
    if access == "embargoed":
        add("date", f"info:eu-repo/date/embargoEnd/{rights['embargo_until']}")
    add("type", resource_type(record).eu_repo)  # first: the DRIVER publication type
    add("type", version(record).eu_repo)
    add("type", "Text")
    for mime in dict.fromkeys(f["mime_type"] for f in record["files"] if f.get("mime_type")):
        add("format", mime)
    add("identifier", record["url"])  # first: harvesters send users to the first URL
    if record.get("doi"):
        add("identifier", doi_url(record["doi"]))
    add("source", citation_label(record))
    add("source", journal.get("issn"))
    add("source", journal.get("eissn"))
    if lang:
        add("language", iso639_3(lang))
    for file in record["files"]:
        add("relation", file["url"])
    add("rights", EU_REPO_ACCESS[access])
    add("rights", copyright_statement(rights))
    add("rights", rights.get("license"))
    return root


OAI_DC = register(MetadataFormat("oai_dc", OAI_DC_NS, SCHEMA, "1", build))
