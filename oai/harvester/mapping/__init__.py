"""Harvested metadata → our record dict (docs/record-format.md), one module per format.

A mapper reads the child of a record's ``<metadata>`` and returns the record's fields
(everything but ``id`` and ``sets``, which the harvest gives it); the result then goes
through ``records.validate.normalize_record`` like any import line. What a format cannot
say is left out, never guessed, with two documented inferences (docs/harvest.md): a
Creative Commons licence (or public-domain mark) with no access term means open access,
and ``--assume-access`` names the access of records that state none.

Formats are chosen by their namespace in ListMetadataFormats, richest first:
JATS, then MARCXML, then ``oai_dc``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

Mapper = Callable[[etree._Element, "Options"], dict[str, Any]]


class MappingError(ValueError):
    """A record that cannot become one of ours; ``field`` names what is missing or wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Options:
    #: access for records that state none (None: such a record is reported, not stored)
    assume_access: str | None = None


@dataclass(frozen=True)
class SourceFormat:
    name: str  #: our name for the mapping (jats, marcxml, oai_dc)
    rank: int  #: lower is richer
    map: Mapper


def format_of(prefix: str, namespace: str) -> SourceFormat | None:
    """Which of our mappings reads the format a source advertises, if any."""
    from oai.harvester.mapping import jats, marcxml, oai_dc

    namespace = namespace.strip()
    if namespace == oai_dc.NAMESPACE:
        return SourceFormat("oai_dc", 3, oai_dc.to_record)
    if namespace.rstrip("/") == marcxml.NAMESPACE:
        return SourceFormat("marcxml", 2, marcxml.to_record)
    host = urlsplit(namespace).hostname or ""
    if host.endswith("nlm.nih.gov") and "jats" in namespace.lower() or prefix.lower() == "jats":
        return SourceFormat("jats", 1, jats.to_record)
    return None


def local_name(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def text_of(element: etree._Element | None) -> str | None:
    """All the text inside ``element``, white space collapsed; None when empty."""
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None
