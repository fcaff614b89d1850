"""Flow control (§3.5): resumption tokens, paging, badResumptionToken, and harvests that
span restarts, several workers and changes to the repository."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from lxml import etree

from oai.protocol import tokens as token_module
from tests.conftest import (
    NS,
    T0,
    Clock,
    OAIClient,
    harvest,
    identifiers,
    load_records,
    make_record,
    set_repository_clock,
)

# Page sizes of the test settings (conftest.settings).
PAGE = {"ListRecords": 3, "ListIdentifiers": 4, "ListSets": 2}
ITEM = {"ListRecords": "oai:record", "ListIdentifiers": "oai:header", "ListSets": "oai:set"}
LIST_VERBS = ["ListRecords", "ListIdentifiers"]


def oai_id(i: int) -> str:
    return f"oai:repo.example.org:article/{i}"


def pages(oai: OAIClient, verb: str, **params: str) -> list[etree._Element]:
    """Every response's list element, following tokens to the end."""
    result = [oai(verb=verb, **params).find(f"oai:{verb}", NS)]
    while (token := result[-1].find("oai:resumptionToken", NS)) is not None and token.text:
        result.append(oai(verb=verb, resumptionToken=token.text).find(f"oai:{verb}", NS))
    return result


def first_token(oai: OAIClient, verb: str, **params: str) -> str:
    params = {"metadataPrefix": "oai_dc", **params} if verb != "ListSets" else params
    token = oai(verb=verb, **params).find(f"oai:{verb}/oai:resumptionToken", NS)
    assert token is not None and token.text
    return token.text


def listed_ids(items: list[etree._Element]) -> list[str]:
    ids = identifiers(items)
    assert len(ids) == len(set(ids)), ids
    return ids


def load_each(load, count: int, start: datetime = T0, **fields) -> None:
    """Records 0..count-1, one second apart from ``start`` (one batch per record)."""
    clock = Clock(start)
    for i in range(count):
        load([make_record(i, **fields)], now=clock)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# --------------------------------------------------------------------------- paging


@pytest.mark.parametrize(
    ("verb", "count", "lengths"),
    [
        ("ListRecords", 10, [3, 3, 3, 1]),
        ("ListIdentifiers", 10, [4, 4, 2]),
    ],
)
def test_every_page_reports_cursor_and_complete_list_size(app, oai, load, verb, count, lengths):
    """§3.5: completeListSize is the whole list's size on every page and cursor counts the
    items sent before the page (starting at 0), up to the last page."""
    load_each(load, count)
    responses = pages(oai, verb, metadataPrefix="oai_dc")
    assert [len(p.findall(ITEM[verb], NS)) for p in responses] == lengths
    cursor = 0
    for page in responses:
        token = page.find("oai:resumptionToken", NS)
        assert token.get("completeListSize") == str(count)
        assert token.get("cursor") == str(cursor)
        cursor += len(page.findall(ITEM[verb], NS))
    assert cursor == count


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_issued_tokens_carry_an_expiration_date_in_the_future(app, oai, load, verb):
    """§3.5 expirationDate: a UTCdatetime (with Z) after the time the token was issued."""
    load_each(load, 10)
    for page in pages(oai, verb, metadataPrefix="oai_dc")[:-1]:
        token = page.find("oai:resumptionToken", NS)
        expires = token.get("expirationDate")
        assert expires is not None and expires.endswith("Z")
        assert datetime.strptime(expires, "%Y-%m-%dT%H:%M:%SZ") > utc_now()


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_last_page_carries_an_empty_resumption_token(app, oai, load, verb):
    """§3.5: "the response containing the incomplete list that completes the list must
    include an empty resumptionToken element"."""
    load_each(load, 10)
    last = pages(oai, verb, metadataPrefix="oai_dc")[-1]
    token = last.find("oai:resumptionToken", NS)
    assert token is not None
    assert token.text is None
    assert len(token) == 0
    assert etree.QName(last[-1]).localname == "resumptionToken"


@pytest.mark.parametrize(("verb", "count"), [("ListRecords", 6), ("ListIdentifiers", 8)])
def test_list_of_an_exact_multiple_of_the_page_size_ends_without_an_extra_page(
    app, oai, load, verb, count
):
    """§3.5: the page that completes the list carries the empty token; a list of exactly two
    pages never needs a third, empty one (which the schema could not express anyway)."""
    load_each(load, count)
    responses = pages(oai, verb, metadataPrefix="oai_dc")
    assert [len(p.findall(ITEM[verb], NS)) for p in responses] == [PAGE[verb], PAGE[verb]]
    token = responses[-1].find("oai:resumptionToken", NS)
    assert (token.text, token.get("cursor")) == (None, str(PAGE[verb]))


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_list_that_fits_one_page_has_no_resumption_token(app, oai, load, verb):
    """§3.5: only an incomplete list gets a token; a complete one (a full page or less) has
    no resumptionToken element at all."""
    for count in (1, PAGE[verb]):
        load_each(load, count)
        responses = pages(oai, verb, metadataPrefix="oai_dc")
        assert len(responses) == 1
        assert len(responses[0].findall(ITEM[verb], NS)) == count
        assert responses[0].find("oai:resumptionToken", NS) is None


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_paging_through_records_sharing_one_datestamp_loses_and_repeats_nothing(
    app, oai, load, verb
):
    """§3.5 (complete list = concatenation of the pages): 26 records in one second (ties
    broken by identifier), then 4 in the next second, page by page."""
    load([make_record(i) for i in range(20)], now=lambda: T0)
    load([make_record(i) for i in range(20, 26)], now=lambda: T0)
    load([make_record(i) for i in range(26, 30)], now=lambda: T0 + timedelta(seconds=1))
    responses = pages(oai, verb, metadataPrefix="oai_dc")
    items = [i for p in responses for i in p.findall(ITEM[verb], NS)]
    ids = listed_ids(items)
    assert sorted(ids) == sorted(oai_id(i) for i in range(30))
    assert set(ids[-4:]) == {oai_id(i) for i in range(26, 30)}
    assert len(responses) == -(-30 // PAGE[verb])
    cursors = [int(p.find("oai:resumptionToken", NS).get("cursor")) for p in responses]
    assert cursors == list(range(0, 30, PAGE[verb]))


def test_paging_through_ties_within_a_set_loses_and_repeats_nothing(app, oai, load):
    """§3.5 with §2.7.2: the keyset of a set harvest breaks ties the same way."""
    load([make_record(i, sets=["cac:ART"] if i % 3 else ["other"]) for i in range(24)])
    items, tokens = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set="cac")
    expected = {oai_id(i) for i in range(24) if i % 3}
    assert sorted(listed_ids(items)) == sorted(expected)
    assert {t.get("completeListSize") for t in tokens} == {str(len(expected))}


def test_token_keeps_the_selective_arguments_of_the_first_request(app, oai, load):
    """§3.5: the complete list is that of the first request: later pages keep its set, from
    and until (the token carries them)."""
    clock = Clock(T0)
    for i in range(16):
        load([make_record(i, sets=["cac"] if i % 4 else ["other"])], now=clock)
    items, tokens = harvest(
        oai,
        "ListRecords",
        metadataPrefix="oai_dc",
        set="cac",
        from_="2020-01-01T00:00:02Z",
        until="2020-01-01T00:00:13Z",
    )
    expected = [oai_id(i) for i in range(2, 14) if i % 4]
    assert listed_ids(items) == expected
    assert len(tokens) == 3


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_reissuing_a_token_returns_the_same_page(app, oai, load, verb):
    """§3.5.1: without changes, re-issuing the most recent token gives the same list."""
    load_each(load, 10)
    token = first_token(oai, verb)
    answers = [oai(verb=verb, resumptionToken=token).find(f"oai:{verb}", NS) for _ in range(2)]
    assert identifiers(answers[0].findall(ITEM[verb], NS)) == identifiers(
        answers[1].findall(ITEM[verb], NS)
    )
    cursors = [a.find("oai:resumptionToken", NS).get("cursor") for a in answers]
    assert cursors == [str(PAGE[verb])] * 2


# --------------------------------------------------------------------------- processes


def test_token_resumes_after_a_restart(make_app):
    """§3.5.1 (resume by re-issuing the token): a token outlives the process that issued it
    (new app object, same secret and database)."""
    first = make_app()
    load_records(first, [make_record(i) for i in range(7)])
    root = OAIClient(first.test_client())(verb="ListRecords", metadataPrefix="oai_dc")
    seen = identifiers(root.findall("oai:ListRecords/oai:record", NS))
    token = root.findtext("oai:ListRecords/oai:resumptionToken", namespaces=NS)
    first.extensions["oaipress.store"].dispose()
    second = make_app()
    items, _ = harvest(OAIClient(second.test_client()), "ListRecords", resumptionToken=token)
    seen += identifiers(items)
    assert sorted(seen) == sorted(oai_id(i) for i in range(7))
    assert len(seen) == 7


def test_token_resumes_on_another_worker(make_app):
    """§3.5: a harvest whose requests alternate between two app instances (two workers)
    gets the complete list once."""
    workers = [make_app(), make_app()]
    load_records(workers[0], [make_record(i) for i in range(11)])
    clients = itertools.cycle([OAIClient(w.test_client()) for w in workers])
    container = next(clients)(verb="ListIdentifiers", metadataPrefix="oai_dc")
    container = container.find("oai:ListIdentifiers", NS)
    seen = identifiers(container.findall("oai:header", NS))
    while token := container.findtext("oai:resumptionToken", namespaces=NS):
        root = next(clients)(verb="ListIdentifiers", resumptionToken=token)
        container = root.find("oai:ListIdentifiers", NS)
        seen += identifiers(container.findall("oai:header", NS))
    assert sorted(seen) == sorted(oai_id(i) for i in range(11))
    assert len(seen) == 11


def test_workers_without_a_configured_secret_share_the_secret_kept_in_the_store(make_app):
    """§3.5: with OAIPRESS_SECRET_KEY unset, workers agree on the store's secret, so one
    worker resumes another's token; a worker with another secret refuses it."""
    first = make_app(OAIPRESS_SECRET_KEY=None)
    load_records(first, [make_record(i) for i in range(5)])
    token = first_token(OAIClient(first.test_client()), "ListIdentifiers")
    second = OAIClient(make_app(OAIPRESS_SECRET_KEY=None).test_client())
    root = second(verb="ListIdentifiers", resumptionToken=token)
    assert len(root.findall("oai:ListIdentifiers/oai:header", NS)) == 1
    stranger = OAIClient(make_app(OAIPRESS_SECRET_KEY="another").test_client())
    code, _ = stranger.error(verb="ListIdentifiers", resumptionToken=token)
    assert code == "badResumptionToken"


# --------------------------------------------------------------------------- badResumptionToken


def flipped(token: str, index: int) -> str:
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]


def tamperings(token: str) -> dict[str, str]:
    payload, stamp, signature = token.rsplit(".", 2)
    middle = len(payload) // 2
    if payload[middle] == ".":
        middle += 1
    at_stamp = len(payload) + 1
    at_signature = at_stamp + len(stamp) + 1
    return {
        "payload": flipped(token, middle),
        "timestamp": flipped(token, at_stamp),
        "signature": flipped(token, at_signature),
        "truncated": token[:-1],
        "extended": token + "A",
        "unsigned": payload,
        "doubled": token + token,
        "reversed": token[::-1],
    }


@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers", "ListSets"])
def test_tampered_token_is_bad_resumption_token(app, oai, load, verb):
    """§3.6 badResumptionToken: a real token with one character flipped (in its payload,
    timestamp or signature), cut, extended or unsigned; §3.2 the request is echoed."""
    load([make_record(i, sets=[f"s{i}"]) for i in range(6)])
    token = first_token(oai, verb)
    for name, bad in tamperings(token).items():
        assert bad != token
        code, root = oai.error(verb=verb, resumptionToken=bad)
        assert code == "badResumptionToken", name
        assert dict(root.find("oai:request", NS).attrib) == {"verb": verb, "resumptionToken": bad}


@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers", "ListSets"])
def test_token_signed_with_another_secret_is_bad_resumption_token(app, oai, load, make_app, verb):
    """§3.6 badResumptionToken: a well-formed token from a repository with another secret."""
    load([make_record(i, sets=[f"s{i}"]) for i in range(6)])
    foreign = OAIClient(make_app(OAIPRESS_SECRET_KEY="another-secret").test_client())
    code, _ = oai.error(verb=verb, resumptionToken=first_token(foreign, verb))
    assert code == "badResumptionToken"
    assert oai(verb=verb, resumptionToken=first_token(oai, verb)).find("oai:error", NS) is None


@pytest.mark.parametrize(
    ("issued_by", "used_with"),
    [
        ("ListIdentifiers", "ListRecords"),
        ("ListRecords", "ListIdentifiers"),
        ("ListRecords", "ListSets"),
        ("ListSets", "ListIdentifiers"),
    ],
)
def test_token_of_another_verb_is_bad_resumption_token(app, oai, load, issued_by, used_with):
    """§3.5 ("All other uses of resumptionToken ... are illegal") and §3.6
    badResumptionToken: a genuine token presented to another list verb."""
    load([make_record(i, sets=[f"s{i}"]) for i in range(6)])
    token = first_token(oai, issued_by)
    code, root = oai.error(verb=used_with, resumptionToken=token)
    assert code == "badResumptionToken"
    assert dict(root.find("oai:request", NS).attrib) == {
        "verb": used_with,
        "resumptionToken": token,
    }


def freeze_token_clock(monkeypatch: pytest.MonkeyPatch, at: float) -> None:
    """Set the clock tokens are stamped and checked with."""
    monkeypatch.setattr(token_module, "time", SimpleNamespace(time=lambda: at))


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_expired_token_is_bad_resumption_token(make_app, monkeypatch, verb):
    """§3.6 badResumptionToken ("invalid or expired"): with OAIPRESS_TOKEN_TTL=1 a token is
    good for a second and refused a few seconds later (token clock patched, no sleeping)."""
    app = make_app(OAIPRESS_TOKEN_TTL=1)
    load_records(app, [make_record(i) for i in range(6)])
    oai = OAIClient(app.test_client())
    issued = time.time()
    freeze_token_clock(monkeypatch, issued)
    token = first_token(oai, verb)
    freeze_token_clock(monkeypatch, issued + 1)
    assert oai(verb=verb, resumptionToken=token).find("oai:error", NS) is None
    freeze_token_clock(monkeypatch, issued + 5)
    code, root = oai.error(verb=verb, resumptionToken=token)
    assert code == "badResumptionToken"
    assert "expired" in root.findtext("oai:error", namespaces=NS)


def test_token_signed_longer_ago_than_its_lifetime_is_expired(app, oai, load, monkeypatch):
    """§3.5 expirationDate and §3.6 badResumptionToken: with the default 7-day lifetime, a
    token signed 6 days ago still works and one signed 8 days ago is refused."""
    load([make_record(i) for i in range(6)])
    now = time.time()
    freeze_token_clock(monkeypatch, now - 6 * 86400)
    recent = first_token(oai, "ListRecords")
    freeze_token_clock(monkeypatch, now - 8 * 86400)
    old = first_token(oai, "ListRecords")
    monkeypatch.undo()
    assert oai(verb="ListRecords", resumptionToken=recent).find("oai:error", NS) is None
    code, _ = oai.error(verb="ListRecords", resumptionToken=old)
    assert code == "badResumptionToken"


# --------------------------------------------------------------------------- changes


def test_changes_during_a_harvest_are_neither_lost_nor_repeated(app, oai, load):
    """§3.5.1 and §2.7.1: records changed, deleted or added while a harvest is under way are
    not repeated within it, every unchanged record is in it, and the next incremental
    harvest `from` the first responseDate picks the changes up."""
    load_each(load, 10)  # article/0..9 at 00:00:00..00:00:09
    start = T0 + timedelta(hours=1)
    set_repository_clock(app, lambda: start)
    first = oai(verb="ListIdentifiers", metadataPrefix="oai_dc")
    response_date = first.findtext("oai:responseDate", namespaces=NS)
    assert response_date == "2020-01-01T01:00:00Z"
    page = first.find("oai:ListIdentifiers", NS)
    seen = identifiers(page.findall("oai:header", NS))
    assert seen == [oai_id(i) for i in range(4)]

    during = Clock(start + timedelta(seconds=30))
    load([make_record(1, title="Changed after it was sent")], now=during)
    load([make_record(6, title="Changed before it was sent")], now=during)
    load([{"id": "article/8", "deleted": True}], now=during)
    load([make_record(10)], now=during)
    set_repository_clock(app, lambda: start + timedelta(minutes=5))
    token = page.findtext("oai:resumptionToken", namespaces=NS)
    items, _ = harvest(oai, "ListIdentifiers", resumptionToken=token)
    seen += identifiers(items)
    assert len(seen) == len(set(seen)), seen
    assert {oai_id(i) for i in (0, 2, 3, 4, 5, 7, 9)} <= set(seen)

    set_repository_clock(app, lambda: start + timedelta(hours=1))
    items, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", from_=response_date)
    incremental = {h.findtext("oai:identifier", namespaces=NS): h.get("status") for h in items}
    assert incremental == {
        oai_id(1): None,
        oai_id(6): None,
        oai_id(8): "deleted",
        oai_id(10): None,
    }
    assert set(seen) | set(incremental) == {oai_id(i) for i in range(11)}


def test_change_in_the_second_of_the_first_request_is_left_to_the_next_harvest(app, oai, load):
    """§3.5.1 and §2.7.1: the list is frozen just before the first request, so a record
    stamped with the very second of the first responseDate is not in this harvest but in
    the one `from` that responseDate (never in neither)."""
    load_each(load, 6)
    start = T0 + timedelta(hours=1)
    set_repository_clock(app, lambda: start)
    first = oai(verb="ListIdentifiers", metadataPrefix="oai_dc")
    response_date = first.findtext("oai:responseDate", namespaces=NS)
    seen = identifiers(first.findall("oai:ListIdentifiers/oai:header", NS))
    load([make_record(5, title="Changed"), make_record(6)], now=lambda: start)
    token = first.findtext("oai:ListIdentifiers/oai:resumptionToken", namespaces=NS)
    items, _ = harvest(oai, "ListIdentifiers", resumptionToken=token)
    seen += identifiers(items)
    assert seen == [oai_id(i) for i in range(5)]
    set_repository_clock(app, lambda: start + timedelta(minutes=1))
    items, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", from_=response_date)
    assert sorted(identifiers(items)) == [oai_id(5), oai_id(6)]
