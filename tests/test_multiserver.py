"""A harvest started on one server continues on another (§3.5: tokens hold no server state).

Two real `oaipress serve` processes on two loopback ports share one database and one
secret; the list is harvested alternately from both, and one of them is stopped half-way.
"""

from __future__ import annotations

import json

import requests
from lxml import etree

from tests.conftest import NS, make_record
from tests.servers import environment, run, serving
from tests.xmlvalidate import validate_oai_response

PAGE = 5


def _page(url: str, **params: str) -> tuple[list[str], str | None]:
    response = requests.get(url, params=params, timeout=30)
    assert response.status_code == 200
    root = validate_oai_response(response.content).getroot()
    ids = root.xpath("//oai:header/oai:identifier/text()", namespaces=NS)
    token = root.find(".//oai:resumptionToken", NS)
    assert root.find("oai:error", NS) is None, etree.tostring(root)
    return ids, (token.text if token is not None else None)


def test_a_harvest_moves_between_two_servers_and_survives_one_stopping(database_url, tmp_path):
    """§3.5.1: the same token is honoured by any server of the repository."""
    env = environment(database_url)
    env["OAIPRESS_LIST_RECORDS_PAGE_SIZE"] = str(PAGE)
    records = [
        make_record(i, datestamp=f"2021-03-0{1 + i % 3}T10:00:00Z", sets=["a"] if i % 2 else [])
        for i in range(23)
    ]
    data = tmp_path / "records.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    run(["import", "--keep-datestamps", str(data)], env, tmp_path)

    seen: list[str] = []
    with serving(env, tmp_path, "b") as server_b:
        with serving(env, tmp_path, "a") as server_a:
            ids, token = _page(server_a, verb="ListRecords", metadataPrefix="oai_dc")
            seen += ids
            ids, token = _page(server_b, verb="ListRecords", resumptionToken=token)
            seen += ids
            ids, token = _page(server_a, verb="ListRecords", resumptionToken=token)
            seen += ids
        # server A is gone: B carries on with A's token to the end of the list
        for _ in range(10):
            if not token:
                break
            ids, token = _page(server_b, verb="ListRecords", resumptionToken=token)
            seen += ids
    assert token == "" or token is None
    assert len(seen) == len(set(seen)) == 23
    assert sorted(seen) == sorted(f"oai:harvest.example.org:article/{i}" for i in range(23))
