"""Renders what is stored pre-serialised: record headers and per-format metadata.

Records are rendered when they are written, so serving a List response is a keyset
scan plus concatenation. Headers embed the OAI identifier, which depends on the
repository identifier: :func:`render_signature` names what the stored bytes were made
for, and a store whose signature differs must be rebuilt before it is served.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lxml import etree

from oai.formats import XSI_NS, MetadataFormat, formats
from records.validate import format_datestamp

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
RIGHTS_NS = "http://www.openarchives.org/OAI/2.0/rights/"
RIGHTS_SCHEMA = "http://www.openarchives.org/OAI/2.0/rights.xsd"


def oai_identifier(repository_identifier: str, local_id: str) -> str:
    return f"oai:{repository_identifier}:{local_id}"


def local_id_of(repository_identifier: str, identifier: str) -> str | None:
    prefix = f"oai:{repository_identifier}:"
    return identifier[len(prefix) :] if identifier.startswith(prefix) else None


class ProtocolRenderer:
    """The :class:`records.ingest.Renderer` the store is written with."""

    def __init__(
        self, repository_identifier: str, registry: dict[str, MetadataFormat] | None = None
    ) -> None:
        self.repository_identifier = repository_identifier
        self.formats = registry if registry is not None else formats()

    def header(self, local_id: str, datestamp: datetime, sets: list[str], deleted: bool) -> bytes:
        header = etree.Element(f"{{{OAI_NS}}}header", nsmap={None: OAI_NS})
        if deleted:
            header.set("status", "deleted")
        etree.SubElement(header, f"{{{OAI_NS}}}identifier").text = oai_identifier(
            self.repository_identifier, local_id
        )
        etree.SubElement(header, f"{{{OAI_NS}}}datestamp").text = format_datestamp(datestamp)
        for spec in sets:
            etree.SubElement(header, f"{{{OAI_NS}}}setSpec").text = spec
        return etree.tostring(header, encoding="UTF-8")

    def metadata(self, record: dict[str, Any]) -> list[tuple[str, str, bytes]]:
        """Every format that can express ``record`` (oai.formats: build may decline)."""
        renditions = []
        for fmt in self.formats.values():
            xml = fmt.render(record)
            if xml is not None:
                renditions.append((fmt.prefix, fmt.version, xml))
        return renditions

    def signature(self) -> str:
        return f"oai:{self.repository_identifier}"


def about_rights(metadata_license: str) -> bytes:
    """The ``<about>`` container stating the licence of the metadata (rights guidelines §3)."""
    about = etree.Element(f"{{{OAI_NS}}}about", nsmap={None: OAI_NS})
    rights = etree.SubElement(
        about, f"{{{RIGHTS_NS}}}rights", nsmap={None: RIGHTS_NS, "xsi": XSI_NS}
    )
    rights.set(f"{{{XSI_NS}}}schemaLocation", f"{RIGHTS_NS} {RIGHTS_SCHEMA}")
    etree.SubElement(rights, f"{{{RIGHTS_NS}}}rightsReference").set("ref", metadata_license)
    return etree.tostring(about, encoding="UTF-8")
