"""The HTTP embedding (§3.1): GET and POST, content type, compression, the response
envelope (§3.2), and hostile input that must still get a valid OAI-PMH answer."""

from __future__ import annotations

import gzip
import re
import zlib
from datetime import datetime

import pytest
from lxml import etree

from tests.conftest import (
    NS,
    OAIClient,
    example_record,
    harvest,
    load_records,
    make_record,
    set_repository_clock,
)

IDENTIFIER = "oai:repo.example.org:article/587"
FORM = "application/x-www-form-urlencoded"
EVERY_VERB = [
    {"verb": "Identify"},
    {"verb": "ListMetadataFormats"},
    {"verb": "ListMetadataFormats", "identifier": IDENTIFIER},
    {"verb": "ListSets"},
    {"verb": "GetRecord", "identifier": IDENTIFIER, "metadataPrefix": "oai_dc"},
    {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "cac"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2000-01-01"},
]


@pytest.fixture
def stored(app, load):
    """The example article (set `cac`) and one record in `cac:ART`: one page of each list."""
    load([example_record(), make_record(1, sets=["cac:ART"])])


def code_of(root: etree._Element) -> str | None:
    error = root.find("oai:error", NS)
    return None if error is None else error.get("code")


def verb_element(root: etree._Element, verb: str) -> bytes:
    element = root.find(f"oai:{verb}", NS)
    assert element is not None, etree.tostring(root)[:500]
    return etree.tostring(element, method="c14n")


# --------------------------------------------------------------------------- GET and POST


def test_every_verb_answers_the_same_over_get_and_post(stored, oai):
    """§3.1.1: repositories must support GET and POST (application/x-www-form-urlencoded),
    for every verb."""
    for params in EVERY_VERB:
        get_response = oai.client.get("/oai", query_string=params)
        post_response = oai.client.post("/oai", data=params, content_type=FORM)
        get, post = oai.check(get_response), oai.check(post_response)
        assert code_of(get) is None and code_of(post) is None, params
        assert verb_element(post, params["verb"]) == verb_element(get, params["verb"])
        assert dict(post.find("oai:request", NS).attrib) == params


def test_post_with_a_charset_parameter_is_accepted(stored, oai):
    """§3.1.1.2: the media type is application/x-www-form-urlencoded; parameters such as
    charset=utf-8 do not change it."""
    response = oai.client.post("/oai", data="verb=Identify", content_type=f"{FORM}; charset=utf-8")
    assert code_of(oai.check(response)) is None


def test_post_with_reserved_characters_percent_encoded(stored, oai):
    """§3.1.1.3: reserved characters in values arrive percent-encoded (here ':' and '/')."""
    body = "verb=GetRecord&identifier=oai%3Arepo.example.org%3Aarticle%2F587&metadataPrefix=oai_dc"
    root = oai.check(oai.client.post("/oai", data=body, content_type=FORM))
    assert root.find("oai:request", NS).get("identifier") == IDENTIFIER
    assert root.find("oai:GetRecord/oai:record", NS) is not None


def test_post_with_another_content_type_is_bad_argument(stored, oai):
    """§3.1.1.2: "The Content-Type of the request must be application/x-www-form-urlencoded";
    anything else (or none) is answered badArgument (§3.6), without attributes (§3.2)."""
    for content_type in (
        "text/plain",
        "application/json",
        "multipart/form-data; boundary=x",
        "text/xml",
        None,
    ):
        headers = {} if content_type is None else {"Content-Type": content_type}
        root = oai.check(oai.client.post("/oai", data=b"verb=Identify", headers=headers))
        assert code_of(root) == "badArgument", content_type
        assert dict(root.find("oai:request", NS).attrib) == {}


def test_post_body_that_is_not_utf8_is_bad_argument(stored, oai):
    """§3.1.1.3 (arguments are UTF-8) and §3.6 badArgument: raw non-UTF-8 bytes in a form
    body are refused as such, not read as a request without a verb."""
    body = b"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:repo.example.org:\xff\xfe"
    root = oai.check(oai.client.post("/oai", data=body, content_type=FORM))
    assert code_of(root) == "badArgument"
    assert dict(root.find("oai:request", NS).attrib) == {}


# --------------------------------------------------------------------------- response format


def test_content_type_is_text_xml_utf8_for_answers_and_errors(stored, oai):
    """§3.1.2.1 (Content-Type text/xml) and §3.2 (UTF-8): also for error answers."""
    for params in (
        {"verb": "Identify"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc"},
        {"verb": "Nope"},
    ):
        response = oai.client.get("/oai", query_string=params)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
        assert response.get_data().startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
        oai.check(response)


def test_envelope_has_namespace_schema_location_and_children_in_order(stored, oai):
    """§3.2: root OAI-PMH in the OAI namespace with xsi:schemaLocation; responseDate, request,
    then the verb element or error."""
    for params in ({"verb": "Identify"}, {"verb": "Nope"}):
        root = oai(**params)
        assert root.tag == "{http://www.openarchives.org/OAI/2.0/}OAI-PMH"
        location = root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation")
        assert location.split() == [
            "http://www.openarchives.org/OAI/2.0/",
            "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd",
        ]
        names = [etree.QName(child).localname for child in root]
        assert names[:2] == ["responseDate", "request"]
        assert names[2] in ("Identify", "error")


def test_response_date_is_utc_with_z_from_the_repository_clock(app, oai):
    """§3.2 responseDate and §3.3.2: UTC at second granularity with the Z designator, for
    answers and errors alike."""
    set_repository_clock(app, lambda: datetime(2024, 2, 29, 23, 59, 58))
    for params in ({"verb": "Identify"}, {"verb": "Nope"}, {"verb": "ListSets"}):
        assert oai(**params).findtext("oai:responseDate", namespaces=NS) == "2024-02-29T23:59:58Z"


def test_response_date_of_the_real_clock_is_utc_with_z(app, oai):
    """§3.3.2: with the default clock, responseDate is YYYY-MM-DDThh:mm:ssZ."""
    stamp = oai(verb="Identify").findtext("oai:responseDate", namespaces=NS)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", stamp)


# --------------------------------------------------------------------------- compression


ACCEPT_ENCODINGS = [
    (None, None),
    ("identity", None),
    ("gzip", "gzip"),
    ("deflate", "deflate"),
    ("gzip, deflate", "gzip"),
    ("deflate;q=1.0, gzip;q=0.5", "deflate"),
    ("gzip;q=0", None),
    ("gzip;q=0, deflate", "deflate"),
    ("gzip;q=0, deflate;q=0, identity", None),
    ("br", None),
    ("*", "gzip"),
]


def test_compression_follows_accept_encoding(stored, oai):
    """§3.1.3: gzip or deflate when the client asks (q=0 means "not this one"), identity
    otherwise (no header, identity, an unsupported coding); Vary: Accept-Encoding always."""
    for accept, encoding in ACCEPT_ENCODINGS:
        headers = {} if accept is None else {"Accept-Encoding": accept}
        response = oai.client.get("/oai", query_string={"verb": "Identify"}, headers=headers)
        assert response.headers.get("Content-Encoding") == encoding, accept
        assert "Accept-Encoding" in response.headers.get("Vary", "")
        body = response.get_data()
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        assert body.startswith(b"<?xml"), accept
        assert code_of(oai.check(response)) is None


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_streamed_list_response_compresses_whole(make_app, encoding):
    """§3.1.3 with a streamed ListRecords of several 64 kB chunks: the compressed body
    decodes to one valid response holding every record."""
    app = make_app(OAIPRESS_LIST_RECORDS_PAGE_SIZE=100)
    load_records(app, [{**example_record(), "id": f"article/{i}"} for i in range(40)])
    oai = OAIClient(app.test_client())
    response = oai.client.get(
        "/oai",
        query_string={"verb": "ListRecords", "metadataPrefix": "oai_dc"},
        headers={"Accept-Encoding": encoding},
    )
    assert response.headers["Content-Encoding"] == encoding
    root = oai.check(response)
    assert len(root.findall("oai:ListRecords/oai:record", NS)) == 40


def test_error_response_is_compressed_when_asked(stored, oai):
    """§3.1.3: compression applies to every response, errors included."""
    response = oai.client.get(
        "/oai", query_string={"verb": "Nope"}, headers={"Accept-Encoding": "gzip"}
    )
    assert response.headers["Content-Encoding"] == "gzip"
    assert code_of(oai.check(response)) == "badVerb"


# --------------------------------------------------------------------------- hostile input


def raw(oai: OAIClient, query: str) -> etree._Element:
    """GET with a query string sent exactly as written (percent-escapes and all)."""
    return oai.check(oai.client.get(f"/oai?{query}"))


def assert_answers(oai: OAIClient, cases: list[tuple[str, str]]) -> None:
    """Each raw query gets a valid response (checked by `raw`) with the expected error; for
    badVerb and badArgument, <request> carries no attributes."""
    for query, expected in cases:
        root = raw(oai, query)
        assert code_of(root) == expected, (query[:80], etree.tostring(root)[:300])
        if expected in ("badVerb", "badArgument"):
            assert dict(root.find("oai:request", NS).attrib) == {}, query[:80]


GET_RECORD = "verb=GetRecord&metadataPrefix=oai_dc&identifier="
LIST = "verb=ListRecords&metadataPrefix=oai_dc&set="
PREFIX = "verb=ListIdentifiers&metadataPrefix="
TOKEN = "verb=ListRecords&resumptionToken="


def test_bytes_that_are_not_utf8_get_the_right_error(stored, oai):
    """§3.1.1.3 (UTF-8, percent-encoded) and §3.6: invalid UTF-8 never breaks the response;
    it is an unknown verb, an illegal argument or value, or a token that is not one."""
    assert_answers(
        oai,
        [
            ("verb=Identify%FF", "badVerb"),
            ("verb=%FF%FE", "badVerb"),
            ("%FF=Identify", "badVerb"),
            ("verb=Identify&%FF=1", "badArgument"),
            (GET_RECORD + "%C3%28", "badArgument"),
            # werkzeug keeps undecodable escapes as text: still a URI, of nothing here
            (GET_RECORD + "oai:repo.example.org:article/%C3%28", "idDoesNotExist"),
            (GET_RECORD + "oai:repo.example.org:%ED%A0%80", "idDoesNotExist"),
            (LIST + "%C3%28", "badArgument"),
            (PREFIX + "oai_dc%C3%28", "badArgument"),
            ("verb=ListRecords&metadataPrefix=oai_dc&from=2004-01-01%FF", "badArgument"),
            (TOKEN + "%C3%28", "badResumptionToken"),
        ],
    )


def test_control_characters_get_the_right_error(stored, oai):
    """§3.6 and §3.2: control characters (NUL, VT, ESC, DEL, CR LF, TAB, NEL) in any argument
    or argument name are refused before they could reach the XML."""
    for control in ("%00", "%0B", "%1B", "%7F", "%0D%0A", "%09", "%C2%85"):
        assert_answers(
            oai,
            [
                (f"verb=Identify{control}", "badVerb"),
                (f"verb={control}", "badVerb"),
                (f"verb=Identify&x{control}=1", "badArgument"),
                (f"{GET_RECORD}oai:repo.example.org:article/587{control}", "badArgument"),
                (f"{LIST}cac{control}", "badArgument"),
                (f"{PREFIX}oai_dc{control}", "badArgument"),
                (f"{TOKEN}abc{control}def", "badArgument"),
                (
                    f"verb=ListRecords&metadataPrefix=oai_dc&until=2004-01-01{control}",
                    "badArgument",
                ),
            ],
        )


# fragment -> expected error as identifier, set, metadataPrefix, resumptionToken
FRAGMENTS = {
    "%3Cx%3E": ("badArgument", "badArgument", "badArgument", "badResumptionToken"),
    "%27%20OR%201%3D1%20--": ("badArgument", "badArgument", "badArgument", "badArgument"),
    "%5D%5D%3E": ("badArgument", "badArgument", "badArgument", "badResumptionToken"),
    "%26amp%3B": ("badArgument", "badArgument", "badArgument", "badResumptionToken"),
    "%22%3E%3C%2F": ("badArgument", "badArgument", "badArgument", "badResumptionToken"),
    "%27--": ("badArgument", "noRecordsMatch", "cannotDisseminateFormat", "badResumptionToken"),
}


def test_xml_and_sql_fragments_get_the_right_error(stored, oai):
    """§3.6 and §3.2: XML and SQL fragments (<x>, ' OR 1=1 --, ]]>, &amp;, "></, '--) alone as
    identifier, set, metadataPrefix and resumptionToken: the error their syntax calls for,
    a valid response, and nothing injected (a quote is legal in a setSpec or metadataPrefix,
    so those simply match nothing)."""
    for fragment, (identifier, set_spec, prefix, token) in FRAGMENTS.items():
        assert_answers(
            oai,
            [
                (GET_RECORD + fragment, identifier),
                (LIST + fragment, set_spec),
                (PREFIX + fragment, prefix),
                (TOKEN + fragment, token),
            ],
        )


def test_sql_fragments_inside_a_legal_identifier_match_nothing_and_change_nothing(stored, oai):
    """§3.6 idDoesNotExist for URIs carrying SQL (quotes, comments, LIKE wildcards), echoed
    verbatim (§3.2); a bare '%' makes it no URI (badArgument); the store is untouched."""
    prefix = "oai:repo.example.org:article/"
    cases = {
        "587'--": "idDoesNotExist",
        "587'OR'1'='1": "idDoesNotExist",
        "587);DELETE%20FROM%20records;--": "badArgument",
        "587);DELETE+FROM+records;--": "badArgument",
        "5_7": "idDoesNotExist",
        "*": "idDoesNotExist",
        "58%25": "badArgument",
    }
    for suffix, expected in cases.items():
        root = raw(oai, GET_RECORD + prefix + suffix)
        assert code_of(root) == expected, suffix
        if expected == "idDoesNotExist":
            echoed = root.find("oai:request", NS).get("identifier")
            assert echoed == prefix + suffix.replace("%25", "%")
    items, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")
    assert len(items) == 2


def test_hundred_kilobyte_values_are_bad_argument_over_get_and_post(stored, oai):
    """§3.6 badArgument (badVerb for the verb): 100 kB values in each argument, as an unknown
    argument and as an argument name, over GET and POST."""
    big = "a" * 100_000
    cases = [
        {"verb": big},
        {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:x:" + big},
        {"verb": "ListRecords", "metadataPrefix": big},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": big},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": big},
        {"verb": "ListRecords", "resumptionToken": big},
        {"verb": "Identify", "junk": big},
        {"verb": "Identify", big: "1"},
    ]
    for params in cases:
        expected = "badVerb" if params["verb"] == big else "badArgument"
        for response in (
            oai.client.get("/oai", query_string=params),
            oai.client.post("/oai", data=params, content_type=FORM),
        ):
            root = oai.check(response)
            assert code_of(root) == expected, list(params)
            assert dict(root.find("oai:request", NS).attrib) == {}


def test_unknown_parameters_are_bad_argument(stored, oai):
    """§3.6 badArgument: "The request includes illegal arguments"; §3.2 no attributes."""
    queries = [
        "verb=Identify&foo=bar",
        "verb=Identify&=x",
        "verb=Identify&x",
        "verb=ListRecords&metadataPrefix=oai_dc&page=2",
        "verb=GetRecord&identifier=oai:repo.example.org:article/587&metadataPrefix=oai_dc&debug=1",
        "verb=ListSets&resumptionToken=x&foo=bar",
        "verb=Identify&verb%5B%5D=x",
    ]
    assert_answers(oai, [(query, "badArgument") for query in queries])


def test_hostile_post_bodies_get_valid_errors(stored, oai):
    """§3.1.1.2 and §3.6: the same hostile values over POST give the same answers."""
    cases = [
        (b"verb=Identify%FF", "badVerb"),
        (b"verb=Identify&verb=Identify", "badVerb"),
        (b"verb=GetRecord&metadataPrefix=oai_dc&identifier=%5D%5D%3E", "badArgument"),
        (b"verb=ListRecords&metadataPrefix=oai_dc&set=%00", "badArgument"),
        (b"verb=ListRecords&resumptionToken=%3Cx%3E", "badResumptionToken"),
        (b"", "badVerb"),
        (b"&&&", "badVerb"),
    ]
    for body, expected in cases:
        root = oai.check(oai.client.post("/oai", data=body, content_type=FORM))
        assert code_of(root) == expected, body
