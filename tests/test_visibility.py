"""No write may be lost to an incremental harvest (§2.7.1, §3.5; harvester guidelines §3).

A record becomes visible to the protocol only under a datestamp at or after the
responseDate of every response that could not see it (records.stamping). The scenarios
run real `oaipress` processes — a server with two workers, and the command that writes
— on every backend; tests/visibility.py has the harness.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from records.ingest import import_records
from records.models import Record, Rendition, SetMembership
from records.stamping import PROVISIONAL, confirm, database_now, publish
from tests.conftest import NS, T0, Clock, make_record
from tests.servers import environment, run
from tests.visibility import (
    check_nothing_lost,
    command_across_a_harvest,
    import_across_a_harvest,
    oai_id,
    write_file,
)

# The scenario is 2,000 + 30,000 (python -m tests.visibility); the suite runs
# it smaller, on both backends. OAIPRESS_VISIBILITY_RECORDS scales it.
NEW = int(os.environ.get("OAIPRESS_VISIBILITY_RECORDS", "3000"))
EXISTING = max(NEW // 15, 20)


def test_a_long_import_across_a_harvest_reaches_the_incremental_harvest_whole(
    database_url, tmp_path
):
    during, after, changed = import_across_a_harvest(database_url, tmp_path, EXISTING, NEW)
    # The harvest during the import saw the store as it was: none of the import, no half.
    assert set(during.headers) == {oai_id(f"article/{i}") for i in range(EXISTING)}
    check_nothing_lost(during, after, changed)
    assert set(after.headers) == changed  # and nothing else: nothing else changed
    assert len(changed) == NEW


def test_deleting_many_records_across_a_harvest_reaches_the_incremental_harvest(
    database_url, tmp_path
):
    during, after, changed = import_across_a_harvest(
        database_url, tmp_path, NEW // 2, 0, deletions=True
    )
    assert all(status is None for _, status in during.headers.values())
    check_nothing_lost(during, after, changed)
    assert {after.headers[i][1] for i in changed} == {"deleted"}


def test_lifting_embargoes_across_a_harvest_reaches_the_incremental_harvest(database_url, tmp_path):
    embargoed = {"access": "embargoed", "embargo_until": "2021-06-01"}
    records = [make_record(i) | {"datestamp": "2020-01-01T00:00:00Z"} for i in range(200)]
    for record in records[1::2]:
        record["rights"] |= embargoed
    env = environment(database_url)
    run(
        ["import", "--keep-datestamps", str(write_file(tmp_path / "e.jsonl", records))],
        env,
        tmp_path,
    )
    during, after, output = command_across_a_harvest(database_url, tmp_path, ["lift-embargoes"])
    changed = {oai_id(r["id"]) for r in records if r["rights"].get("access") == "embargoed"}
    assert "100 embargo(es) ended" in output
    check_nothing_lost(during, after, changed)
    assert set(after.headers) == changed


def test_a_rebuild_across_a_harvest_restamps_what_reads_differently(database_url, tmp_path):
    env = environment(database_url)
    records = [make_record(i) | {"datestamp": "2020-01-01T00:00:00Z"} for i in range(300)]
    run(
        ["import", "--keep-datestamps", str(write_file(tmp_path / "r.jsonl", records))],
        env,
        tmp_path,
    )
    # As after an upgrade: some records lack the format, some were rendered by an older
    # version of it. A rebuild must bring both to harvesters that harvest incrementally.
    from records.db import make_engine

    engine = make_engine(database_url)
    with engine.begin() as connection:
        pks = dict(connection.execute(select(Record.local_id, Record.pk)).all())
        missing = [pks[f"article/{i}"] for i in range(0, 300, 3)]
        stale = [pks[f"article/{i}"] for i in range(1, 300, 3)]
        connection.execute(Rendition.__table__.delete().where(Rendition.record_pk.in_(missing)))
        connection.execute(
            update(Rendition).where(Rendition.record_pk.in_(stale)).values(xml=b"<old/>")
        )
    engine.dispose()
    during, after, output = command_across_a_harvest(database_url, tmp_path, ["rebuild"])
    changed = {oai_id(f"article/{i}") for i in range(300) if i % 3 != 2}
    assert "200 record(s) now read differently" in output
    check_nothing_lost(during, after, changed)
    assert set(after.headers) == changed


# --- the mechanism, in-process ------------------------------------------------------------


def _import_now(app, records) -> None:
    """Import as the CLI does: the stamp comes from the store's clock at commit."""
    store = app.extensions["oaipress.store"]
    lines = [json.dumps(r) for r in records]
    with store.transaction() as session:
        import_records(session, lines, app.extensions["oaipress.renderer"])


def _stamps(app) -> dict[str, datetime]:
    with app.extensions["oaipress.store"].session() as session:
        return dict(session.execute(select(Record.local_id, Record.datestamp)).all())


def test_a_write_is_stamped_in_the_future_of_its_commit_on_the_store_clock(app, load):
    store = app.extensions["oaipress.store"]
    with store.session() as session:
        before = database_now(session.connection())
    _import_now(app, [make_record(i, sets=["s:t"]) for i in range(5)])
    with store.session() as session:
        after_commit = database_now(session.connection())
        memberships = set(session.scalars(select(SetMembership.datestamp)))
        provisional = session.scalar(
            select(func.count()).select_from(Record).where(Record.datestamp == PROVISIONAL)
        )
    stamps = set(_stamps(app).values())
    assert len(stamps) == 1  # one write, one datestamp
    (stamp,) = stamps
    assert before < stamp and after_commit < stamp + timedelta(seconds=1)
    assert stamp > after_commit - timedelta(seconds=1)
    assert stamp.microsecond == 0
    assert memberships == {stamp} and provisional == 0


def test_the_stored_header_carries_the_published_datestamp(app, load, oai):
    load([make_record(1, sets=["9999-12-31T23:59:59Z"])], now=Clock(T0))
    identifier = "oai:repo.example.org:article/1"
    root = oai(verb="GetRecord", identifier=identifier, metadataPrefix="oai_dc")
    header = root.find(".//oai:header", NS)
    assert header.findtext("oai:datestamp", namespaces=NS) == "2020-01-01T00:00:00Z"
    # A setSpec that looks like the provisional stamp is left alone.
    assert header.findtext("oai:setSpec", namespaces=NS) == "9999-12-31T23:59:59Z"


def test_a_commit_that_ends_after_its_stamp_is_restamped_in_the_future(app, load):
    load([make_record(i) for i in range(3)], now=Clock(T0))
    store = app.extensions["oaipress.store"]
    new = confirm(store.engine, T0, 3)
    with store.session() as session:
        now = database_now(session.connection())
        headers = session.scalars(select(Record.header_xml)).all()
    assert new > now
    assert set(_stamps(app).values()) == {new}
    assert all(new.strftime("%Y-%m-%dT%H:%M:%SZ").encode() in h for h in headers)


def test_a_commit_before_its_stamp_keeps_it(app, load):
    _import_now(app, [make_record(1)])
    store = app.extensions["oaipress.store"]
    (stamp,) = set(_stamps(app).values())
    assert confirm(store.engine, stamp, 1) == stamp
    assert set(_stamps(app).values()) == {stamp}


def test_publishing_without_provisional_rows_changes_nothing(app, load):
    load([make_record(1)], now=Clock(T0))
    store = app.extensions["oaipress.store"]
    with store.transaction() as session:
        assert publish(session) is None
    assert _stamps(app) == {"article/1": T0}


def test_a_list_start_takes_the_database_clock_on_postgresql(app, database_url, oai, load):
    """One clock (§3.2 responseDate; repository guidelines): on PostgreSQL the responseDate
    that starts a list is the database server's time, as are the writers' stamps."""
    load([make_record(1)], now=Clock(T0))
    repo = app.extensions["oaipress.repository"]
    if database_url.startswith("sqlite"):
        assert repo.list_clock is None  # a local file: the local clock
        return
    seen = []
    original = repo.list_clock

    def spy(connection):
        seen.append(original(connection))
        return seen[-1]

    import dataclasses

    app.extensions["oaipress.repository"] = dataclasses.replace(repo, list_clock=spy)
    root = oai(verb="ListIdentifiers", metadataPrefix="oai_dc")
    ((now, _),) = seen
    assert root.findtext("oai:responseDate", namespaces=NS) == now.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_replica_that_lags_hands_the_request_to_the_primary(app, load, oai, caplog):
    """Simulated lag (tests/test_replica.py runs a real streaming replica)."""
    import dataclasses

    from records.replica import ReplicaBehind

    load([make_record(i) for i in range(5)], now=Clock(T0))
    repo = app.extensions["oaipress.repository"]
    calls = []

    def lagging(connection):
        calls.append(connection)
        raise ReplicaBehind("simulated")

    app.extensions["oaipress.repository"] = dataclasses.replace(repo, list_clock=lagging)
    with caplog.at_level("INFO"):
        root = oai(verb="ListIdentifiers", metadataPrefix="oai_dc")
    assert len(calls) == 1  # the replica was asked once, then the primary answered
    assert len(root.findall(".//oai:header", NS)) == 4  # a full page (page size 4)
    assert "answered by the primary" in caplog.text


def test_resumption_tokens_carry_the_replica_position_and_old_tokens_still_resume(app):
    from oai.protocol.tokens import ListState, TokenCodec

    codec = TokenCodec("s", 60)
    state = ListState("ListRecords", "oai_dc", None, None, T0, None, 0, 10, "0/3000148")
    assert codec.decode(codec.encode(state), "ListRecords") == state
    old = ListState("ListRecords", "oai_dc", None, None, T0, None, 0, 10)
    assert codec.decode(codec.encode(old), "ListRecords").position is None
