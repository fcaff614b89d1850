"""The streamed List envelope (oai/protocol/writer.py): chunked output equals the whole document."""

from __future__ import annotations

from datetime import datetime

import pytest
from lxml import etree

from oai.protocol.writer import PIECES_PER_CHUNK, Streamed, envelope, oai
from tests.xmlvalidate import validate_oai_response


def _streamed(pieces: list[bytes]) -> tuple[Streamed, etree._Element]:
    root = envelope(datetime(2020, 1, 1), "http://example.org/oai", {"verb": "ListIdentifiers"})
    holder = etree.SubElement(root, oai("ListIdentifiers"))
    return Streamed(root, holder, pieces), root


@pytest.mark.parametrize(
    "count", [0, 1, PIECES_PER_CHUNK - 1, PIECES_PER_CHUNK, PIECES_PER_CHUNK + 1, 1000]
)
def test_chunks_join_to_the_document_with_the_pieces_in_order(count):
    """Every piece is written once, in order, between the verb element's tags, and the
    announced length (the Content-Length) is the length of what is written."""
    pieces = [
        f"<header><identifier>oai:x:{i}</identifier>"
        f"<datestamp>2020-01-01T00:00:00Z</datestamp></header>".encode()
        for i in range(count)
    ]
    streamed, _ = _streamed(pieces)
    chunks = list(streamed)
    body = b"".join(chunks)
    assert len(body) == len(streamed)
    assert len(chunks) == max(1, -(-count // PIECES_PER_CHUNK))
    parsed = validate_oai_response(body).getroot() if count else etree.fromstring(body)
    found = parsed.findall(f"{oai('ListIdentifiers')}/{oai('header')}/{oai('identifier')}")
    assert [e.text for e in found] == [f"oai:x:{i}" for i in range(count)]


def test_no_chunk_is_only_the_envelope_head_or_tail():
    """The head and the tail travel with the first and last records (no tiny socket writes)."""
    streamed, _ = _streamed([b"<a/>"] * (3 * PIECES_PER_CHUNK))
    chunks = list(streamed)
    assert chunks[0].startswith(b"<?xml") and chunks[0].endswith(b"<a/>")
    assert chunks[-1].startswith(b"<a/>") and chunks[-1].endswith(b"</OAI-PMH>")
