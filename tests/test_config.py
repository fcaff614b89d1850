"""Every setting is checked at start-up: a bad one is a one-line error that names it.

Before, ``repository_name = 42`` made every Identify an HTTP 500, ``admin_email`` as a
list or ``not-an-email`` gave an Identify that failed the schema, ``page_size = true``
or ``2.9`` passed, and a non-UTF-8 file or a garbage URL ended in a traceback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from oai import create_app
from oai.cli import cli
from oai.config import DEFAULTS, ConfigError, check_settings, load_settings, masked_url
from tests.conftest import NS, OAIClient

ROOT = Path(__file__).resolve().parents[1]
STOP_WITHIN = 30.0  # seconds: generous, the machine is shared


def from_toml(tmp_path: Path, text: str | bytes) -> dict[str, Any]:
    config = tmp_path / "oaipress.toml"
    if isinstance(text, bytes):
        config.write_bytes(text)
    else:
        config.write_text(text, encoding="utf-8")
    return load_settings({"OAIPRESS_CONFIG": str(config)})


def refused(tmp_path: Path, text: str | bytes) -> str:
    with pytest.raises(ConfigError) as error:
        from_toml(tmp_path, text)
    message = str(error.value)
    assert "\n" not in message
    return message


# --- the TOML file ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("repository_name = 42", "OAIPRESS_REPOSITORY_NAME must be text, not 42"),
        ('repository_name = ""', "OAIPRESS_REPOSITORY_NAME must not be empty"),
        ('repository_name = "a\\u0001b"', "OAIPRESS_REPOSITORY_NAME contains U+0001"),
        ("repository_name = [1]", "OAIPRESS_REPOSITORY_NAME must be text"),
        ('admin_email = "not-an-email"', "OAIPRESS_ADMIN_EMAIL: 'not-an-email' is not an e-mail"),
        ('admin_email = "a@example.org, b"', "OAIPRESS_ADMIN_EMAIL: 'b' is not an e-mail"),
        ("admin_email = [1, 2]", "OAIPRESS_ADMIN_EMAIL must be e-mail addresses"),
        ("admin_email = []", "OAIPRESS_ADMIN_EMAIL must name at least one e-mail address"),
        ('admin_email = ", "', "OAIPRESS_ADMIN_EMAIL must name at least one e-mail address"),
        ("list_records_page_size = true", "OAIPRESS_LIST_RECORDS_PAGE_SIZE must be a whole number"),
        ("list_records_page_size = 2.9", "must be a whole number, not 2.9"),
        ("list_records_page_size = 3.0", "must be a whole number, not 3.0"),
        ('list_sets_page_size = "many"', "OAIPRESS_LIST_SETS_PAGE_SIZE must be a whole number"),
        ("list_identifiers_page_size = 0", "must be positive, not 0"),
        ("list_identifiers_page_size = 1000000000", "must be at most 100000"),
        ("token_ttl = 99999999999999", "OAIPRESS_TOKEN_TTL must be at most"),
        ("proxy_count = -1", "OAIPRESS_PROXY_COUNT must be 0 or more, not -1"),
        ("retry_after = false", "OAIPRESS_RETRY_AFTER must be a whole number"),
        ("secret_key = 12345", "OAIPRESS_SECRET_KEY must be text, not 12345"),
        ('metadata_license = "CC0"', "OAIPRESS_METADATA_LICENSE must be an absolute URI"),
        ("repository_identifier = 7", "OAIPRESS_REPOSITORY_IDENTIFIER must be text"),
        ('repository_identifier = "localhost"', "must be a domain name you control"),
        ("database_url = 5", "OAIPRESS_DATABASE_URL must be a database URL, not 5"),
        ('database_url = ""', "OAIPRESS_DATABASE_URL is not a database URL"),
        ('read_database_url = "not a url"', "OAIPRESS_READ_DATABASE_URL is not a database URL"),
        (
            'read_database_url = "nosuch://h/db"',
            "OAIPRESS_READ_DATABASE_URL: cannot open the database nosuch://h/db",
        ),
        ("base_url = 1", "OAIPRESS_BASE_URL must be text"),
        ("[oaipress]\nrepository_name = 'x'", "unknown setting 'oaipress'"),
    ],
)
def test_a_bad_setting_in_the_file_is_refused_by_name(tmp_path, toml, message):
    assert message in refused(tmp_path, toml)


def test_a_file_that_is_not_utf8_is_a_one_line_error(tmp_path):
    message = refused(tmp_path, 'repository_name = "Revista Cient\xedfica"'.encode("latin-1"))
    assert message.startswith("cannot read OAIPRESS_CONFIG ")
    assert message.endswith("not UTF-8 at byte 32")


def test_a_directory_is_not_a_configuration_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read OAIPRESS_CONFIG"):
        load_settings({"OAIPRESS_CONFIG": str(tmp_path)})


def test_good_settings_from_the_file_keep_their_types(tmp_path):
    settings = from_toml(
        tmp_path,
        'repository_name = "Revista Científica"\n'
        'admin_email = ["editor@example.org", "oai@example.org"]\n'
        'list_records_page_size = "50"\n'
        "list_sets_page_size = 7\n"
        "proxy_count = 0\n"
        'base_url = ""\n'
        'read_database_url = "postgresql+psycopg://replica.example.org/oai"\n',
    )
    assert settings["OAIPRESS_REPOSITORY_NAME"] == "Revista Científica"
    assert settings["OAIPRESS_ADMIN_EMAIL"] == "editor@example.org, oai@example.org"
    assert settings["OAIPRESS_LIST_RECORDS_PAGE_SIZE"] == 50
    assert settings["OAIPRESS_LIST_SETS_PAGE_SIZE"] == 7
    assert settings["OAIPRESS_PROXY_COUNT"] == 0
    assert settings["OAIPRESS_BASE_URL"] is None  # empty is unset, as in the environment


# --- the environment ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("OAIPRESS_BASE_URL", "repo.example.org/oai", "must be an http(s) URL"),
        ("OAIPRESS_BASE_URL", "ftp://repo.example.org/oai", "must be an http(s) URL"),
        ("OAIPRESS_BASE_URL", "http:///oai", "must be an http(s) URL"),
        ("OAIPRESS_BASE_URL", "http://repo.example.org:port/oai", "must be an http(s) URL"),
        ("OAIPRESS_BASE_URL", "https://repo.example.org/oai?verb=Identify", "query or a fragment"),
        ("OAIPRESS_BASE_URL", "https://repo.example.org/oai?", "query or a fragment"),
        ("OAIPRESS_BASE_URL", "https://repo.example.org/oai#top", "query or a fragment"),
        ("OAIPRESS_BASE_URL", "https://repo.example.org/o ai", "must not contain spaces"),
        ("OAIPRESS_READ_DATABASE_URL", "garbage", "OAIPRESS_READ_DATABASE_URL is not a database"),
        ("OAIPRESS_DATABASE_URL", "postgresql://u:pw@h:port/db", "is not a database URL"),
        ("OAIPRESS_TOKEN_TTL", "1.5", "must be a whole number, not '1.5'"),
        ("OAIPRESS_TOKEN_TTL", "1_000", "must be a whole number, not '1_000'"),
        ("OAIPRESS_PROXY_COUNT", "true", "must be a whole number, not 'true'"),
        ("OAIPRESS_ADMIN_EMAIL", "admin", "'admin' is not an e-mail address"),
    ],
)
def test_a_bad_setting_in_the_environment_is_refused_by_name(name, value, message):
    with pytest.raises(ConfigError) as error:
        load_settings({name: value})
    assert str(error.value).startswith(name)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_numbers_from_the_environment_are_text_made_whole_numbers():
    settings = load_settings(
        {"OAIPRESS_LIST_RECORDS_PAGE_SIZE": " 25 ", "OAIPRESS_RETRY_AFTER": "0"}
    )
    assert settings["OAIPRESS_LIST_RECORDS_PAGE_SIZE"] == 25
    assert settings["OAIPRESS_RETRY_AFTER"] == 0


def test_a_password_in_a_bad_database_url_is_not_repeated():
    with pytest.raises(ConfigError) as error:
        load_settings({"OAIPRESS_READ_DATABASE_URL": "postgresql://u:s3cret@h:port/db"})
    assert "s3cret" not in str(error.value)
    assert "u:***@h" in str(error.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://oai:s3cret@db/x", "postgresql+psycopg://oai:***@db/x"),
        ("postgresql://oai:p%40ss@db:5432/x", "postgresql://oai:***@db:5432/x"),
        ("postgresql://oai@db/x", "postgresql://oai@db/x"),
        ("sqlite:///store.sqlite", "sqlite:///store.sqlite"),
        ("postgresql://oai:s3cret@db:port/x", "postgresql://oai:***@db:port/x"),  # unparseable
    ],
)
def test_masked_url(url, shown):
    assert masked_url(url) == shown


# --- check_settings: shared by the CLI and create_app -------------------------------------


def test_every_setting_is_checked():
    """A new setting without a check would fail here, not in a harvester's face."""
    from oai.config import _CHECKS

    assert set(_CHECKS) == set(DEFAULTS)


def test_checking_twice_changes_nothing():
    settings = load_settings({"OAIPRESS_ADMIN_EMAIL": "a@example.org,b@example.org"})
    assert check_settings(settings) == settings


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OAIPRESS_REPOSITORY_NAME", 42),
        ("OAIPRESS_ADMIN_EMAIL", "not-an-email"),
        ("OAIPRESS_LIST_RECORDS_PAGE_SIZE", True),
        ("OAIPRESS_BASE_URL", "https://repo.example.org/oai?x=1"),
        ("OAIPRESS_READ_DATABASE_URL", "garbage"),
    ],
)
def test_create_app_refuses_a_bad_setting_before_it_serves(settings, name, value):
    with pytest.raises(ConfigError, match=name):
        create_app({**settings, name: value})


def test_admin_emails_given_as_a_list_make_a_valid_identify(make_app):
    app = make_app(OAIPRESS_ADMIN_EMAIL=["editor@example.org", "oai@example.org"])
    root = OAIClient(app.test_client())(verb="Identify")
    assert root.xpath("//oai:adminEmail/text()", namespaces=NS) == [
        "editor@example.org",
        "oai@example.org",
    ]


# --- the CLI and wsgi.py -------------------------------------------------------------------


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    for name in list(os.environ):
        if name.startswith("OAIPRESS_") and name != "OAIPRESS_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAIPRESS_")}
    env["OAIPRESS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'store.sqlite'}"
    return env


@pytest.mark.parametrize("args", [("get", "/oai?verb=Identify"), ("export",), ("serve",)])
def test_the_cli_refuses_a_bad_file_in_one_line(clean_environment, tmp_path, args):
    config = tmp_path / "oaipress.toml"
    config.write_text("repository_name = 42\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, list(args), env={**clean_environment, "OAIPRESS_CONFIG": str(config)}
    )
    assert result.exit_code == 1
    assert result.stderr == "Error: OAIPRESS_REPOSITORY_NAME must be text, not 42\n"


def test_wsgi_refuses_a_bad_setting_in_one_line(clean_environment, tmp_path):
    """``gunicorn wsgi:app`` and uwsgi import wsgi.py: no traceback there either."""
    env = {**clean_environment, "OAIPRESS_LIST_RECORDS_PAGE_SIZE": "2.9"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 4
    assert done.stderr == (
        "oaipress: OAIPRESS_LIST_RECORDS_PAGE_SIZE must be a whole number, not '2.9'\n"
    )


def test_gunicorn_stops_at_once_on_a_bad_setting(clean_environment, tmp_path):
    """Exit status 4 from the worker makes gunicorn's master stop, not respawn workers."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        pytest.skip("no gunicorn script beside this interpreter")
    env = {**clean_environment, "OAIPRESS_BASE_URL": "https://repo.example.org/oai?verb=x"}
    process = subprocess.Popen(
        [str(gunicorn), "--chdir", str(ROOT), "-b", "127.0.0.1:0", "wsgi:app"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, to end it and its workers
    )
    try:
        _, stderr = process.communicate(timeout=STOP_WITHIN)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"gunicorn kept running {STOP_WITHIN}s with a bad setting")
    assert process.returncode != 0
    assert "oaipress: OAIPRESS_BASE_URL must not have a query or a fragment" in stderr
    assert "Traceback" not in stderr
