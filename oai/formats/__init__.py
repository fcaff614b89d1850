"""The registry of metadata formats (§3.4): prefix → namespace, schema and crosswalk.

A format is one module that builds an lxml element from a canonical record (the
interchange form in records.validate) and registers itself here. Adding MARCXML, MODS
or DataCite adds an entry; nothing else changes. ``version`` is part of every stored
rendition, so bumping it marks that format's stored renditions stale for
``oaipress rebuild``.

A format that cannot express a record faithfully (DataCite with neither DOI nor landing
page, say) returns None from ``build``: the record then has no rendition in that format,
so GetRecord answers cannotDisseminateFormat, ListRecords leaves it out, and
ListMetadataFormats for its identifier does not name the format (§4.4). Each format
module says its rule in its docstring.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    namespace: str
    schema: str
    version: str
    build: Callable[[dict[str, Any]], etree._Element | None]

    def render(self, record: dict[str, Any]) -> bytes | None:
        """The metadata element as stored, or None when this format cannot express it."""
        element = self.build(record)
        if element is None:
            return None
        return etree.tostring(element, encoding="UTF-8", xml_declaration=False)


REGISTRY: dict[str, MetadataFormat] = {}


def register(fmt: MetadataFormat) -> MetadataFormat:
    if fmt.prefix in REGISTRY:
        raise ValueError(f"metadata format {fmt.prefix!r} is registered twice")
    REGISTRY[fmt.prefix] = fmt
    return fmt


BUILT_IN = ("oai_dc", "marcxml", "mods", "datacite", "oai_openaire", "jats")


def formats() -> dict[str, MetadataFormat]:
    """All registered formats, importing the built-in ones (each registers itself) first."""
    for name in BUILT_IN:
        importlib.import_module(f"oai.formats.{name}")
    return REGISTRY
