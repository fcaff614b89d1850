"""The `oaipress validate` console command, end to end against a real `oaipress serve`,
and the pieces of the bounded client that a loopback oaipress never exercises."""

from __future__ import annotations

import json
import subprocess
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from oai.cli import cli
from oai.validator.http import Client, _decode, parse_retry_after
from tests.broken_servers import serve
from tests.conftest import EXAMPLE
from tests.htmlcheck import assert_valid_page
from tests.servers import environment, oaipress_command, run, serving


def test_validate_a_real_oaipress_serve(database_url: str, tmp_path: Path) -> None:
    env = environment(database_url)
    run(["import", str(EXAMPLE)], env, tmp_path)
    with serving(env, tmp_path, "validate") as url:
        done = subprocess.run(
            oaipress_command()
            + ["validate", url, "--delay", "0", "--max-requests", "80", "--timeout", "20"]
            + ["--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html")],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Summary: 0 fail, 0 warn" in done.stdout
    assert "\x1b[" not in done.stdout  # not a tty: no colour
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["base_url"] == url and data["requests"] <= 80
    assert_valid_page((tmp_path / "r.html").read_text(encoding="utf-8"))


def test_help_documents_the_budget_and_the_exit_statuses() -> None:
    result = CliRunner().invoke(cli, ["validate", "--help"])
    assert result.exit_code == 0
    for text in ("--max-requests", "--delay", "--timeout", "--json", "--html", "Exit status"):
        assert text in result.output
    assert "1  warnings" in result.output and "2  at least one failure" in result.output


@pytest.mark.parametrize("url", ["ftp://example.org/oai", "example.org/oai", "http:///oai"])
def test_a_url_that_is_not_http_is_a_usage_error(url: str) -> None:
    result = CliRunner().invoke(cli, ["validate", url])
    assert result.exit_code == 2
    assert "not an http(s) URL" in result.output
    assert "Traceback" not in result.output


def test_an_endpoint_that_does_not_answer_fails_once_and_stops(unused_port_url: str) -> None:
    result = CliRunner().invoke(cli, ["validate", unused_port_url, "--delay", "0"])
    assert result.exit_code == 2
    assert "FAIL  identify.response" in result.output
    assert "0 fail" not in result.output
    assert "the endpoint gave no HTTP answer" in result.output


@pytest.fixture
def unused_port_url() -> str:
    from tests.servers import free_port

    return f"http://127.0.0.1:{free_port()}/oai"


def test_redirects_to_another_host_are_not_followed() -> None:
    def app(environ, start_response):
        start_response("302 Found", [("Location", "http://elsewhere.example/oai")])
        return [b""]

    with serve(app) as (url, recorder):
        client = Client(url, delay=0)
        response = client.get([("verb", "Identify")])
    assert response.status == 0 and "another host" in (response.error or "")
    assert len(recorder.requests) == 1


def test_same_host_redirects_count_against_the_budget() -> None:
    def app(environ, start_response):
        start_response("302 Found", [("Location", "/oai?verb=Identify")])
        return [b""]

    with serve(app) as (url, recorder):
        client = Client(url, delay=0, max_requests=10)
        response = client.get([("verb", "Identify")])
    assert "redirects" in (response.error or "")
    assert client.sent == len(recorder.requests) == 4


def test_retry_after_forms() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


def test_deflate_is_read_zlib_wrapped_or_raw() -> None:
    body = b"<OAI-PMH/>" * 10
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    assert _decode(zlib.compress(body), "deflate") == body
    assert _decode(raw.compress(body) + raw.flush(), "deflate") == body
