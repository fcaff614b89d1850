"""Property-based fuzzing of /oai (issue #10): whatever arrives, a valid OAI-PMH answer.

Generated GET query strings (raw bytes: invalid UTF-8, NUL, surrogates, odd escapes and
separators), POST bodies of every content type, repeated and unknown arguments, and
resumption tokens spoilt every way (tests/fuzz_support.py) must each get HTTP 200 and a
response valid against OAI-PMH.xsd (§3.1.2.1, §3.6 "errors are conveyed by the OAI
protocol, not HTTP"), whose error codes are those of §3.6 and those §4 lists for the
verb, with no arguments echoed for badVerb and badArgument (§3.2). A list followed
through its resumption tokens at any page size gives every matching item exactly once
(§3.5). Profiles and how to run the long one: docs/fuzzing.md.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from oai.protocol.errors import OAIError
from oai.protocol.tokens import TokenCodec
from tests.conftest import NS, OAIClient, decode_body, harvest, identifiers, make_record
from tests.fuzz_support import (
    ACCEPT_ENCODINGS,
    CONTENT_TYPES,
    ERROR_CODES,
    PREFIXES,
    REPOSITORY,
    SECRET,
    VERB_ERRORS,
    VERBS,
    encoded,
    fuzz_settings,
    pairs,
    query_bytes,
    signed,
    tokens,
    valid_pairs,
)
from tests.xmlvalidate import validate_oai_response

JOURNAL = {"title": "Central Asia and the Caucasus", "issn": "1404-6091"}
#: local ids with every character class an OAI identifier's local part allows
ODD_IDS = ("a%20b", "x;y=z&w", "(c)!*'~", "q?r=s:t@u$v,w+", "Z")
SETS = ("cac", "cac:ART", "other")


def _records() -> list[dict[str, Any]]:
    records = [
        make_record(1, sets=["cac:ART"], journal=JOURNAL, doi="10.1234/one"),
        make_record(2, sets=["cac"]),
        make_record(3, sets=["other"], abstract="a<b & T>0 \u202eright-to-left\u202c"),
        make_record(4, rights={"access": "embargoed", "embargo_until": "2099-01-01"}),
        make_record(5, title="Ti\u0301tle with \U0001f600 and \ufeff"),
        make_record(6, sets=["cac", "other"], deleted=True),
    ]
    records += [make_record(100 + i, id=local_id) for i, local_id in enumerate(ODD_IDS)]
    return records


LOCAL_IDS = tuple(r["id"] for r in _records())


@pytest.fixture
def stored(app: Flask, load: Any) -> Flask:
    load(_records())
    return app


def _token_texts(oai: OAIClient, verb: str, **params: str) -> list[str]:
    _, elements = harvest(oai, verb, **params)
    return [el.text for el in elements if el.text]


@pytest.fixture
def real_tokens(stored: Flask, oai: OAIClient) -> tuple[str, ...]:
    """Tokens the app issued, for lists of each verb, of several prefixes and a set."""
    found = (
        _token_texts(oai, "ListRecords", metadataPrefix="oai_dc")
        + _token_texts(oai, "ListRecords", metadataPrefix="mods", set="cac")
        + _token_texts(oai, "ListIdentifiers", metadataPrefix="marcxml")
        + _token_texts(oai, "ListIdentifiers", metadataPrefix="oai_dc", **{"from": "2000-01-01"})
        + _token_texts(oai, "ListSets")
    )
    assert len({t.split(".")[0] for t in found}) >= 5
    return tuple(found)


def check_answer(response: Any) -> etree._Element:
    """HTTP 200, text/xml, schema-valid; errors from §3.6, allowed for the verb (§4)."""
    assert response.status_code == 200, response.get_data()[:300]
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    root = validate_oai_response(decode_body(response)).getroot()
    request = root.find("oai:request", NS)
    codes = [error.get("code") for error in root.findall("oai:error", NS)]
    assert set(codes) <= ERROR_CODES, codes
    verb = request.get("verb")
    if codes and set(codes) & {"badVerb", "badArgument"}:
        assert dict(request.attrib) == {}, "§3.2: badVerb/badArgument echo no arguments"
    elif codes:
        assert verb in VERBS, dict(request.attrib)
        assert set(codes) <= VERB_ERRORS[verb], (verb, codes)
    else:
        assert verb in VERBS, dict(request.attrib)
        assert root.find(f"oai:{verb}", NS) is not None, f"no <{verb}> in the answer"
    return root


def get_raw(client: FlaskClient, query: bytes, accept: str | None = None) -> Any:
    """A GET whose query string is exactly these bytes, as a WSGI server hands it over."""
    headers = {"Accept-Encoding": accept} if accept else {}
    return client.get(
        "/oai", headers=headers, environ_overrides={"QUERY_STRING": query.decode("latin-1")}
    )


@fuzz_settings()
@given(data=st.data())
def test_any_get_request_gets_a_valid_answer(stored, real_tokens, client, data) -> None:
    """§3.1.1.1, §3.6: any GET gets 200 and a schema-valid answer, errors as §4 allows."""
    arguments = data.draw(pairs(LOCAL_IDS, SETS, real_tokens), label="arguments")
    query = data.draw(query_bytes(arguments), label="query")
    check_answer(get_raw(client, query, data.draw(ACCEPT_ENCODINGS, label="accept")))


#: byte strings the generators reach only rarely, checked on every run
REGRESSION_QUERIES = [
    b"\xffverb=Identify&verb=Identify",  # finding 1: an unescaped byte that is not UTF-8
    b"verb=Identify&\xff=1",
    b"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:repo.example.org:%ED%A0%80",
    b"verb=ListRecords&resumptionToken=%00",
    b"verb=ListSets&resumptionToken=..",
    b"verb=ListIdentifiers&metadataPrefix=oai_dc&from=0000-01-01",
    b"verb=ListIdentifiers&metadataPrefix=oai_dc&until=9999-12-31T23:59:59Z",
    b"verb=ListRecords&metadataPrefix=oai_dc;set=cac",
    b"verb=ListRecords+&metadataPrefix=oai_dc",
]


def test_fixed_hostile_queries_get_valid_answers(stored, client) -> None:
    """§3.1.1.1, §3.6: the regression queries, each answered with a valid response."""
    for query in REGRESSION_QUERIES:
        check_answer(get_raw(client, query))


@fuzz_settings()
@given(data=st.data())
def test_any_post_request_gets_a_valid_answer(stored, real_tokens, client, data) -> None:
    """§3.1.1.2: a POST body of any bytes and content type gets 200 and a valid answer."""
    arguments = data.draw(pairs(LOCAL_IDS, SETS, real_tokens), label="arguments")
    body = data.draw(st.one_of(query_bytes(arguments), st.binary(max_size=200)), label="body")
    content_type = data.draw(CONTENT_TYPES, label="content type")
    headers = {"Content-Type": content_type} if content_type is not None else {}
    accept = data.draw(ACCEPT_ENCODINGS, label="accept")
    if accept:
        headers["Accept-Encoding"] = accept
    check_answer(client.open("/oai", method="POST", data=body, headers=headers))


@fuzz_settings()
@given(data=st.data())
def test_any_resumption_token_gets_a_valid_answer(stored, real_tokens, client, data) -> None:
    """§3.5, §3.6 badResumptionToken: spoilt, forged, expired or foreign tokens are refused
    with badResumptionToken (or badArgument when the value is not text), never a 500."""
    verb = data.draw(st.sampled_from(["ListRecords", "ListIdentifiers", "ListSets"]))
    token = data.draw(tokens(real_tokens), label="token")
    query = f"verb={verb}&resumptionToken=".encode() + encoded(token, "quote")
    root = check_answer(get_raw(client, query))
    codes = {error.get("code") for error in root.findall("oai:error", NS)}
    if not _signed_by_us(token):
        assert codes, "a token not signed with our key, or expired, must not be accepted"
        assert codes <= {"badResumptionToken", "badArgument"}, codes


def _signed_by_us(token: str) -> bool:
    """Whether ``token`` carries a valid, unexpired signature of this app's secret (edited
    payloads re-signed with it are tokens the app might have issued: they may be accepted)."""
    codec = TokenCodec(SECRET, 604_800)
    try:
        codec._payload(token)
    except (ValueError, OAIError):
        return False
    return True


def test_tokens_signed_with_our_key_but_malformed_are_refused(stored, client) -> None:
    """§3.6 badResumptionToken: a payload of the wrong shape is refused even when signed
    (found with the token strategies; see docs/fuzzing.md, finding 3)."""
    first = ["ListRecords", "oai_dc", None, None, 4102444800, None, 0, 11]
    for payload in (
        [*first[:5], [0, 5], 3, 11],  # after: id not a string
        [*first[:6], -1, 11],  # a negative cursor
        [*first[:7], 0],  # completeListSize 0
        [*first[:1], 5, *first[2:]],  # prefix not a string
        [*first[:2], ["x"], *first[3:]],  # set not a string
    ):
        response = client.get(
            "/oai", query_string={"verb": "ListRecords", "resumptionToken": signed(payload)}
        )
        root = check_answer(response)
        assert [e.get("code") for e in root.findall("oai:error", NS)] == ["badResumptionToken"]


@fuzz_settings()
@given(data=st.data())
def test_legal_arguments_are_never_bad_arguments(stored, client, data) -> None:
    """§3.6: a request whose arguments are legal for its verb (§4) is answered, or gets an
    error about the repository's content, never badVerb or badArgument."""
    arguments = data.draw(valid_pairs(LOCAL_IDS, SETS), label="arguments")
    root = check_answer(client.get("/oai", query_string=arguments))
    codes = {error.get("code") for error in root.findall("oai:error", NS)}
    assert not codes & {"badVerb", "badArgument"}, (arguments, codes)


@fuzz_settings(scale=0.6)
@given(
    verb=st.sampled_from(["ListRecords", "ListIdentifiers"]),
    prefix=st.sampled_from(PREFIXES),
    set_spec=st.sampled_from((None, *SETS)),
    page_size=st.integers(1, 12),
    from_=st.sampled_from([None, "2019-12-31", "2020-01-01T00:00:03Z"]),
    until=st.sampled_from([None, "2020-01-01T00:00:07Z", "2030-01-01T00:00:00Z"]),
)
def test_a_list_followed_through_its_tokens_returns_each_item_once(
    stored, oai, verb, prefix, set_spec, page_size, from_, until
) -> None:
    """§3.5: whatever the page size, following the tokens returns every item of the list
    once, cursors count what came before, and completeListSize is the list's size."""
    granularities = {len(v) for v in (from_, until) if v}
    if len(granularities) > 1:
        until = None  # §3.3.1: from and until of different granularity are a badArgument
    params = {"metadataPrefix": prefix}
    params.update({k: v for k, v in (("set", set_spec), ("from_", from_), ("until", until)) if v})
    app = stored
    repository = app.extensions["oaipress.repository"]
    whole = dataclasses.replace(repository, records_page_size=1000, identifiers_page_size=1000)
    app.extensions["oaipress.repository"] = whole
    try:
        expected = _list_identifiers(oai, verb, params)
        app.extensions["oaipress.repository"] = dataclasses.replace(
            repository, records_page_size=page_size, identifiers_page_size=page_size
        )
        items, token_elements = harvest(oai, verb, **params) if expected else ([], [])
    finally:
        app.extensions["oaipress.repository"] = repository
    got = identifiers(items)
    assert len(got) == len(set(got)), "an item came twice"
    assert sorted(got) == sorted(expected)
    for page, token in enumerate(token_elements):
        assert int(token.get("cursor")) == page * page_size
        assert int(token.get("completeListSize")) == len(expected)


def _list_identifiers(oai: OAIClient, verb: str, params: dict[str, str]) -> list[str]:
    root = oai(verb=verb, **params)
    error = root.find("oai:error", NS)
    if error is not None:
        assert error.get("code") == "noRecordsMatch", error.get("code")
        return []
    return identifiers(root.find(f"oai:{verb}", NS).findall("oai:header", NS)) or identifiers(
        root.find(f"oai:{verb}", NS).findall("oai:record", NS)
    )


def test_every_stored_identifier_is_served(stored, oai) -> None:
    """The odd local ids of this store are all reachable by GetRecord (§4.1)."""
    for local_id in LOCAL_IDS:
        root = oai(
            verb="GetRecord", metadataPrefix="oai_dc", identifier=f"oai:{REPOSITORY}:{local_id}"
        )
        assert root.find("oai:error", NS) is None, local_id


def test_a_connection_idle_in_the_pool_still_answers(app, load, oai, monkeypatch) -> None:
    """Found by the long fuzz run on PostgreSQL (docs/fuzzing.md, finding 2): the check of a
    connection that sat idle in the pool left it inside a transaction, and the read that
    then set autocommit on it failed with a 500. Every checkout is "idle" here."""
    load(_records()[:2])
    monkeypatch.setattr("records.db.IDLE_PING_SECONDS", 0.0)
    for _ in range(3):
        root = oai(verb="ListIdentifiers", metadataPrefix="oai_dc")
        assert root.find("oai:error", NS) is None
