"""The ``oaipress`` console script through click's CliRunner, on a throw-away store: a SQLite
file, and the PostgreSQL database of OAIPRESS_TEST_DATABASE_URL when it is set."""

from __future__ import annotations

import json
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from lxml import etree

from oai import cli as cli_module
from oai.cli import cli
from records.aggregator_sets import AGGREGATOR_SETS
from tests.conftest import NS, example_record, make_record
from tests.xmlvalidate import validate_oai_response

RESPONSE_DATE = re.compile(rb"<responseDate>[^<]*</responseDate>")


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> str:
    """A clean environment whose store is empty, on each backend (conftest.database_url)."""
    for name in list(os.environ):
        if name.startswith("OAIPRESS_") and name != "OAIPRESS_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("OAIPRESS_DATABASE_URL", database_url)
    monkeypatch.setenv("OAIPRESS_REPOSITORY_IDENTIFIER", "repo.example.org")
    monkeypatch.setenv("OAIPRESS_SECRET_KEY", "cli-secret")
    monkeypatch.setenv("OAIPRESS_BASE_URL", "http://repo.example.org/oai")
    monkeypatch.chdir(tmp_path)
    return database_url


def oaipress(*args: str, input: str | bytes | None = None, **env: str | None) -> Result:
    """Run the console script; a Python exception escaping it is a test failure."""
    result = CliRunner().invoke(cli, list(args), input=input, env=env or None)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def ok(*args: str, input: str | bytes | None = None, **env: str | None) -> Result:
    result = oaipress(*args, input=input, **env)
    assert result.exit_code == 0, result.output
    return result


def failed(*args: str, input: str | bytes | None = None, **env: str | None) -> Result:
    """A clean failure: exit code 1, an ``Error:`` line, no traceback."""
    result = oaipress(*args, input=input, **env)
    assert result.exit_code == 1, result.output
    assert "Error: " in result.stderr
    assert "Traceback" not in result.output
    return result


def write_jsonl(path: Path, records: list[dict[str, Any] | str]) -> str:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


def dated(i: int, **fields: Any) -> dict[str, Any]:
    """A record with a past datestamp, for --keep-datestamps: List responses leave out the
    current second (the list is frozen at the second before the request)."""
    return make_record(i, datestamp=f"2020-01-01T00:00:{i % 60:02d}Z", **fields)


def exported(**env: str | None) -> list[dict[str, Any]]:
    """The exported records (without the set definition lines that precede them)."""
    result = ok("export", **env)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return [line for line in lines if "id" in line]


def by_id(**env: str | None) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in exported(**env)}


def wait_until_listed(datestamp: str) -> None:
    """Lists show a write once its datestamp, set in the future at commit, has passed."""
    stamp = datetime.strptime(datestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    time.sleep(max(0.0, (stamp - datetime.now(UTC)).total_seconds()) + 1.05)


def get(path: str, **env: str | None) -> etree._Element:
    result = ok("get", path, **env)
    return validate_oai_response(result.stdout_bytes).getroot()


def get_bytes(path: str, **env: str | None) -> bytes:
    """A response without its responseDate, for comparing two stores."""
    return RESPONSE_DATE.sub(b"", ok("get", path, **env).stdout_bytes)


# --- import ------------------------------------------------------------------------------


def test_import_reports_a_summary_on_stderr(database, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [make_record(i) for i in range(3)])
    result = ok("import", path)
    assert result.stdout == ""
    assert result.stderr.strip().endswith(
        f"{path}: 3 added, 0 updated, 0 unchanged, 0 deleted, 0 rejected"
    )
    again = ok("import", path)
    assert "0 added, 0 updated, 3 unchanged, 0 deleted, 0 rejected" in again.stderr
    assert sorted(by_id()) == ["article/0", "article/1", "article/2"]


def test_a_bad_file_exits_1_names_file_line_and_field_and_stores_nothing(database, tmp_path):
    ok("import", write_jsonl(tmp_path / "first.jsonl", [make_record(1)]))
    before = ok("export").stdout
    lines = [make_record(1, title="Changed"), make_record(2), make_record(3, title=None)]
    path = write_jsonl(tmp_path / "bad.jsonl", lines)
    result = failed("import", "--batch-size", "1", path)
    assert f"{path}: line 3: title: is required" in result.stderr
    assert f"Error: 1 bad line(s) in {path}; nothing was stored" in result.stderr
    assert "--skip-invalid" in result.stderr
    assert ok("export").stdout == before


def test_skip_invalid_stores_the_good_lines_and_lists_the_skipped(database, tmp_path):
    lines = [make_record(1), make_record(2, rights={"access": "free"}), make_record(3)]
    path = write_jsonl(tmp_path / "in.jsonl", lines)
    result = ok("import", "--skip-invalid", path)
    assert f"{path}: skipped line 2: rights.access: " in result.stderr
    assert "2 added, 0 updated, 0 unchanged, 0 deleted, 1 rejected" in result.stderr
    assert sorted(by_id()) == ["article/1", "article/3"]


def test_invalid_json_is_reported_with_its_line(database, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [make_record(1), '{"id": "x", ', "NaN"])
    result = failed("import", path)
    assert f"{path}: line 2: (json): invalid JSON: " in result.stderr
    assert f"{path}: line 3: (json): invalid JSON: " in result.stderr
    assert exported() == []


def test_bytes_that_are_not_utf8_are_reported_with_their_line(database, tmp_path):
    path = tmp_path / "latin1.jsonl"
    good = json.dumps(make_record(1)).encode()
    bad = json.dumps(make_record(2, title="Caf\u00e9"), ensure_ascii=False).encode("latin-1")
    path.write_bytes(good + b"\n" + bad + b"\n")
    result = failed("import", str(path))
    assert re.search(r"line 2: \(encoding\): not UTF-8 at byte \d+", result.stderr)
    assert exported() == []


def test_characters_xml_cannot_carry_are_reported_with_the_field(database, tmp_path):
    line = json.dumps(make_record(1)).replace('"Article number 1"', '"A \\ud800 B"')
    path = write_jsonl(tmp_path / "in.jsonl", [line])
    result = failed("import", path)
    assert "line 1: title: character U+D800" in result.stderr


def test_import_reads_standard_input(database):
    lines = "".join(json.dumps(make_record(i)) + "\n" for i in range(2))
    result = ok("import", "-", input=lines.encode())
    assert "-: 2 added" in result.stderr
    assert len(exported()) == 2
    bad = failed("import", "-", input=b'{"id": "z"}\n')
    assert "-: line 1: url: is required" in bad.stderr


def test_many_bad_lines_are_summarised(database, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", ["{"] * 105)
    result = failed("import", "--jobs", "1", path)
    assert result.stderr.count(": (json): invalid JSON") == 100
    assert f"{path}: … and 5 more bad line(s)" in result.stderr
    assert "Error: 105 bad line(s)" in result.stderr


def test_import_with_worker_processes_reports_and_stores_like_one_process(database, tmp_path):
    lines = [make_record(i) for i in range(12)]
    lines[9] = make_record(9, published="2021-02-30")
    path = write_jsonl(tmp_path / "in.jsonl", lines)
    result = failed("import", "--jobs", "2", "--batch-size", "4", path)
    assert f"{path}: line 10: published: '2021-02-30' is not a real date" in result.stderr
    assert exported() == []
    result = ok("import", "--jobs", "2", "--batch-size", "4", "--skip-invalid", path)
    assert "11 added, 0 updated, 0 unchanged, 0 deleted, 1 rejected" in result.stderr
    again = ok("import", "--jobs", "2", "--batch-size", "4", "--skip-invalid", path)
    assert "0 added, 0 updated, 11 unchanged, 0 deleted, 1 rejected" in again.stderr


def test_batch_size_is_bounded_by_what_postgresql_accepts(database, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [make_record(1)])
    assert "1 added" in ok("import", "--batch-size", "10000", path).stderr
    refused = oaipress("import", "--batch-size", "100000", path)
    assert refused.exit_code == 2
    assert "1<=x<=10000" in refused.stderr


def test_import_of_a_missing_file_is_a_usage_error(database, tmp_path):
    result = oaipress("import", str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_an_empty_file_imports_nothing(database, tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    assert (
        "0 added, 0 updated, 0 unchanged, 0 deleted, 0 rejected" in ok("import", str(path)).stderr
    )


# --- export and re-import ----------------------------------------------------------------


def corpus() -> list[dict[str, Any]]:
    """A mix of every kind of line, each with a datestamp (imported with --keep-datestamps)."""
    records: list[dict[str, Any]] = [
        dict(example_record(), datestamp="2019-06-01T10:00:00Z"),
        make_record(
            1,
            datestamp="2020-01-01T00:00:00Z",
            abstract="<p>HTML <b>abstract</b> &amp; more</p>",
            keywords=["<i>k1</i>", "k2"],
            sets=["cac:ART", "other"],
            doi="https://doi.org/10.1000/abc",
            journal={"title": "J", "issn": "0378-5955", "publisher": "P"},
            authors=[
                {"family": "Carberry", "given": "J.", "orcid": "0000000218250097"},
                {"family": "Ünïcödé", "affiliation": "Univ — “quoted”"},
            ],
            files=[{"url": "https://x.org/1.pdf", "mime_type": "application/pdf", "label": "PDF"}],
            references=["Ref <one>", "Ref two"],
            extra={"note": "fields of one's own survive", "custom": {"nested": [1, None, "x"]}},
        ),
        make_record(
            2,
            datestamp="2020-01-01T00:00:00Z",
            rights={"access": "embargoed", "embargo_until": "2099-01-01", "year": 2020},
            published="2020-02",
            sets=["cac"],
        ),
        make_record(
            3,
            datestamp="2020-01-02T00:00:00Z",
            rights={
                "access": "open",
                "license": "http://creativecommons.org/licenses/by/4.0/deed.en",
            },
        ),
        {"id": "gone/1", "deleted": True, "sets": ["cac"], "datestamp": "2020-01-03T00:00:00Z"},
        {"id": "gone/2", "deleted": True, "datestamp": "2020-01-04T00:00:00Z"},
    ]
    records += [
        make_record(i, datestamp=f"2021-03-{i:02d}T12:00:00Z", sets=["s:t:u"] if i % 2 else [])
        for i in range(4, 12)
    ]
    return records


def test_export_then_import_keeping_datestamps_reproduces_the_store(database, tmp_path):
    ok("import", "--keep-datestamps", write_jsonl(tmp_path / "corpus.jsonl", corpus()))
    ok(
        "import",
        "--keep-datestamps",
        write_jsonl(
            tmp_path / "del.jsonl",
            [{"id": "article/5", "deleted": True, "datestamp": "2022-01-01T00:00:00Z"}],
        ),
    )
    first = ok("export", str(tmp_path / "a.jsonl"))
    assert "exported 14 record(s)" in first.stderr
    a = (tmp_path / "a.jsonl").read_bytes()

    other = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    imported = ok(
        "import", "--keep-datestamps", str(tmp_path / "a.jsonl"), OAIPRESS_DATABASE_URL=other
    )
    assert "11 added, 0 updated, 0 unchanged, 3 deleted, 0 rejected" in imported.stderr
    ok("export", str(tmp_path / "b.jsonl"), OAIPRESS_DATABASE_URL=other)
    assert (tmp_path / "b.jsonl").read_bytes() == a

    lines = [json.loads(line) for line in a.decode("utf-8").splitlines()]
    specs = [line["set"] for line in lines if "set" in line]
    assert specs[:2] == ["cac", "cac:ART"]
    assert all("set" in line for line in lines[: len(specs)])  # before every record
    lines = [line for line in lines if "id" in line]
    one = next(line for line in lines if line["id"] == "article/1")
    assert one["extra"] == {
        "note": "fields of one's own survive",
        "custom": {"nested": [1, None, "x"]},
    }
    assert one["abstract"] == "HTML abstract & more"
    assert one["authors"][0]["orcid"] == "0000-0002-1825-0097"

    for path in (
        "/oai?verb=ListRecords&metadataPrefix=oai_dc",
        "/oai?verb=ListIdentifiers&metadataPrefix=oai_dc",
        "/oai?verb=ListRecords&metadataPrefix=oai_dc&set=cac",
        "/oai?verb=ListIdentifiers&metadataPrefix=oai_dc&from=2020-01-02&until=2021-03-06",
    ):
        assert get_bytes(path) == get_bytes(path, OAIPRESS_DATABASE_URL=other), path
    for line in lines:
        identifier = f"oai:repo.example.org:{line['id']}"
        path = f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier={identifier}"
        assert get_bytes(path) == get_bytes(path, OAIPRESS_DATABASE_URL=other), path

    listed = get("/oai?verb=ListRecords&metadataPrefix=oai_dc", OAIPRESS_DATABASE_URL=other)
    stamps = {
        h.findtext("oai:identifier", namespaces=NS): h.findtext("oai:datestamp", namespaces=NS)
        for h in listed.iterfind(".//oai:header", NS)
    }
    assert stamps["oai:repo.example.org:article/587"] == "2019-06-01T10:00:00Z"
    assert stamps["oai:repo.example.org:article/5"] == "2022-01-01T00:00:00Z"
    assert {line["id"]: line["datestamp"] for line in lines} == {
        k.removeprefix("oai:repo.example.org:"): v for k, v in stamps.items()
    }


def test_reimporting_an_export_changes_nothing(database, tmp_path):
    ok("import", write_jsonl(tmp_path / "corpus.jsonl", corpus()))
    ok("delete", "article/4")
    ok("export", str(tmp_path / "a.jsonl"))
    again = ok("import", str(tmp_path / "a.jsonl"))
    assert "0 added, 0 updated, 14 unchanged, 0 deleted, 0 rejected" in again.stderr
    kept = ok("import", "--keep-datestamps", str(tmp_path / "a.jsonl"))
    assert "0 added, 0 updated, 14 unchanged" in kept.stderr
    ok("export", str(tmp_path / "b.jsonl"))
    assert (tmp_path / "b.jsonl").read_bytes() == (tmp_path / "a.jsonl").read_bytes()


def test_export_to_stdout_is_json_lines_with_datestamps(database, tmp_path):
    ok("import", write_jsonl(tmp_path / "in.jsonl", [example_record()]))
    result = ok("export")
    assert result.stderr.strip() == "exported 1 record(s)"
    set_line, line = result.stdout.splitlines()  # the named sets come first
    assert json.loads(set_line) == {"set": "cac", "name": "cac", "description": None}
    record = json.loads(line)
    assert record["id"] == "article/587"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["datestamp"])
    assert "’" in line  # UTF-8, not \u escapes


# --- delete, set, rebuild ----------------------------------------------------------------


def test_delete_makes_a_tombstone(database, tmp_path):
    ok("import", write_jsonl(tmp_path / "in.jsonl", [make_record(1, sets=["s"]), make_record(2)]))
    result = ok("delete", "article/1")
    assert result.stderr.strip() == "deleted article/1"
    assert by_id()["article/1"] == {
        "id": "article/1",
        "deleted": True,
        "sets": ["s"],
        "datestamp": by_id()["article/1"]["datestamp"],
    }
    root = get(
        "/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:repo.example.org:article/1"
    )
    assert root.find(".//oai:header", NS).get("status") == "deleted"
    assert by_id()["article/2"]["deleted"] is False


def test_delete_of_an_unknown_id_is_an_error(database, tmp_path):
    ok("import", write_jsonl(tmp_path / "in.jsonl", [make_record(1)]))
    result = failed("delete", "article/404")
    assert "no record has the id 'article/404'" in result.stderr


def test_set_names_and_describes_a_set(database, tmp_path):
    ok("import", write_jsonl(tmp_path / "in.jsonl", [make_record(1, sets=["cac:ART"])]))
    result = ok("set", "cac", "Central Asia and the Caucasus", "--description", "A journal.")
    assert result.stderr.strip() == "set cac: Central Asia and the Caucasus"
    ok("set", "new", "A set with no records yet")
    root = get("/oai?verb=ListSets")
    sets = {
        s.findtext("oai:setSpec", namespaces=NS): (
            s.findtext("oai:setName", namespaces=NS),
            s.xpath(".//dc:description/text()", namespaces=NS),
        )
        for s in root.iterfind(".//oai:set", NS)
    }
    assert sets == {
        "cac": ("Central Asia and the Caucasus", ["A journal."]),
        "cac:ART": ("cac:ART", []),
        "new": ("A set with no records yet", []),
        # computed from the open-access record (records.aggregator_sets)
        "openaire": ("OpenAIRE", [AGGREGATOR_SETS["openaire"][1]]),
    }
    ok("set", "cac", "Renamed")
    names = {
        s.findtext("oai:setSpec", namespaces=NS): s.findtext("oai:setName", namespaces=NS)
        for s in get("/oai?verb=ListSets").iterfind(".//oai:set", NS)
    }
    assert names["cac"] == "Renamed"


@pytest.mark.parametrize("spec", ["has space", "a:", "é"])
def test_set_refuses_a_bad_spec(database, spec):
    assert "is not a setSpec" in failed("set", spec, "Name").stderr


def test_rebuild_renders_every_record_and_keeps_datestamps(database, tmp_path):
    ok("import", write_jsonl(tmp_path / "in.jsonl", [make_record(i) for i in range(3)]))
    ok("delete", "article/0")
    before = exported()
    result = ok("rebuild")
    assert result.stderr.strip() == "rendered 3 record(s)"
    assert exported() == before


def test_a_new_repository_identifier_needs_a_rebuild(database, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [dated(i) for i in range(3)])
    ok("import", "--keep-datestamps", path)
    before = exported()
    other = {"OAIPRESS_REPOSITORY_IDENTIFIER": "other.example"}
    more = write_jsonl(tmp_path / "more.jsonl", [make_record(9)])
    for args in (("import", more), ("delete", "article/1")):
        result = failed(*args, **other)
        assert "the store was rendered for 'oai:repo.example.org'" in result.stderr
        assert "'oai:other.example'" in result.stderr
        assert "run `oaipress rebuild` first" in result.stderr
    assert exported() == before  # the refused commands changed nothing
    stale = oaipress("get", "/oai?verb=Identify", **other)
    assert stale.exit_code == 1 and "HTTP 503" in stale.stderr
    assert b"oaipress rebuild" in stale.stdout_bytes

    ok("rebuild", **other)
    # New identifiers are new headers: every record is disseminated anew, under a new
    # datestamp (records.stamping), so incremental harvesters fetch them.
    after = exported(**other)
    assert [{**r, "datestamp": None} for r in after] == [{**r, "datestamp": None} for r in before]
    assert all(new["datestamp"] > old["datestamp"] for new, old in zip(after, before, strict=True))
    wait_until_listed(max(r["datestamp"] for r in after))
    root = get("/oai?verb=ListIdentifiers&metadataPrefix=oai_dc", **other)
    assert sorted(root.xpath("//oai:identifier/text()", namespaces=NS)) == [
        f"oai:other.example:article/{i}" for i in range(3)
    ]
    ok("import", more, **other)
    # ... and now the old identifier is the stale one.
    assert "run `oaipress rebuild` first" in failed("import", more).stderr


def test_serve_checks_the_store_before_starting_workers(database, tmp_path, monkeypatch):
    started: list[tuple[Any, ...]] = []
    monkeypatch.setattr(cli_module, "serve_app", lambda *args: started.append(args))
    ok("import", write_jsonl(tmp_path / "in.jsonl", [make_record(1)]))
    failed("serve", OAIPRESS_REPOSITORY_IDENTIFIER="other.example")
    assert started == []
    ok("serve", "--port", "8123", "--workers", "3")
    (call,) = started
    settings, host, port, workers, threads = call[:5]
    assert (host, port, workers, threads) == ("127.0.0.1", 8123, 3, 4)
    assert settings["OAIPRESS_DATABASE_URL"] == database


# --- get ---------------------------------------------------------------------------------


def test_get_answers_one_request(database):
    root = get("/oai?verb=Identify")
    assert root.findtext(".//oai:repositoryName", namespaces=NS) == "oaipress repository"
    assert root.findtext(".//oai:baseURL", namespaces=NS) == "http://repo.example.org/oai"
    assert root.xpath("//id:repositoryIdentifier/text()", namespaces=NS) == ["repo.example.org"]


def test_get_prints_protocol_errors_and_fails_on_http_errors(database):
    root = get("/oai?verb=Nonsense")
    assert root.find("oai:error", NS).get("code") == "badVerb"
    assert "HTTP 404" in failed("get", "/elsewhere").stderr


# --- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("OAIPRESS_LIST_RECORDS_PAGE_SIZE", "abc", "must be a whole number, not 'abc'"),
        ("OAIPRESS_LIST_IDENTIFIERS_PAGE_SIZE", "0", "must be positive, not 0"),
        ("OAIPRESS_TOKEN_TTL", "1.5", "must be a whole number"),
    ],
)
@pytest.mark.parametrize(
    "args",
    [
        ("get", "/oai?verb=Identify"),
        ("import", "-"),
        ("export",),
        ("delete", "x"),
        ("set", "s", "S"),
        ("rebuild",),
        ("serve",),
    ],
    ids=lambda args: args[0],
)
def test_bad_configuration_is_a_clean_error(database, name, value, message, args):
    result = failed(*args, input=b"", **{name: value})
    assert f"Error: {name} {message}" in result.stderr


@pytest.mark.parametrize(
    "url", ["sqlite:////nonexistent-directory/store.sqlite", "nosuchdriver://host/db"]
)
@pytest.mark.parametrize(
    "args", [("get", "/oai?verb=Identify"), ("export",), ("rebuild",)], ids=lambda a: a[0]
)
def test_an_unusable_database_is_a_clean_error(database, url, args):
    result = failed(*args, OAIPRESS_DATABASE_URL=url)
    assert f"cannot open the database {url}" in result.stderr


def test_a_toml_configuration_file(database, tmp_path):
    config = tmp_path / "oaipress.toml"
    config.write_text(
        'repository_name = "From TOML"\n'
        'OAIPRESS_ADMIN_EMAIL = "toml@example.org"\n'
        "list_identifiers_page_size = 2\n"
        f'database_url = "sqlite:///{tmp_path / "toml.sqlite"}"\n',
        encoding="utf-8",
    )
    env = {"OAIPRESS_CONFIG": str(config), "OAIPRESS_DATABASE_URL": None}
    path = write_jsonl(tmp_path / "in.jsonl", [dated(i) for i in range(3)])
    ok("import", "--keep-datestamps", path, **env)
    assert (tmp_path / "toml.sqlite").exists()
    root = get("/oai?verb=Identify", **env)
    assert root.findtext(".//oai:repositoryName", namespaces=NS) == "From TOML"
    assert root.findtext(".//oai:adminEmail", namespaces=NS) == "toml@example.org"
    page = get("/oai?verb=ListIdentifiers&metadataPrefix=oai_dc", **env)
    assert len(page.findall(".//oai:header", NS)) == 2
    assert page.find(".//oai:resumptionToken", NS).get("completeListSize") == "3"
    # The environment overrides the file.
    root = get("/oai?verb=Identify", OAIPRESS_REPOSITORY_NAME="From env", **env)
    assert root.findtext(".//oai:repositoryName", namespaces=NS) == "From env"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("nonsense = 1\n", "unknown setting 'nonsense'"),
        ("repository_name = \n", "cannot read OAIPRESS_CONFIG"),
        ('list_records_page_size = "many"\n', "must be a whole number"),
        (None, "cannot read OAIPRESS_CONFIG"),
    ],
)
def test_a_bad_toml_configuration_is_a_clean_error(database, tmp_path, content, message):
    config = tmp_path / "oaipress.toml"
    if content is not None:
        config.write_text(content, encoding="utf-8")
    result = failed("export", OAIPRESS_CONFIG=str(config))
    assert message in result.stderr


def test_a_repository_identifier_that_is_not_a_domain_name_is_refused(tmp_path, monkeypatch):
    """oai-identifier.xsd: repositoryIdentifier is a domain name; anything else is refused."""
    from click.testing import CliRunner

    from oai.cli import cli

    monkeypatch.setenv("OAIPRESS_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    monkeypatch.setenv("OAIPRESS_REPOSITORY_IDENTIFIER", "localhost")
    result = CliRunner().invoke(cli, ["get", "/oai?verb=Identify"])
    assert result.exit_code == 1
    assert "must be a domain name" in result.output


# --- set names survive export and import (issue 11) ---------------------------------------


def _listed_sets() -> dict[str, tuple[str, list[str]]]:
    return {
        s.findtext("oai:setSpec", namespaces=NS): (
            s.findtext("oai:setName", namespaces=NS),
            s.xpath(".//dc:description/text()", namespaces=NS),
        )
        for s in get("/oai?verb=ListSets").iterfind(".//oai:set", NS)
    }


def test_export_then_import_keeps_set_names_and_descriptions(database, tmp_path, monkeypatch):
    ok(
        "import",
        "--keep-datestamps",
        write_jsonl(tmp_path / "in.jsonl", [dated(1, sets=["cac:ART"])]),
    )
    ok("set", "cac", "Central Asia and the Caucasus", "--description", "A journal since 1998.")
    ok("set", "empty", "A set with no records yet")
    before = _listed_sets()
    exported = ok("export").stdout
    first = [json.loads(line) for line in exported.splitlines()[:3]]
    assert first == [
        {
            "set": "cac",
            "name": "Central Asia and the Caucasus",
            "description": "A journal since 1998.",
        },
        {"set": "cac:ART", "name": "cac:ART", "description": None},
        {"set": "empty", "name": "A set with no records yet", "description": None},
    ]
    other = f"sqlite:///{tmp_path / 'other.sqlite'}"
    monkeypatch.setenv("OAIPRESS_DATABASE_URL", other)
    ok("import", "--keep-datestamps", "-", input=exported)
    assert _listed_sets() == before
    assert ok("export").stdout == exported
