"""OAIPRESS_FORMATS: the metadata formats a repository renders and offers.

oai_dc is mandatory (OAI-PMH §3.4) and always included; a format not chosen is neither
rendered at import nor offered (ListMetadataFormats, cannotDisseminateFormat), and
``oaipress rebuild`` renders exactly the chosen ones, so enabling a format later and
rebuilding makes it available.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from lxml import etree

from oai.cli import cli
from oai.config import ConfigError, check_settings, load_settings
from oai.formats import BUILT_IN, formats
from tests.conftest import NS, OAIClient, load_records, make_record
from tests.xmlvalidate import validate_oai_response

ID = "oai:repo.example.org:article/1"


def in_registry_order(*prefixes: str) -> tuple[str, ...]:
    """``prefixes`` as ListMetadataFormats lists them: in the order formats registered."""
    return tuple(prefix for prefix in formats() if prefix in prefixes)


def offered(root: etree._Element) -> list[str]:
    return root.xpath("//oai:metadataPrefix/text()", namespaces=NS)


def error_code(root: etree._Element) -> str | None:
    error = root.find("oai:error", NS)
    return None if error is None else error.get("code")


# --- the setting ------------------------------------------------------------------------


def test_every_format_is_offered_by_default():
    assert load_settings({})["OAIPRESS_FORMATS"] == tuple(formats())
    assert sorted(formats()) == sorted(BUILT_IN)


@pytest.mark.parametrize(
    ("value", "chosen"),
    [
        ("oai_dc", ("oai_dc",)),
        ("mods", ("oai_dc", "mods")),  # oai_dc is always included
        ("jats, marcxml,oai_dc", ("oai_dc", "marcxml", "jats")),
        ("datacite,", ("oai_dc", "datacite")),
    ],
)
def test_the_environment_chooses_formats_and_oai_dc_is_always_included(value, chosen):
    assert load_settings({"OAIPRESS_FORMATS": value})["OAIPRESS_FORMATS"] == in_registry_order(
        *chosen
    )


def test_a_toml_list_chooses_formats(tmp_path: Path):
    config = tmp_path / "oaipress.toml"
    config.write_text('formats = ["mods", "jats"]\n', encoding="utf-8")
    settings = load_settings({"OAIPRESS_CONFIG": str(config)})
    chosen = in_registry_order("oai_dc", "mods", "jats")
    assert settings["OAIPRESS_FORMATS"] == chosen
    assert check_settings(settings)["OAIPRESS_FORMATS"] == chosen


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("oai_dc,mods,marc", "OAIPRESS_FORMATS: 'marc' is not a metadata format oaipress knows"),
        (["oai_dc", 3], "OAIPRESS_FORMATS must be metadata prefixes separated by commas"),
        (" , ", "OAIPRESS_FORMATS must name at least one metadata format"),
        (42, "OAIPRESS_FORMATS must be metadata prefixes separated by commas, not 42"),
    ],
)
def test_a_bad_choice_is_refused_in_one_line(value: Any, message: str):
    with pytest.raises(ConfigError) as error:
        check_settings({"OAIPRESS_FORMATS": value})
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_an_unknown_prefix_names_the_known_ones():
    with pytest.raises(ConfigError) as error:
        load_settings({"OAIPRESS_FORMATS": "dc"})
    assert str(error.value) == (
        f"OAIPRESS_FORMATS: 'dc' is not a metadata format oaipress knows ({', '.join(formats())})"
    )


# --- the protocol ------------------------------------------------------------------------


def test_list_metadata_formats_lists_only_the_chosen_formats(make_app):
    app = make_app(OAIPRESS_FORMATS="mods,jats")
    load_records(app, [make_record(1, journal={"title": "A journal"})])
    oai = OAIClient(app.test_client())
    chosen = list(in_registry_order("oai_dc", "mods", "jats"))
    assert offered(oai(verb="ListMetadataFormats")) == chosen
    assert offered(oai(verb="ListMetadataFormats", identifier=ID)) == chosen


@pytest.mark.parametrize("verb", ["GetRecord", "ListRecords", "ListIdentifiers"])
def test_a_format_not_offered_cannot_be_disseminated(make_app, verb):
    app = make_app(OAIPRESS_FORMATS="oai_dc")
    load_records(app, [make_record(1)])
    oai = OAIClient(app.test_client())
    arguments = {"identifier": ID} if verb == "GetRecord" else {}
    root = oai(verb=verb, metadataPrefix="marcxml", **arguments)
    assert error_code(root) == "cannotDisseminateFormat"
    assert error_code(oai(verb="GetRecord", metadataPrefix="oai_dc", identifier=ID)) is None


def test_only_the_chosen_formats_are_rendered(make_app):
    """A record imported with oai_dc alone has no other rendition, even once all are offered."""

    load_records(make_app(OAIPRESS_FORMATS="oai_dc"), [make_record(1)])
    oai = OAIClient(make_app().test_client())
    assert offered(oai(verb="ListMetadataFormats", identifier=ID)) == ["oai_dc"]
    root = oai(verb="GetRecord", metadataPrefix="mods", identifier=ID)
    assert error_code(root) == "cannotDisseminateFormat"


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> str:
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


def oaipress(*args: str, **env: str) -> Result:
    result = CliRunner().invoke(cli, list(args), env=env or None)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def ok(*args: str, **env: str) -> Result:
    result = oaipress(*args, **env)
    assert result.exit_code == 0, result.output
    return result


def get(path: str, **env: str) -> etree._Element:
    return validate_oai_response(ok("get", path, **env).stdout_bytes).getroot()


def datestamp(**env: str) -> str:
    root = get(f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier={ID}", **env)
    return root.findtext(".//oai:header/oai:datestamp", namespaces=NS)


def test_the_command_line_refuses_an_unknown_prefix_in_one_line(environment, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("{}\n", encoding="utf-8")
    result = oaipress("import", str(path), OAIPRESS_FORMATS="oai_dc,dublin")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: OAIPRESS_FORMATS: 'dublin' is not a metadata format")
    assert len(result.stderr.strip().splitlines()) == 1


def test_rebuild_adds_a_format_once_it_is_enabled(environment, tmp_path):
    path = tmp_path / "in.jsonl"
    record = make_record(1, datestamp="2020-01-01T00:00:01Z")
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    ok("import", "--keep-datestamps", str(path), OAIPRESS_FORMATS="oai_dc")
    mods = f"/oai?verb=GetRecord&metadataPrefix=mods&identifier={ID}"
    assert error_code(get(mods)) == "cannotDisseminateFormat"  # offered, not rendered yet
    assert datestamp() == "2020-01-01T00:00:01Z"

    ok("rebuild", OAIPRESS_FORMATS="oai_dc,mods")
    record = get(mods).find(".//oai:metadata", NS)
    assert record is not None and record[0].tag == "{http://www.loc.gov/mods/v3}mods"
    assert datestamp() > "2020-01-01T00:00:01Z"  # disseminated anew: incremental harvests fetch it
    listed = get(f"/oai?verb=ListMetadataFormats&identifier={ID}")
    assert offered(listed) == list(
        in_registry_order("oai_dc", "mods")
    )  # datacite and the rest: not rendered

    restamped = datestamp()
    ok("rebuild", OAIPRESS_FORMATS="oai_dc,mods")  # nothing new: nothing restamped
    assert datestamp() == restamped
    ok("rebuild", OAIPRESS_FORMATS="oai_dc")  # exactly the chosen formats
    assert offered(get(f"/oai?verb=ListMetadataFormats&identifier={ID}")) == ["oai_dc"]
