"""The response envelope (§3.2) and its streaming.

Small responses are built as one tree. List responses are written as: the envelope
up to the verb element, then the stored record bytes one after another, then the
resumptionToken and the closing tags, in chunks, so memory holds one page at most.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from lxml import etree

from oai.formats import XSI_NS
from oai.protocol.rendering import OAI_NS
from records.validate import format_datestamp

OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
# About 64 kB of stored records (a piece is a few hundred bytes to a few kB).
PIECES_PER_CHUNK = 96
# Fixed text that marks where streamed content goes; it never comes from a request.
_SPLIT = "\u2063oaipress-stream\u2063"


def oai(name: str) -> str:
    return f"{{{OAI_NS}}}{name}"


def envelope(
    response_date: datetime,
    base_url: str,
    request_attributes: dict[str, str] | None,
    stylesheet: str | None = None,
) -> etree._Element:
    """The ``OAI-PMH`` root with responseDate and request (§3.2).

    ``stylesheet`` (a URL) adds an ``xml-stylesheet`` processing instruction before the
    root, so a browser that still applies XSLT shows the response readably; harvesters
    ignore processing instructions (XML 1.0 §2.6) and the schema does not see them.
    """
    root = etree.Element(oai("OAI-PMH"), nsmap={None: OAI_NS, "xsi": XSI_NS})
    if stylesheet is not None:
        root.addprevious(stylesheet_instruction(stylesheet))
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_NS} {OAI_SCHEMA}")
    etree.SubElement(root, oai("responseDate")).text = format_datestamp(response_date)
    request = etree.SubElement(root, oai("request"))
    request.text = base_url
    for name, value in (request_attributes or {}).items():
        request.set(name, value)
    return root


def stylesheet_instruction(href: str) -> etree._Element:
    """``<?xml-stylesheet type="text/xsl" href="…"?>`` (W3C "Associating Style Sheets")."""
    if '"' in href or "?>" in href:
        raise ValueError(f"not a stylesheet URL: {href!r}")
    return etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{href}"')


def serialize(root: etree._Element) -> bytes:
    """The document of ``root``: its processing instructions before it are written too."""
    return etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=True)


class Streamed:
    """``root`` serialised with ``pieces`` as the first content of ``holder``, in chunks.

    Its length is known before the first byte goes out (the page is in memory), so the
    response carries a Content-Length and needs no chunked framing.
    """

    def __init__(self, root: etree._Element, holder: etree._Element, pieces: list[bytes]) -> None:
        holder.text = _SPLIT
        self.head, self.tail = serialize(root).split(_SPLIT.encode("utf-8"))
        self.pieces = pieces

    def __len__(self) -> int:
        return len(self.head) + sum(map(len, self.pieces)) + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        # Slices are joined by bytes.join (C), not piece by piece in Python: a page is
        # hundreds of pieces and this is the hot path of every List response. The head
        # and tail ride with the first and last slices: no tiny writes to the socket.
        step = PIECES_PER_CHUNK
        last = max(len(self.pieces) - 1, 0) // step * step
        for start in range(0, last + 1, step):
            chunk = self.pieces[start : start + step]
            if start == 0:
                chunk.insert(0, self.head)
            if start == last:
                chunk.append(self.tail)
            yield b"".join(chunk)


def resumption_token(
    token: str, cursor: int, total: int, expiration: datetime | None
) -> etree._Element:
    """The resumptionToken element (§3.5); an empty token marks the last page."""
    element = etree.Element(oai("resumptionToken"))
    element.text = token or None
    element.set("completeListSize", str(total))
    element.set("cursor", str(cursor))
    if token and expiration is not None:
        element.set("expirationDate", format_datestamp(expiration))
    return element
