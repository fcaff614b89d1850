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
from collections.abc import Callable, Iterable
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


class Prototypes:
    """Elements with attributes made by copying a prototype, not attribute by attribute.

    Rendering every record in every format is most of an import's work. lxml spends
    about a microsecond on each attribute it sets, and copies a whole element, attributes
    included, in about the time of one: the builders copy prototypes, one per tag and
    attributes, made in the builder's namespace map (when a copy is appended, lxml drops
    its namespace declarations that the new parent already makes, so the bytes are those
    of ``etree.SubElement``). Attribute values can come from records, so at most
    ``limit`` prototypes are kept; past that, elements are built as before.
    """

    def __init__(self, nsmap: dict[str | None, str] | None = None, limit: int = 4096) -> None:
        self.nsmap = nsmap
        self.limit = limit
        self._cache: dict[tuple[str, tuple[tuple[str, str], ...]], etree._Element] = {}

    def sub(
        self,
        parent: etree._Element,
        tag: str,
        attrib: tuple[tuple[str, str], ...],
        text: str | None = None,
    ) -> etree._Element:
        """``etree.SubElement(parent, tag, dict(attrib)).text = text``, in attribute order."""
        proto = self._cache.get((tag, attrib))
        if proto is None:
            if len(self._cache) >= self.limit:
                element = etree.SubElement(parent, tag, dict(attrib))
                element.text = text
                return element
            proto = etree.Element(tag, dict(attrib), nsmap=self.nsmap)
            self._cache[(tag, attrib)] = proto
        element = proto.__copy__()
        if text is not None:
            element.text = text
        parent.append(element)
        return element


REGISTRY: dict[str, MetadataFormat] = {}


def register(fmt: MetadataFormat) -> MetadataFormat:
    if fmt.prefix in REGISTRY:
        raise ValueError(f"metadata format {fmt.prefix!r} is registered twice")
    REGISTRY[fmt.prefix] = fmt
    return fmt


BUILT_IN = ("oai_dc", "marcxml", "mods", "datacite", "oai_openaire", "jats")


def formats(only: Iterable[str] | None = None) -> dict[str, MetadataFormat]:
    """The registered formats, importing the built-in ones (each registers itself) first.

    ``only``: the prefixes a repository renders and offers (``OAIPRESS_FORMATS``, checked
    by oai.config); None for all of them. The order is fixed — the built-in formats in
    ``BUILT_IN`` order, then any other in registration order — whichever module a process
    happened to import first, so ListMetadataFormats reads the same from every worker.
    """
    for name in BUILT_IN:
        importlib.import_module(f"oai.formats.{name}")
    ordered = [*BUILT_IN, *(prefix for prefix in REGISTRY if prefix not in BUILT_IN)]
    chosen = set(ordered if only is None else only)
    return {prefix: REGISTRY[prefix] for prefix in ordered if prefix in chosen}
