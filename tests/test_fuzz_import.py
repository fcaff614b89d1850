"""Property-based fuzzing of import (issue #10): every line ends stored or as a line error.

Generated lines (tests/fuzz_support.py profiles) change any field of the record format
(docs/record-format.md) to a right or wrong type, an empty or oversized value (at and
past each documented limit) or text of any Unicode class — XML-illegal characters, lone
surrogates written as JSON escapes, NUL, bidi controls, combining marks —, or spoil the
line itself (bytes that are not UTF-8, truncated JSON, NaN). For each batch:

* nothing escapes but :class:`ImportRejected` (never a traceback, on either backend);
* a batch with a bad line stores nothing (all-or-nothing mode), and every bad line is
  reported with its own line number and a field;
* a batch whose lines all pass the record checks is stored (a database error there
  would be a limit the checks do not know), each record reads back exactly in its
  canonical form (what export writes), and every format it is served in is schema-valid
  with the title as given;
* with ``skip_invalid``, the good lines are stored and only the bad ones reported.
"""

from __future__ import annotations

import json
import string
from typing import Any

from flask import Flask
from hypothesis import example, given
from hypothesis import strategies as st

from records.ingest import ImportRejected, import_records
from records.lines import ImportSummary, parse_lines, without_duplicate_ids
from records.queries import iter_records, record_to_dict
from records.validate import is_set_definition
from tests.conftest import NS, Clock, OAIClient
from tests.fuzz_support import REPOSITORY, fuzz_settings, long_text, nasty_text

# --- generated values ------------------------------------------------------------------

LOCAL_IDS = ("article/1", "article/2", "a%20b", "x;y=z&w", "(c)!*'~")


def wrong_types() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**30), 10**30),
        st.floats(allow_nan=False, allow_infinity=False),
        st.just([]),
        st.just({}),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )


def texts(limit: int) -> st.SearchStrategy[Any]:
    """Text for a field of at most ``limit`` characters: any class, at and past the limit."""
    return st.one_of(
        st.text(string.ascii_letters + " .,-", min_size=1, max_size=20),
        nasty_text(),
        st.sampled_from(["", "   ", "\t\n", "\u00a0", "\u200b", "a\u0000b", "\ud800", "x\ufffe"]),
        long_text("aé\U0001f600\u0301", (limit - 1, limit, limit + 1)),
        long_text(" a", (limit + 1,)).map(lambda s: f"  {s.strip()[:limit]}  "),
        wrong_types(),
    )


def lists_of(item: st.SearchStrategy[Any], limit: int) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(item, max_size=3),
        st.builds(lambda x, n: [x] * n, item, st.sampled_from([limit, limit + 1])),
        wrong_types(),
    )


ORCIDS = st.sampled_from(
    ["0000-0002-1825-0097", "https://orcid.org/0000-0002-1825-0097", "0000000218250097",
     "0000-0002-1825-0098", "0000-0002-1825", "000X-0002-1825-0097"]
)  # fmt: skip
AUTHORS = st.one_of(
    st.fixed_dictionaries(
        {"family": texts(4000)},
        optional={
            "given": texts(4000),
            "orcid": st.one_of(ORCIDS, texts(40)),
            "affiliation": texts(4000),
            "orcid_id": st.just("x"),
        },
    ),
    wrong_types(),
)
ISSNS = st.sampled_from(["1404-6091", "14046091", "1404-6092", "0378-5955", "0000-000X", "1"])
JOURNALS = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "title": texts(4000),
            "issn": st.one_of(ISSNS, texts(20)),
            "eissn": st.one_of(ISSNS, texts(20)),
            "publisher": texts(4000),
            "tittle": st.just("x"),
        },
    ),
    wrong_types(),
)
URLS = st.one_of(
    st.sampled_from(
        ["https://example.org/a", "http://x", "ftp://example.org/a", "https://", "example.org",
         "https://exa mple.org", "HTTPS://EXAMPLE.ORG/\u00e9", "https://e.org/\ud800"]
    ),
    long_text("a", (3980, 3981, 4100)).map(lambda s: f"https://example.org/{s}"),
    texts(4000),
)  # fmt: skip
FILES = st.one_of(
    st.fixed_dictionaries(
        {"url": URLS},
        optional={
            "mime_type": st.one_of(
                st.sampled_from(["application/pdf", "text/html; charset=utf-8", "pdf", "a/b"]),
                long_text("a", (120, 127, 128)).map(lambda s: f"{s}/{s}"),
                texts(255),
            ),
            "label": texts(4000),
        },
    ),
    wrong_types(),
)
LICENSES = st.sampled_from(
    ["https://creativecommons.org/licenses/by/4.0/", "http://creativecommons.org/licenses/by-nc/3.0/deed.pt_BR",
     "https://creativecommons.org/publicdomain/zero/1.0/legalcode", "urn:x", "not a uri", "cc-by"]
)  # fmt: skip
ACCESS = st.one_of(st.sampled_from(["open", "embargoed", "restricted", "closed"]), texts(10))
YEARS = st.one_of(st.integers(-1, 10001), st.sampled_from(["2004", " 2004", "MMIV"]), wrong_types())
EMBARGOES = st.one_of(st.sampled_from(["2099-01-01", "2004-02-30", "2004"]), texts(12))
RIGHTS = st.one_of(
    st.fixed_dictionaries(
        {"access": ACCESS},
        optional={
            "license": st.one_of(LICENSES, texts(4000)),
            "license_name": texts(4000),
            "statement": texts(4000),
            "holder": texts(4000),
            "year": YEARS,
            "embargo_until": EMBARGOES,
            "licence": st.just("x"),
        },
    ),
    wrong_types(),
)
SET_SPECS = st.one_of(
    st.sampled_from(["cac", "cac:ART", "other", "driver", "openaire:x", "a::b", "a b", ""]),
    long_text("s", (255, 256)),
    texts(10),
)
HTML = st.sampled_from(
    ["<p>One</p><p>Two &amp; three</p>", "T<Tc and T>0", "a<b>c", "<![CDATA[x<y]]>",
     "<math><mi>x</mi><mo>&lt;</mo><mn>1</mn></math>", "&#0;", "&#x1;", "&#xD800;",
     "<script>alert(1)</script>", "<p>\u0000</p>", "&#65535;", "<!-- c -->", "&lt;p&gt;"]
)  # fmt: skip


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


EXTRA = st.one_of(
    st.dictionaries(nasty_text(8), st.one_of(nasty_text(), st.integers(), st.booleans())),
    st.builds(_nested, st.sampled_from([1, 15, 16, 17])),
    wrong_types(),
)

#: every field of the record format, and strategies for right and wrong values of it
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "id": st.one_of(
        st.sampled_from(LOCAL_IDS),
        st.sampled_from(["", "a b", "%zz", "%", "é", "a\u0000", "/", "a#b"]),
        long_text("i", (512, 513)),
        texts(512),
    ),
    "type": st.one_of(st.sampled_from(["research article", "editorial", "Article"]), texts(30)),
    "version": st.one_of(st.sampled_from(["published", "accepted", "draft"]), texts(10)),
    "title": texts(2000),
    "language": st.one_of(
        st.sampled_from(["en", "pt-BR", "zh-Hant-TW", "EN", "e", "english", "x-klingon"]),
        long_text("a", (2, 35, 36)),
        texts(35),
    ),
    "authors": lists_of(AUTHORS, 10_000),
    "abstract": st.one_of(
        HTML, texts(100_000), long_text("<p>x</p>", (12_500, 12_501)), long_text("a", (100_001,))
    ),
    "keywords": lists_of(st.one_of(HTML, texts(4000)), 500),
    "journal": JOURNALS,
    "volume": texts(64),
    "issue": texts(64),
    "pages": texts(64),
    "published": st.one_of(
        st.sampled_from(["2004", "2004-02", "2004-02-29", "2003-02-29", "2004-13", "04", "0000"]),
        st.sampled_from(["2004-01-01T00:00:00Z", "２００４", "٢٠٠٤"]),
        texts(12),
    ),
    "doi": st.one_of(
        st.sampled_from(
            [
                "10.1234/abc",
                "https://doi.org/10.1234/x",
                "doi: 10.1234/y",
                "10.1/x",
                "10.1234/a b",
                "10.1234/\u00e9<>",
            ]
        ),
        long_text("d", (500, 501, 510)).map(lambda s: f"10.1234/{s}"),
        texts(512),
    ),  # fmt: skip
    "url": URLS,
    "files": lists_of(FILES, 100),
    "references": lists_of(st.one_of(texts(10_000), HTML), 5000),
    "rights": RIGHTS,
    "sets": st.one_of(
        st.lists(SET_SPECS, max_size=4),
        st.builds(lambda n: [f"s{i:03d}" for i in range(n)], st.sampled_from([70, 75, 100])),
        wrong_types(),
    ),
    "deleted": st.one_of(st.booleans(), wrong_types()),
    "datestamp": st.one_of(
        st.sampled_from(["2004-01-01T00:00:00Z", "2004-02-30T00:00:00Z", "2004-01-01"]),
        texts(20),
    ),
    "extra": EXTRA,
}
UNKNOWN_FIELDS = st.sampled_from(["abstarct", "licence", "", "Title", "\u0000", "x" * 100])


def base_record(local_id: str) -> dict[str, Any]:
    return {
        "id": local_id,
        "title": "A title",
        "language": "en",
        "authors": [{"family": "Author", "given": "A."}],
        "published": "2004",
        "url": "https://journal.example.org/article/view/1",
        "rights": {"access": "open", "license": "https://creativecommons.org/licenses/by/4.0/"},
    }


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    """A valid record with up to three fields changed, removed or added."""
    record = base_record(draw(st.sampled_from(LOCAL_IDS)))
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["set", "set", "set", "set", "drop", "unknown"]))
        if action == "unknown":
            record[draw(UNKNOWN_FIELDS)] = draw(st.one_of(nasty_text(), wrong_types()))
            continue
        name = draw(st.sampled_from(sorted(FIELDS)))
        if action == "drop":
            record.pop(name, None)
        else:
            record[name] = draw(FIELDS[name])
    return record


SET_LINES = st.fixed_dictionaries(
    {"set": SET_SPECS}, optional={"name": texts(4000), "description": texts(100_000)}
)


def _json(value: Any, ascii_only: bool) -> bytes:
    """JSON as a producer writes it: lone surrogates can only travel as \\u escapes."""
    text = json.dumps(value, ensure_ascii=ascii_only or _has_surrogate(value))
    return text.encode("utf-8")


def _has_surrogate(value: Any) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in json.dumps(value, ensure_ascii=False))


@st.composite
def lines(draw: st.DrawFn) -> bytes:
    """One line of an import file: mostly a record, sometimes a set line or broken bytes."""
    kind = draw(st.sampled_from(["record"] * 8 + ["set", "broken", "blank"]))
    if kind == "blank":
        return draw(st.sampled_from([b"", b"   ", b"\t"]))
    value = draw(SET_LINES) if kind == "set" else draw(records())
    data = _json(value, draw(st.booleans()))
    if kind == "broken":
        how = draw(st.sampled_from(["truncate", "bytes", "nan", "array", "bom", "deep"]))
        if how == "truncate":
            data = data[: draw(st.integers(0, max(0, len(data) - 1)))]
        elif how == "bytes":
            at = draw(st.integers(0, len(data)))
            data = (
                data[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"])) + data[at:]
            )
        elif how == "nan":
            data = data[:-1] + b', "volume": NaN}'
        elif how == "array":
            data = b"[" + data + b"]"
        elif how == "bom":
            data = b"\xef\xbb\xbf" + data
        else:
            data = b"[" * 5000 + b"]" * 5000
    return data


# --- the properties --------------------------------------------------------------------


def snapshot(app: Flask) -> dict[str, Any]:
    """Every record (as export sees it, with its datestamp) and every set."""
    from sqlalchemy import select

    from records.models import OAISet

    store = app.extensions["oaipress.store"]
    with store.session() as session:
        stored = {r.local_id: (r.datestamp, record_to_dict(r)) for r in iter_records(session)}
        sets = session.execute(select(OAISet.spec, OAISet.name, OAISet.description)).all()
    return {"records": stored, "sets": sorted(map(tuple, sets))}


def expected_outcome(raw_lines: list[bytes]) -> tuple[dict[int, Any], set[int]]:
    """What the record checks say of each line: {line: canonical record}, and bad lines."""
    summary = ImportSummary()
    items = without_duplicate_ids(parse_lines(raw_lines, summary), summary)
    good = {item.line: item.record for item in items}
    return good, {error.line for error in summary.errors}


def run_import(app: Flask, raw_lines: list[bytes], skip_invalid: bool) -> ImportSummary:
    store = app.extensions["oaipress.store"]
    renderer = app.extensions["oaipress.renderer"]
    with store.transaction() as session:
        return import_records(session, raw_lines, renderer, skip_invalid=skip_invalid, now=Clock())


def check_served(oai: OAIClient, record: dict[str, Any]) -> None:
    """Every format the record is offered in is schema-valid (OAIClient validates) and
    ``oai_dc`` carries the title as given (XML round trip of any character)."""
    identifier = f"oai:{REPOSITORY}:{record['id']}"
    formats = oai(verb="ListMetadataFormats", identifier=identifier)
    prefixes = [el.text for el in formats.iterfind(".//oai:metadataPrefix", NS)]
    assert "oai_dc" in prefixes
    for prefix in prefixes:
        root = oai(verb="GetRecord", metadataPrefix=prefix, identifier=identifier)
        assert root.find("oai:error", NS) is None, (prefix, record["id"])
        if prefix == "oai_dc" and not record.get("deleted"):
            titles = [el.text for el in root.iterfind(".//dc:title", NS)]
            assert titles == [record["title"]]


def _same_as_stored(canonical: dict[str, Any], stored: dict[str, Any]) -> None:
    if canonical.get("deleted"):
        assert stored["deleted"] is True
        if canonical["sets"] is not None:
            assert stored["sets"] == canonical["sets"]
        return
    assert stored == canonical


@fuzz_settings()
@given(raw_lines=st.lists(lines(), min_size=1, max_size=3), skip_invalid=st.booleans())
@example(raw_lines=[_json(base_record("article/1"), False)], skip_invalid=False)
def test_every_line_is_stored_or_reported_and_nothing_is_half_written(
    app, oai, raw_lines, skip_invalid
) -> None:
    """docs/record-format.md: a line ends stored or as a line error naming it; a file with
    a bad line stores nothing unless bad lines are skipped; no exception escapes."""
    good, bad = expected_outcome(raw_lines)
    before = snapshot(app)
    try:
        summary = run_import(app, raw_lines, skip_invalid)
    except ImportRejected as rejected:
        assert not skip_invalid
        summary = rejected.summary
        assert snapshot(app) == before, "a rejected file must store nothing"
    reported = {error.line for error in summary.errors}
    assert all(error.field and error.message for error in summary.errors)
    assert reported == bad, "each bad line, and only those, reported by its number"
    assert summary.rejected == len(reported), "one error per bad line"
    if reported and not skip_invalid:
        return
    # Stored: the lines that passed (the first of a repeated id), in their canonical form.
    after = snapshot(app)
    stored = after["records"]
    for canonical in good.values():
        if is_set_definition(canonical):
            named = (canonical["set"], canonical["name"], canonical["description"])
            assert named in after["sets"]
            continue
        _same_as_stored(canonical, stored[canonical["id"]][1])
        check_served(oai, canonical)


def test_fixed_hostile_lines_are_line_errors(app) -> None:
    """Regression lines for the fuzzer's findings (docs/fuzzing.md): each is a line error."""
    hostile = [
        b'{"id": "article/1", "title": "\\ud800"}',
        b"[" * 100_000,
        b'{"id": 5}',
        b'{"set": "cac", "name": "\\u0000"}',
        b'{"id": "article/1", "": 1}',  # an empty field name: the error names it as ''
    ]
    before = snapshot(app)
    try:
        run_import(app, hostile, skip_invalid=False)
    except ImportRejected as rejected:
        errors = rejected.summary.errors
        assert sorted(e.line for e in errors) == [1, 2, 3, 4, 5]
        assert all(e.field for e in errors), errors
    else:
        raise AssertionError("hostile lines were accepted")
    assert snapshot(app) == before
