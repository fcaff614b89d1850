"""The ``<about>`` that says where a harvested record came from (OAI provenance guidelines).

One ``originDescription`` per harvest: the source's baseURL, the record's identifier
and datestamp there, the namespace of the format harvested, ``harvestDate`` = the
responseDate of the response that carried it, and ``altered="true"`` (we map the record
into our own model and render it again). Datestamp and responseDate keep the source's
granularity, as the guideline requires. When the source's record had provenance of its
own, its ``originDescription`` is nested inside ours, so the chain of harvests survives.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from oai.formats import XSI_NS
from oai.protocol.rendering import OAI_NS

PROVENANCE_NS = "http://www.openarchives.org/OAI/2.0/provenance"
PROVENANCE_SCHEMA = "http://www.openarchives.org/OAI/2.0/provenance.xsd"
_P = f"{{{PROVENANCE_NS}}}"


@dataclass(frozen=True)
class Origin:
    base_url: str
    identifier: str
    datestamp: str
    metadata_namespace: str
    harvest_date: str


def earlier_origin(about_elements: list[etree._Element]) -> etree._Element | None:
    """The ``originDescription`` of a provenance the source's record carried, if any."""
    for about in about_elements:
        found = about.find(f"{_P}provenance/{_P}originDescription")
        if found is not None:
            return found
    return None


def render_about(origin: Origin, earlier: etree._Element | None = None) -> bytes:
    """``<about><provenance>…</provenance></about>`` as the bytes the protocol serves."""
    about = etree.Element(f"{{{OAI_NS}}}about", nsmap={None: OAI_NS})
    provenance = etree.SubElement(
        about, f"{_P}provenance", nsmap={None: PROVENANCE_NS, "xsi": XSI_NS}
    )
    provenance.set(f"{{{XSI_NS}}}schemaLocation", f"{PROVENANCE_NS} {PROVENANCE_SCHEMA}")
    description = etree.SubElement(
        provenance,
        f"{_P}originDescription",
        {"harvestDate": origin.harvest_date, "altered": "true"},
    )
    for name, text in (
        ("baseURL", origin.base_url),
        ("identifier", origin.identifier),
        ("datestamp", origin.datestamp),
        ("metadataNamespace", origin.metadata_namespace),
    ):
        etree.SubElement(description, f"{_P}{name}").text = text
    if earlier is not None:
        description.append(_copy_origin(earlier))
    return etree.tostring(about, encoding="UTF-8")


def _copy_origin(element: etree._Element) -> etree._Element:
    """A clean copy of an earlier originDescription: its fields and its own chain only."""
    copy = etree.Element(
        f"{_P}originDescription",
        {
            "harvestDate": (element.get("harvestDate") or "").strip(),
            "altered": (element.get("altered") or "true").strip(),
        },
    )
    for name in ("baseURL", "identifier", "datestamp", "metadataNamespace"):
        etree.SubElement(copy, f"{_P}{name}").text = (element.findtext(f"{_P}{name}") or "").strip()
    nested = element.find(f"{_P}originDescription")
    if nested is not None:
        copy.append(_copy_origin(nested))
    return copy
