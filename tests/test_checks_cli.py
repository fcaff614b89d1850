"""``oaipress check`` as a command: exit statuses, the table, JSON and CSV read back, a file
with bad lines, and a run over the store that saves its findings; once end to end as a
real process."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from oai.checks.cli import exit_status
from oai.cli import cli
from records import findings
from records.db import make_engine
from tests.conftest import example_record, make_record
from tests.servers import oaipress_command
from tests.test_checks_rules import rich_record

CLEAN = rich_record(1)
INFO_ONLY = rich_record(2, title="WATER RIGHTS IN THE FERGANA VALLEY, PART TWO")
WARNINGS = make_record(3)  # no PDF: a warning for Scholar, and information
ERRORS = make_record(4, authors=[])  # no author: an error for Scholar


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> str:
    for name in list(os.environ):
        if name.startswith("OAIPRESS_") and name != "OAIPRESS_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("OAIPRESS_DATABASE_URL", database_url)
    monkeypatch.setenv("OAIPRESS_REPOSITORY_IDENTIFIER", "repo.example.org")
    monkeypatch.setenv("OAIPRESS_SECRET_KEY", "check-secret")
    monkeypatch.chdir(tmp_path)
    return database_url


def oaipress(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def write_jsonl(path: Path, lines: list[dict[str, Any] | str]) -> str:
    text = "".join((x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n"
                   for x in lines)  # fmt: skip
    path.write_text(text, encoding="utf-8")
    return str(path)


def last_run(database_url: str) -> findings.CheckRun | None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return findings.last_run(connection)
    finally:
        engine.dispose()


# --- exit status -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "counts, fail_on, status",
    [
        ({"error": 0, "warning": 0, "info": 0}, "info", 0),
        ({"error": 0, "warning": 0, "info": 5}, "error", 0),
        ({"error": 0, "warning": 0, "info": 5}, "warning", 0),
        ({"error": 0, "warning": 0, "info": 5}, "info", 1),
        ({"error": 0, "warning": 2, "info": 5}, "error", 0),
        ({"error": 0, "warning": 2, "info": 5}, "warning", 1),
        ({"error": 0, "warning": 2, "info": 0}, "info", 1),
        ({"error": 1, "warning": 2, "info": 5}, "error", 2),
        ({"error": 1, "warning": 0, "info": 0}, "info", 2),
        ({"error": 1, "warning": 2, "info": 5}, "never", 0),
    ],
)
def test_exit_status_by_severity_and_fail_on(counts, fail_on, status):
    assert exit_status(counts, fail_on) == status


@pytest.mark.parametrize(
    "record, fail_on, status",
    [
        (CLEAN, "info", 0),
        (INFO_ONLY, "warning", 0),
        (INFO_ONLY, "info", 1),
        (WARNINGS, "error", 0),
        (WARNINGS, "warning", 1),
        (ERRORS, "error", 2),
        (ERRORS, "never", 0),
    ],
)
def test_the_command_exits_by_what_it_found(tmp_path, record, fail_on, status):
    path = write_jsonl(tmp_path / "one.jsonl", [record])
    result = oaipress("check", path, "--fail-on", fail_on)
    assert result.exit_code == status, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--format", "xml"], "Invalid value for '--format'"),
        (["--rules", "openaire,nope"], "unknown rule group(s): nope"),
        (["--set", "not a spec"], "is not a setSpec"),
        (["--fail-on", "sometimes"], "Invalid value for '--fail-on'"),
    ],
)
def test_bad_options_exit_3_with_a_message(tmp_path, args, message):
    path = write_jsonl(tmp_path / "one.jsonl", [CLEAN])
    result = oaipress("check", path, *args)
    assert result.exit_code == 3, result.output
    assert message in result.stderr


def test_a_missing_file_exits_3(tmp_path):
    result = oaipress("check", str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 3
    assert "cannot read" in result.stderr and "Traceback" not in result.output


def test_an_unusable_database_exits_3(monkeypatch):
    monkeypatch.setenv("OAIPRESS_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    result = oaipress("check")
    assert result.exit_code == 3, result.output
    assert "cannot open the database" in result.stderr


def test_help_documents_the_exit_statuses():
    text = oaipress("check", "--help").output
    for line in ("0  nothing at or above --fail-on", "2  errors", "3  the check could not run"):
        assert line in text


# --- output formats --------------------------------------------------------------------------


def test_the_table_groups_findings_by_record_and_ends_with_a_summary(tmp_path):
    path = write_jsonl(tmp_path / "two.jsonl", [example_record(), ERRORS])
    result = oaipress("check", path)
    lines = result.stdout.splitlines()
    assert lines[0] == "article/587"
    assert lines[1].split()[:3] == ["warning", "scholar.pdf-missing", "files"]
    assert "article/4" in lines
    error_line = lines[lines.index("article/4") + 1]
    assert error_line.split()[:2] == ["error", "scholar.authors-missing"]
    assert "Rules that fired:" in lines
    assert lines[-1] == (
        f"2 records checked in {path}, 2 with findings: 1 error, 4 warnings, 5 info"
    )
    # aligned: in every finding row, the field starts in the same column
    rows = [line for line in lines[: lines.index("Rules that fired:")] if line.startswith("  ")]
    starts = set()
    for row in rows:
        _, rule, field = row.split()[:3]
        starts.add(row.index(field, row.index(rule) + len(rule)))
    assert len(rows) == 10 and len(starts) == 1


def test_json_reads_back_with_every_finding_and_its_source(tmp_path):
    path = write_jsonl(tmp_path / "two.jsonl", [example_record(), ERRORS])
    result = oaipress("check", path, "--format", "json")
    data = json.loads(result.stdout)
    assert data["checked"]["records"] == 2
    assert data["checked"]["rules"] == ["oai", "openaire", "scholar", "quality"]
    assert data["summary"] == {"error": 1, "warning": 4, "info": 5}
    assert len(data["findings"]) == 10
    first = data["findings"][0]
    assert set(first) == {"record", "line", "field", "rule", "severity", "message", "source"}
    assert first["record"] == "article/587" and first["line"] == 1
    rules = {rule["id"]: rule for rule in data["rules"]}
    assert rules["scholar.authors-missing"]["count"] == 1
    assert rules["scholar.authors-missing"]["source"].startswith("Google Scholar")
    assert "1 error" in result.stderr  # the summary line goes to stderr


def test_csv_reads_back_one_row_per_finding(tmp_path):
    path = write_jsonl(tmp_path / "two.jsonl", [example_record(), ERRORS])
    out = tmp_path / "findings.csv"
    result = oaipress("check", path, "--format", "csv", "--output", str(out))
    assert result.stdout == ""
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 10
    assert list(rows[0]) == ["record", "line", "field", "rule", "severity", "message", "source"]
    assert {row["severity"] for row in rows} == {"error", "warning", "info"}
    assert [r for r in rows if r["rule"] == "scholar.authors-missing"][0]["record"] == "article/4"


def test_a_file_with_bad_lines_reports_each_line_as_an_error(tmp_path):
    path = write_jsonl(
        tmp_path / "bad.jsonl",
        [CLEAN, "{not json", make_record(5, published="2004-13"), CLEAN, INFO_ONLY],
    )
    result = oaipress("check", path, "--format", "json")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    refused = [f for f in data["findings"] if f["rule"] == "import.refused"]
    assert [(f["record"], f["line"], f["field"]) for f in refused] == [
        ("line 2", 2, "(json)"),
        ("line 3", 3, "published"),
        ("line 4", 4, "id"),  # article/1 again
    ]
    assert all(f["severity"] == "error" for f in refused)
    assert "already appears on line 1" in refused[2]["message"]
    assert data["checked"]["records"] == 2  # the good lines are still checked
    assert any(f["record"] == "article/2" for f in data["findings"])


def test_a_file_check_by_set_and_rule_group(tmp_path):
    other = rich_record(7, sets=["other"], title="A TITLE IN CAPITALS FOR THE OTHER SET")
    path = write_jsonl(tmp_path / "sets.jsonl", [INFO_ONLY, other])
    data = json.loads(oaipress("check", path, "--format", "json", "--set", "cac").stdout)
    assert {f["record"] for f in data["findings"]} == {"article/2"}
    data = json.loads(oaipress("check", path, "--format", "json", "--rules", "scholar").stdout)
    assert data["findings"] == []


def test_standard_input_is_read_with_a_dash(tmp_path):
    result = CliRunner().invoke(cli, ["check", "-"], input=json.dumps(ERRORS) + "\n")
    assert result.exit_code == 2
    assert "checked in standard input" in result.stdout


# --- over the store --------------------------------------------------------------------------


def test_a_store_check_saves_its_findings_and_the_next_run_replaces_them(database, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [CLEAN, INFO_ONLY, WARNINGS, ERRORS])
    assert oaipress("import", path).exit_code == 0
    assert last_run(database) is None
    result = oaipress("check")
    assert result.exit_code == 2
    assert "findings saved" in result.stderr
    run = last_run(database)
    assert run is not None and run.records == 4
    assert run.counts["error"] == 1 and run.by_rule["scholar.authors-missing"] == {"error": 1}
    assert run.by_set["cac"]["info"] == 1  # INFO_ONLY is in cac
    first = run.counts
    oaipress("check")
    again = last_run(database)
    assert again is not None and again.counts == first and again.ran_at >= run.ran_at


def test_a_partial_store_check_does_not_replace_the_saved_findings(database, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [CLEAN, ERRORS])
    oaipress("import", path)
    oaipress("check")
    saved = last_run(database)
    for args in (["--rules", "quality"], ["--set", "cac"], ["--no-save"]):
        result = oaipress("check", *args)
        assert "findings saved" not in result.stderr
    assert last_run(database) == saved
    assert "only a run of every rule over every record" in oaipress("check", "--set", "cac").stderr


def test_a_store_check_by_set_checks_only_its_records(database, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [INFO_ONLY, make_record(8, authors=[], sets=["x"])])
    oaipress("import", path)
    data = json.loads(oaipress("check", "--set", "cac", "--format", "json").stdout)
    assert data["checked"]["records"] == 1
    assert {f["record"] for f in data["findings"]} == {"article/2"}


# --- a real process --------------------------------------------------------------------------


def test_the_console_command_checks_a_file_and_the_store_end_to_end(database_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAIPRESS_")}
    env.update(OAIPRESS_DATABASE_URL=database_url, OAIPRESS_SECRET_KEY="e2e")
    path = write_jsonl(tmp_path / "in.jsonl", [example_record(), ERRORS])

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            oaipress_command() + list(args),
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    checked = run("check", path, "--format", "json")
    assert checked.returncode == 2, checked.stderr
    assert json.loads(checked.stdout)["summary"]["error"] == 1
    assert run("import", path).returncode == 0
    stored = run("check", "--fail-on", "never")
    assert stored.returncode == 0, stored.stderr
    assert "2 records checked in the store" in stored.stdout
    assert "findings saved" in stored.stderr
    assert last_run(database_url) is not None
