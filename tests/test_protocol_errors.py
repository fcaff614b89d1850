"""Every error condition of §3.6 in the situation that calls for it, and what <request>
echoes with it (§3.2: everything, except for badVerb and badArgument: nothing)."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.conftest import NS, OAIClient, example_record, make_record, unlisted_record

IDENTIFIER = "oai:repo.example.org:article/587"


@pytest.fixture
def stored(app, load):
    """The example article (in set `cac`) and one record in `cac:ART`."""
    load([example_record(), make_record(1, sets=["cac:ART"])])


def request_attributes(root: etree._Element) -> dict[str, str]:
    return dict(root.find("oai:request", NS).attrib)


def assert_error(oai: OAIClient, expected: str, **params: str) -> etree._Element:
    code, root = oai.error(**params)
    assert code == expected, etree.tostring(root)[:500]
    assert len(root.findall("oai:error", NS)) >= 1
    assert etree.QName(root[2]).localname == "error"  # §3.2: the third child
    return root


def assert_errors(oai: OAIClient, expected: str, cases: list[dict[str, str]]) -> None:
    """Each request of ``cases`` answers ``expected``; badVerb/badArgument echo nothing."""
    for params in cases:
        code, root = oai.error(**params)
        assert code == expected, (params, etree.tostring(root)[:300])
        if expected in ("badVerb", "badArgument"):
            assert request_attributes(root) == {}, params


def assert_raw_errors(oai: OAIClient, expected: str, queries: list[str]) -> None:
    """Each query, sent verbatim over GET and as a POST body, answers ``expected`` with no
    attributes on <request> (repeated keys cannot be written as keyword arguments)."""
    for query in queries:
        for response in (
            oai.client.get(f"/oai?{query}"),
            oai.client.post("/oai", data=query, content_type="application/x-www-form-urlencoded"),
        ):
            root = oai.check(response)
            assert root.find("oai:error", NS).get("code") == expected, query
            assert request_attributes(root) == {}, query


def assert_no_echo(root: etree._Element) -> None:
    """§3.2: badVerb and badArgument carry the base URL only, no attributes."""
    request = root.find("oai:request", NS)
    assert dict(request.attrib) == {}
    assert request.text == "http://repo.example.org/oai"


# --------------------------------------------------------------------------- badVerb


def test_missing_or_unknown_verb_is_bad_verb_without_echo(app, oai):
    """§3.6 badVerb: the verb is missing, empty or not a legal verb (verbs and the `verb`
    key are case-sensitive); §3.2 no attributes."""
    cases = [
        {},
        {"identifier": IDENTIFIER},
        {"verb": "nastyVerb"},
        {"verb": "getrecord"},
        {"verb": "Identify "},
        {"verb": ""},
        {"Verb": "Identify"},
    ]
    assert_errors(oai, "badVerb", cases)


def test_repeated_verb_is_bad_verb_without_echo(app, oai):
    """§3.6 badVerb: the verb argument is repeated (even with the same value), GET and POST."""
    assert_raw_errors(
        oai, "badVerb", ["verb=Identify&verb=Identify", "verb=Identify&verb=ListSets"]
    )


# --------------------------------------------------------------------------- badArgument


def test_missing_required_argument_is_bad_argument(stored, oai):
    """§3.6 badArgument: a required argument (identifier, metadataPrefix) is missing."""
    cases = [
        {"verb": "GetRecord", "identifier": IDENTIFIER},
        {"verb": "GetRecord", "metadataPrefix": "oai_dc"},
        {"verb": "GetRecord"},
        {"verb": "ListRecords"},
        {"verb": "ListIdentifiers"},
        {"verb": "ListRecords", "set": "cac", "from_": "2004-01-01"},
    ]
    assert_errors(oai, "badArgument", cases)


def test_illegal_or_unknown_argument_is_bad_argument(stored, oai):
    """§3.6 badArgument: an argument the verb does not take (names are case-sensitive)."""
    cases = [
        {"verb": "Identify", "set": "cac"},
        {"verb": "Identify", "foo": "bar"},
        {"verb": "ListMetadataFormats", "metadataPrefix": "oai_dc"},
        {"verb": "ListSets", "set": "cac"},
        {"verb": "GetRecord", "identifier": IDENTIFIER, "metadataPrefix": "oai_dc", "set": "cac"},
        {
            "verb": "GetRecord",
            "identifier": IDENTIFIER,
            "metadataPrefix": "oai_dc",
            "from_": "2004-01-01",
        },
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "identifier": IDENTIFIER},
        {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "page": "2"},
        {"verb": "ListRecords", "metadataprefix": "oai_dc"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "From": "2004-01-01"},
    ]
    assert_errors(oai, "badArgument", cases)


def test_repeated_argument_is_bad_argument(stored, oai):
    """§3.6 badArgument: a repeated argument, even with the same value, GET and POST."""
    identify = "verb=GetRecord&identifier=oai:repo.example.org:article/587"
    queries = [
        f"{identify}&metadataPrefix=oai_dc&metadataPrefix=oai_dc",
        f"{identify}&identifier=oai:repo.example.org:article/1&metadataPrefix=oai_dc",
        "verb=ListRecords&metadataPrefix=oai_dc&set=cac&set=cac:ART",
        "verb=ListIdentifiers&metadataPrefix=oai_dc&from=2004-01-01&from=2005-01-01",
        "verb=ListSets&resumptionToken=a&resumptionToken=a",
    ]
    assert_raw_errors(oai, "badArgument", queries)


MALFORMED_DATES = [
    "2004",
    "2004-01",
    "2004-1-1",
    "04-01-01",
    "2004/01/01",
    "20040101",
    "2004-01-01T00:00Z",
    "2004-01-01T00:00:00",
    "2004-01-01T00:00:00+00:00",
    "2004-01-01T00:00:00.5Z",
    "2004-01-01 00:00:00Z",
    "2004-01-01t00:00:00z",
    "yesterday",
    "\u0662\u0660\u0660\u0664-01-01",  # Arabic-Indic digits: not ISO 8601
]
IMPOSSIBLE_DATES = [
    "2020-02-30",
    "2021-02-29",
    "2020-13-01",
    "2020-00-10",
    "2020-04-31",
    "0000-01-01",
    "2020-01-01T24:00:00Z",
    "2020-01-01T23:60:00Z",
    "2020-01-01T23:59:60Z",
]


def date_cases(values: list[str]) -> list[dict[str, str]]:
    return [
        {"verb": verb, "metadataPrefix": "oai_dc", argument: value}
        for verb in ("ListRecords", "ListIdentifiers")
        for argument in ("from_", "until")
        for value in values
    ]


def test_malformed_date_is_bad_argument(stored, oai):
    """§3.3.1 and §3.6 badArgument: only YYYY-MM-DD and YYYY-MM-DDThh:mm:ssZ are dates, in
    from and until of both list verbs."""
    assert_errors(oai, "badArgument", date_cases(MALFORMED_DATES))


def test_impossible_date_is_bad_argument(stored, oai):
    """§3.3.1 and §3.6 badArgument: well-formed but not a real day or time (2020-02-30,
    2021-02-29, 24:00:00, a leap second)."""
    assert_errors(oai, "badArgument", date_cases(IMPOSSIBLE_DATES))


def test_leap_day_is_a_valid_date(stored, oai):
    """§3.3.1: 2020-02-29 exists (contrast with 2021-02-29 above): noRecordsMatch, not
    badArgument."""
    root = assert_error(
        oai, "noRecordsMatch", verb="ListIdentifiers", metadataPrefix="oai_dc", until="2016-02-29"
    )
    assert request_attributes(root)["until"] == "2016-02-29"


def test_mixed_granularities_are_bad_argument(stored, oai):
    """§3.3.1: "Both arguments must have the same granularity"; §3.6 badArgument."""
    cases = [
        {"verb": verb, "metadataPrefix": "oai_dc", "from_": from_, "until": until}
        for verb in ("ListRecords", "ListIdentifiers")
        for from_, until in (
            ("2004-01-01", "2030-01-01T00:00:00Z"),
            ("2004-01-01T00:00:00Z", "2030-01-01"),
        )
    ]
    assert_errors(oai, "badArgument", cases)


def test_from_later_than_until_is_bad_argument(stored, oai):
    """§2.7.1: from must be less than or equal to until, "Otherwise, a repository must issue a
    badArgument error" (at both granularities)."""
    cases = [
        {"verb": verb, "metadataPrefix": "oai_dc", "from_": from_, "until": until}
        for verb in ("ListRecords", "ListIdentifiers")
        for from_, until in (
            ("2004-01-02", "2004-01-01"),
            ("2004-01-01T00:00:01Z", "2004-01-01T00:00:00Z"),
            ("2030-01-01", "2004-01-01"),
        )
    ]
    assert_errors(oai, "badArgument", cases)


def test_resumption_token_with_other_arguments_is_bad_argument(stored, oai):
    """§4.3/§4.5/§4.6: resumptionToken is an exclusive argument; §3.6 badArgument."""
    cases = [
        {"verb": "ListRecords", "resumptionToken": "x", "metadataPrefix": "oai_dc"},
        {"verb": "ListIdentifiers", "resumptionToken": "x", "from_": "2004-01-01"},
        {"verb": "ListRecords", "resumptionToken": "x", "set": "cac"},
        {"verb": "ListIdentifiers", "resumptionToken": "x", "until": "2004-01-01"},
    ]
    assert_errors(oai, "badArgument", cases)


def test_metadata_prefix_with_illegal_syntax_is_bad_argument(stored, oai):
    """§3.4: a metadataPrefix consists of URI unreserved characters; §3.6 badArgument, for
    GetRecord, ListRecords and ListIdentifiers."""
    prefixes = ["oai dc", "oai/dc", "oai:dc", "<x>", "oai_dc;", "oai%dc", "ø", "oai_dc\u00a0"]
    cases = [{"verb": "GetRecord", "identifier": IDENTIFIER, "metadataPrefix": p} for p in prefixes]
    cases += [
        {"verb": verb, "metadataPrefix": p}
        for verb in ("ListRecords", "ListIdentifiers")
        for p in prefixes
    ]
    assert_errors(oai, "badArgument", cases)


def test_set_with_illegal_syntax_is_bad_argument(stored, oai):
    """§2.6 setSpec syntax (colon-separated URI unreserved characters); §3.6 badArgument."""
    specs = ["cac:", ":cac", "cac::ART", "cac ART", "cac/ART", "cac%", "<x>", "cac,ART", "çac"]
    cases = [
        {"verb": verb, "metadataPrefix": "oai_dc", "set": spec}
        for verb in ("ListRecords", "ListIdentifiers")
        for spec in specs
    ]
    assert_errors(oai, "badArgument", cases)


def test_empty_argument_value_is_bad_argument(stored, oai):
    """§3.6 badArgument: an empty value is illegal syntax for every argument."""
    cases = [
        {"verb": "GetRecord", "identifier": "", "metadataPrefix": "oai_dc"},
        {"verb": "GetRecord", "identifier": IDENTIFIER, "metadataPrefix": ""},
        {"verb": "ListRecords", "metadataPrefix": ""},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from_": ""},
        {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "until": ""},
        {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": ""},
        {"verb": "ListRecords", "resumptionToken": ""},
        {"verb": "ListSets", "resumptionToken": ""},
        {"verb": "ListMetadataFormats", "identifier": ""},
    ]
    assert_errors(oai, "badArgument", cases)


def identifier_cases(identifiers: list[str]) -> list[dict[str, str]]:
    return [
        {"verb": "GetRecord", "identifier": i, "metadataPrefix": "oai_dc"} for i in identifiers
    ] + [{"verb": "ListMetadataFormats", "identifier": i} for i in identifiers]


def test_identifier_that_is_not_a_uri_is_bad_argument(stored, oai):
    """§2.4 (identifiers are URIs; the schema's identifierType is anyURI) and §3.6 badArgument
    (illegal syntax), for GetRecord and ListMetadataFormats: such a value could not be
    echoed in a valid <request>."""
    not_uris = [
        "article/587",
        "587",
        "<x>",
        "]]>",
        "oai:repo.example.org:article/587#a#b",
        "oai:repo:[1]",
        "oai:repo.example.org:article/58%",
        "http://repo.example.org:/oai",
        "1oai:repo.example.org:article/587",
    ]
    assert_errors(oai, "badArgument", identifier_cases(not_uris))


# --------------------------------------------------------------------------- the others


def test_garbage_resumption_token_is_bad_resumption_token(stored, oai):
    """§3.6 badResumptionToken: a value that is no token; §3.2 the request is echoed. (More
    token cases are in test_protocol_tokens.py.)"""
    for verb in ("ListRecords", "ListIdentifiers", "ListSets"):
        root = assert_error(oai, "badResumptionToken", verb=verb, resumptionToken="garbage")
        assert request_attributes(root) == {"verb": verb, "resumptionToken": "garbage"}


def test_unsupported_metadata_prefix_is_cannot_disseminate_format(stored, oai):
    """§3.6 cannotDisseminateFormat for GetRecord, ListRecords and ListIdentifiers (prefixes
    are case-sensitive; `all` is reserved, §3.4); §3.2 the request is echoed."""
    for prefix in ("marc21", "oai_DC", "all", "oai_dc.", "'"):
        cases = [{"verb": "GetRecord", "identifier": IDENTIFIER, "metadataPrefix": prefix}]
        cases += [{"verb": v, "metadataPrefix": prefix} for v in ("ListRecords", "ListIdentifiers")]
        for params in cases:
            root = assert_error(oai, "cannotDisseminateFormat", **params)
            assert request_attributes(root) == params


ODD_IDENTIFIERS = [
    "oai:repo.example.org:article/588",
    "oai:other.example.org:article/587",
    "oai:repo.example.org",
    "oai:repo.example.org:",
    "oai:repo.example.org:article/587/",
    "oai:repo.example.org:article%2F587",
    "OAI:REPO.EXAMPLE.ORG:article/587",
    "oai:repo.example.org:article/5_7",
    "oai:repo.example.org:article/58%25",
    "oai:repo.example.org:article/587'--",
    "urn:isbn:0451450523",
    "https://ca-c.org/CAC/index.php/cac/article/view/587",
]


def test_unknown_identifier_is_id_does_not_exist(stored, oai):
    """§3.6 idDoesNotExist for GetRecord and ListMetadataFormats; §3.2 echoed exactly."""
    for params in identifier_cases(["oai:repo.example.org:article/588"]):
        root = assert_error(oai, "idDoesNotExist", **params)
        assert request_attributes(root) == params


def test_identifier_of_another_repository_is_id_does_not_exist(stored, oai):
    """§3.6 idDoesNotExist ("illegal in this repository"): the local part exists here, under
    another repositoryIdentifier."""
    for params in identifier_cases(["oai:other.example.org:article/587"]):
        root = assert_error(oai, "idDoesNotExist", **params)
        assert request_attributes(root) == params


def test_syntactically_odd_identifier_is_id_does_not_exist(stored, oai):
    """§3.6 idDoesNotExist: URIs that are not identifiers of this repository (no or empty
    local part, other case, escaped slash, LIKE wildcards, quotes, a URN, the landing page)
    match nothing, and §3.2 the request echoes each exactly."""
    for params in identifier_cases(ODD_IDENTIFIERS):
        root = assert_error(oai, "idDoesNotExist", **params)
        assert request_attributes(root) == params


@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
def test_date_range_with_nothing_in_it_is_no_records_match(stored, oai, verb):
    """§3.6 noRecordsMatch: the from/until combination selects nothing; §3.2 echoed."""
    for params in (
        {"until": "2004-01-01"},
        {"from_": "2004-01-01", "until": "2004-12-31"},
        {"from_": "2999-01-01T00:00:00Z"},
    ):
        root = assert_error(oai, "noRecordsMatch", verb=verb, metadataPrefix="oai_dc", **params)
        expected = {"verb": verb, "metadataPrefix": "oai_dc"}
        expected.update({k.rstrip("_"): v for k, v in params.items()})
        assert request_attributes(root) == expected


@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
def test_set_with_nothing_in_it_is_no_records_match(stored, oai, verb):
    """§3.6 noRecordsMatch: a set with no records (the repository has sets)."""
    root = assert_error(oai, "noRecordsMatch", verb=verb, metadataPrefix="oai_dc", set="nothing")
    assert request_attributes(root) == {"verb": verb, "metadataPrefix": "oai_dc", "set": "nothing"}


@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
def test_list_of_an_empty_repository_is_no_records_match(app, oai, verb):
    """§3.6 noRecordsMatch: nothing stored at all."""
    assert_error(oai, "noRecordsMatch", verb=verb, metadataPrefix="oai_dc")


def test_an_item_every_format_can_express_lists_all_formats(stored, oai):
    """§4.4: the example article (with a journal) is rendered in every registered format,
    so ListMetadataFormats for it is the repository's full list. (An item a format cannot
    express lacks that format: tests/test_aggregator_sets.py.)"""
    everything = oai(verb="ListMetadataFormats").find("oai:ListMetadataFormats", NS)
    for identifier in (IDENTIFIER,):
        root = oai(verb="ListMetadataFormats", identifier=identifier)
        assert root.find("oai:error", NS) is None
        item = root.find("oai:ListMetadataFormats", NS)
        assert etree.tostring(item) == etree.tostring(everything)


@pytest.mark.parametrize(
    "params",
    [
        {"verb": "ListSets"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "cac"},
        {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "cac"},
    ],
    ids=["ListSets", "ListRecords", "ListIdentifiers"],
)
def test_sets_asked_of_a_repository_without_sets_is_no_set_hierarchy(app, oai, load, params):
    """§3.6 noSetHierarchy for ListSets, and ListRecords/ListIdentifiers with a set; §3.2
    the request is echoed. (Restricted records: no computed aggregator set either.)"""
    load([unlisted_record(1), unlisted_record(2)])
    root = assert_error(oai, "noSetHierarchy", **params)
    assert request_attributes(root) == params


# --------------------------------------------------------------------------- §3.2 echo


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_successful_request_element_echoes_exactly_the_arguments(stored, oai, method):
    """§3.2: the attributes of <request> match the request's key=value pairs, and its
    content is the base URL (every verb, optional arguments included)."""
    cases = [
        {"verb": "Identify"},
        {"verb": "ListMetadataFormats"},
        {"verb": "ListMetadataFormats", "identifier": IDENTIFIER},
        {"verb": "ListSets"},
        {"verb": "GetRecord", "identifier": IDENTIFIER, "metadataPrefix": "oai_dc"},
        {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"},
        {
            "verb": "ListRecords",
            "metadataPrefix": "oai_dc",
            "set": "cac",
            "from": "2000-01-01",
            "until": "2999-12-31",
        },
        {
            "verb": "ListIdentifiers",
            "metadataPrefix": "oai_dc",
            "from": "2000-01-01T00:00:00Z",
            "until": "2999-12-31T23:59:59Z",
        },
    ]
    for params in cases:
        root = oai(method, **{("from_" if k == "from" else k): v for k, v in params.items()})
        assert root.find("oai:error", NS) is None, params
        assert request_attributes(root) == params
        assert root.findtext("oai:request", namespaces=NS) == "http://repo.example.org/oai"
