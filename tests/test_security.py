"""Secrets and exposure (issue #10 point 6; the threat model is docs/security.md).

1. No write path over HTTP: every route, every writing method, junk bodies: the store
   is unchanged and the answer is a 4xx (or, for POST /oai, an OAI-PMH answer, §3.1.1.2).
2. Resumption tokens (§3.5, §3.6 badResumptionToken) cannot be forged, edited, replayed
   into another list, carried to another repository or used after they expire.
3. A forged Host: what it may reach (oai.hosts), and that host-dependent responses say
   ``Vary: Host``.
4. XML from outside is parsed without external entities or entity expansion bombs, and
   error answers never show the secret key or a database password.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import MetaData, select
from sqlalchemy.exc import OperationalError

from oai.config import ConfigError, check_settings
from oai.hosts import exposure_warning, host_is_allowed, split_host
from tests.conftest import NS, OAIClient, decode_body, harvest, make_record
from tests.xmlvalidate import validate_oai_response

WRITING_METHODS = ["POST", "PUT", "PATCH", "DELETE"]
#: values for the variables of every URL rule: a record that exists, a set, a format
RULE_VALUES = {
    "local_id": "article/1",
    "prefix": "oai_dc",
    "fmt": "bib",
    "spec": "cac",
    "year": "2004",
    "n": 0,
    "filename": "oaipress.xsl",
}
JUNK_BODIES: list[tuple[str, bytes]] = [
    ("application/x-www-form-urlencoded", b"verb=Identify"),
    (
        "application/x-www-form-urlencoded",
        b"verb=ListRecords&metadataPrefix=oai_dc&id=article/1&deleted=true",
    ),
    ("application/json", b'{"id": "article/1", "deleted": true, "title": "pwned"}'),
    ("application/x-ndjson", b'{"id": "article/99", "title": "injected"}\n'),
    ("text/xml", b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e 'x'>]><x>&e;</x>"),
    ("multipart/form-data; boundary=b", b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n"),
    ("application/octet-stream", bytes(range(256)) * 4),
]


def store_dump(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the store, in a stable order."""
    engine = app.extensions["oaipress.store"].engine
    metadata = MetaData()
    metadata.reflect(engine)
    dump = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            rows = connection.execute(select(table)).all()
            dump[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return dump


def concrete_urls(app: Flask) -> list[str]:
    """One URL per rule of the app's URL map, its variables filled in."""
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            values = {name: RULE_VALUES.get(name, "x") for name in rule.arguments}
            path = rule.build(values, append_unknown=False)[1]
            urls.append(path)
    return sorted(set(urls))


@pytest.fixture
def stored(app: Flask, load: Callable[..., Any]) -> Flask:
    load([make_record(1, sets=["cac"])] + [make_record(i) for i in range(2, 10)])
    return app


# --------------------------------------------------------------------------- no write path


def test_the_url_map_is_what_this_test_knows(stored: Flask) -> None:
    """A new route must be looked at here: it is then covered by the tests below."""
    urls = concrete_urls(stored)
    assert "/oai" in urls
    assert len(urls) >= 10, urls
    methods = {m for rule in stored.url_map.iter_rules() for m in rule.methods or ()}
    assert methods <= {"GET", "HEAD", "OPTIONS", "POST"}
    posting = [r.rule for r in stored.url_map.iter_rules() if "POST" in (r.methods or ())]
    assert posting == ["/oai"]


def test_no_route_writes_whatever_method_and_body_it_is_sent(
    stored: Flask, client: FlaskClient
) -> None:
    """Writes go through the `oaipress` command only: no HTTP request changes the store.
    POST /oai is a harvesting request (§3.1.1.2) and gets an OAI-PMH answer; every other
    writing method on every route is refused with a 4xx, in plain text."""
    before = store_dump(stored)
    urls = concrete_urls(stored) + ["/oai/", "/admin", "/records/article/1/edit", "/import"]
    for url, method, (content_type, body) in itertools.product(urls, WRITING_METHODS, JUNK_BODIES):
        response = client.open(url, method=method, data=body, content_type=content_type)
        where = f"{method} {url} ({content_type})"
        if url in ("/oai", "/oai/") and method == "POST":
            assert response.status_code == 200, where
            validate_oai_response(decode_body(response))
        else:
            assert 400 <= response.status_code < 500, f"{where}: {response.status_code}"
            assert response.mimetype == "text/plain", where
    assert store_dump(stored) == before


def test_post_requests_that_harvest_leave_the_store_unchanged(stored: Flask, oai) -> None:
    """§3.1.1.2: POST carries the same verbs as GET; they read, never write."""
    before = store_dump(stored)
    harvest(oai, "ListRecords", metadataPrefix="oai_dc")
    for verb in ("Identify", "ListSets", "ListMetadataFormats"):
        oai("POST", verb=verb)
    oai("POST", verb="GetRecord", metadataPrefix="oai_dc", identifier="oai:repo.example.org:x")
    assert store_dump(stored) == before


# --------------------------------------------------------------------------- tokens


def first_token(oai: OAIClient, verb: str = "ListRecords", **params: str) -> str:
    root = oai(verb=verb, **params)
    token = root.findtext(f"oai:{verb}/oai:resumptionToken", namespaces=NS)
    assert token, etree.tostring(root)[:300]
    return token


def error_codes(root: etree._Element) -> list[str]:
    return [e.get("code") for e in root.findall("oai:error", NS)]


def test_a_token_is_exclusive_and_cannot_be_combined_with_other_arguments(stored, oai) -> None:
    """§3.5 and §4.5/§4.6: resumptionToken is an exclusive argument, so it cannot be
    re-aimed at another format, set or window: any other argument is a badArgument."""
    token = first_token(oai, metadataPrefix="oai_dc")
    for extra in (
        {"metadataPrefix": "marcxml"},
        {"set": "cac"},
        {"from": "2000-01-01"},
        {"until": "2100-01-01"},
        {"identifier": "oai:repo.example.org:article/1"},
    ):
        code, _ = oai.error(verb="ListRecords", resumptionToken=token, **extra)
        assert code == "badArgument", extra


def test_a_token_cannot_be_replayed_into_another_verb(stored, oai) -> None:
    """§3.6 badResumptionToken: a ListRecords token is not a ListIdentifiers one, and the
    other way round; ListSets tokens belong to ListSets."""
    records = first_token(oai, metadataPrefix="oai_dc")
    identifiers = first_token(oai, "ListIdentifiers", metadataPrefix="oai_dc")
    assert oai.error(verb="ListIdentifiers", resumptionToken=records)[0] == "badResumptionToken"
    assert oai.error(verb="ListRecords", resumptionToken=identifiers)[0] == "badResumptionToken"
    assert oai.error(verb="ListSets", resumptionToken=records)[0] == "badResumptionToken"


def test_a_token_resumes_only_its_own_list(stored, load, oai) -> None:
    """§3.5: the continuation of a token is its original request's, whatever came since:
    a token of the set ``cac`` goes on listing ``cac`` only."""
    load([make_record(i, sets=["cac"]) for i in range(10, 16)])
    token = first_token(oai, metadataPrefix="oai_dc", set="cac")
    items, _ = harvest(oai, "ListRecords", resumptionToken=token)
    specs = [el.findall("oai:header/oai:setSpec", NS) for el in items]
    assert items and all(any(s.text == "cac" for s in set_specs) for set_specs in specs)


def test_a_token_changed_in_any_character_is_refused(stored, oai) -> None:
    """§3.6 badResumptionToken: the token is signed (HMAC-SHA256), so editing any one
    character of it — payload, issue time or signature — makes it worthless."""
    token = first_token(oai, metadataPrefix="oai_dc")
    for at, original in enumerate(token):
        other = "A" if original != "A" else "B"
        edited = token[:at] + other + token[at + 1 :]
        code, _ = oai.error(verb="ListRecords", resumptionToken=edited)
        assert code == "badResumptionToken", (at, edited)
    for edited in (token[:-1], token + "A", token.replace(".", "", 1), "." + token):
        assert oai.error(verb="ListRecords", resumptionToken=edited)[0] == "badResumptionToken"


def test_a_token_signed_with_another_secret_is_refused(stored, make_app) -> None:
    """§3.6: a server with another OAIPRESS_SECRET_KEY (or the same one after rotation)
    refuses the token; the harvester starts the list again."""
    token = first_token(OAIClient(stored.test_client()), metadataPrefix="oai_dc")
    rotated = OAIClient(make_app(OAIPRESS_SECRET_KEY="rotated-secret").test_client())
    assert rotated.error(verb="ListRecords", resumptionToken=token)[0] == "badResumptionToken"
    same = OAIClient(make_app().test_client())  # another worker with the same secret
    assert not error_codes(same(verb="ListRecords", resumptionToken=token))


def test_a_token_of_another_repository_is_refused(stored, make_app, tmp_path) -> None:
    """Each store makes its own secret when none is configured, so a token carried to
    another repository (its own store and identifier) is a badResumptionToken there."""
    mine = make_app(OAIPRESS_SECRET_KEY=None)
    token = first_token(OAIClient(mine.test_client()), metadataPrefix="oai_dc")
    other = make_app(
        OAIPRESS_SECRET_KEY=None,
        OAIPRESS_DATABASE_URL=f"sqlite:///{tmp_path / 'other.sqlite'}",
        OAIPRESS_REPOSITORY_IDENTIFIER="other.example.org",
    )
    from tests.conftest import load_records

    load_records(other, [make_record(i) for i in range(1, 8)])
    code, _ = OAIClient(other.test_client()).error(verb="ListRecords", resumptionToken=token)
    assert code == "badResumptionToken"


def test_an_expired_token_is_refused(stored, oai, monkeypatch) -> None:
    """§3.5.1 expirationDate: after OAIPRESS_TOKEN_TTL the token is refused."""
    import oai.protocol.tokens as tokens

    root = oai(verb="ListRecords", metadataPrefix="oai_dc")
    element = root.find("oai:ListRecords/oai:resumptionToken", NS)
    assert element is not None and element.get("expirationDate")
    real = tokens.time.time
    ttl = stored.config["OAIPRESS_TOKEN_TTL"]
    monkeypatch.setattr(tokens.time, "time", lambda: real() + ttl + 5)
    code, error_root = oai.error(verb="ListRecords", resumptionToken=element.text)
    assert code == "badResumptionToken"
    assert "expired" in error_root.findtext("oai:error", namespaces=NS)


# --------------------------------------------------------------------------- the Host header


BAD_HOSTS = [
    "evil.example/oai?x=",
    "a b",
    "<script>",
    "host:abc",
    "host:99999",
    "[::1",
    "[not-ipv6]",
    "user@evil.example",
    "evil.example:80:80",
    "évil.example",
    "-lead.example",
    "x" * 300,
]


def raw_get(app: Flask, path: str, host: str) -> tuple[int, str, bytes]:
    """Status, media type and body for a Host the test client cannot send (it parses the
    URL it builds from the Host, and a bad port stops it before the app is called)."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    environ = EnvironBuilder(path).get_environ()
    environ["HTTP_HOST"] = host
    body, status, headers = run_wsgi_app(app.wsgi_app, environ, buffered=True)
    return int(status.split()[0]), headers.get("Content-Type", ""), b"".join(body)


def base_url_of(client: FlaskClient, host: str, **headers: str) -> tuple[int, Any]:
    response = client.get(
        "/oai", query_string={"verb": "Identify"}, headers={"Host": host, **headers}
    )
    return response.status_code, response


def test_a_configured_base_url_is_never_changed_by_the_host(stored: Flask) -> None:
    """§4.2 baseURL: with OAIPRESS_BASE_URL set, any well-formed Host gets that baseURL,
    and the answer does not vary by Host."""
    client = stored.test_client()
    for host in ("evil.example", "127.0.0.1:8000", "[::1]:443"):
        status, response = base_url_of(client, host)
        root = OAIClient(client).check(response)
        assert root.findtext("oai:Identify/oai:baseURL", namespaces=NS) == (
            "http://repo.example.org/oai"
        )
        assert "Host" not in response.headers.get("Vary", "")


@pytest.mark.parametrize("base_url", [None, "http://repo.example.org/oai"])
def test_a_malformed_host_is_a_plain_400_whatever_the_settings(make_app, base_url) -> None:
    """RFC 9112 §3.2: a Host that is not host[:port] is a 400, never echoed into a
    baseURL or a link; the answer does not repeat it."""
    app = make_app(OAIPRESS_BASE_URL=base_url)
    for host, path in itertools.product(BAD_HOSTS, ("/oai?verb=Identify", "/", "/nothing")):
        status, content_type, body = raw_get(app, path, host)
        assert status == 400, (host, path)
        assert content_type.startswith("text/plain")
        assert host.encode("latin-1", "replace") not in body


def test_without_settings_a_well_formed_host_reaches_the_base_url_and_varies(make_app) -> None:
    """Without OAIPRESS_BASE_URL and OAIPRESS_ALLOWED_HOSTS the baseURL follows the Host
    (§4.2), and every response says Vary: Host so that no cache gives it to another host."""
    client = make_app(OAIPRESS_BASE_URL=None).test_client()
    status, response = base_url_of(client, "mirror.example.net:8080")
    root = OAIClient(client).check(response)
    assert root.findtext("oai:Identify/oai:baseURL", namespaces=NS) == (
        "http://mirror.example.net:8080/oai"
    )
    vary = response.headers["Vary"]
    assert "Host" in vary and "Accept-Encoding" in vary
    for path in ("/", "/robots.txt", "/records/article/1", "/nothing"):
        assert "Host" in client.get(path, headers={"Host": "a.example"}).headers.get("Vary", "")


def test_behind_trusted_proxies_the_forwarded_headers_are_in_vary(make_app) -> None:
    app = make_app(OAIPRESS_BASE_URL=None, OAIPRESS_PROXY_COUNT=1)
    response = app.test_client().get(
        "/oai", query_string={"verb": "Identify"}, headers={"X-Forwarded-Host": "x.example"}
    )
    vary = {part.strip() for part in response.headers["Vary"].split(",")}
    assert {"Host", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Prefix"} <= vary


def test_allowed_hosts_answer_only_for_the_hosts_named(make_app) -> None:
    """OAIPRESS_ALLOWED_HOSTS: the named hosts (any port), ``.domain`` with its
    subdomains; any other Host is a plain-text 400 on every route."""
    app = make_app(
        OAIPRESS_BASE_URL=None, OAIPRESS_ALLOWED_HOSTS="repo.example.org, .mirror.example.net"
    )
    client = app.test_client()
    for host in (
        "repo.example.org",
        "REPO.example.org:8443",
        "mirror.example.net",
        "a.mirror.example.net",
    ):
        status, response = base_url_of(client, host)
        root = OAIClient(client).check(response)
        assert (
            root.findtext("oai:Identify/oai:baseURL", namespaces=NS) == f"http://{host.lower()}/oai"
        )
    for host in ("evil.example", "repo.example.org.evil.example", "xmirror.example.net"):
        for path in ("/oai?verb=Identify", "/", "/records/article/1", "/nothing"):
            response = client.get(path, headers={"Host": host})
            assert response.status_code == 400, (host, path)
            assert response.mimetype == "text/plain"
            assert host.encode() not in response.get_data()


def test_allowed_hosts_also_hold_for_forwarded_hosts(make_app) -> None:
    """Behind a proxy (OAIPRESS_PROXY_COUNT=1), a client's own X-Forwarded-Host that the
    proxy passed on is checked like a Host."""
    app = make_app(
        OAIPRESS_BASE_URL=None, OAIPRESS_PROXY_COUNT=1, OAIPRESS_ALLOWED_HOSTS="repo.example.org"
    )
    client = app.test_client()
    headers = {"Host": "repo.example.org", "X-Forwarded-Host": "evil.example"}
    assert client.get("/oai?verb=Identify", headers=headers).status_code == 400
    headers["X-Forwarded-Host"] = "repo.example.org"
    assert client.get("/oai?verb=Identify", headers=headers).status_code == 200


def test_allowed_hosts_hold_even_with_a_base_url(make_app) -> None:
    app = make_app(OAIPRESS_ALLOWED_HOSTS="repo.example.org")
    client = app.test_client()
    assert client.get("/oai?verb=Identify", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/oai?verb=Identify", headers={"Host": "repo.example.org"}).status_code == 200


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("repo.example.org", ("repo.example.org",)),
        ("Repo.Example.org., .example.net", ("repo.example.org", ".example.net")),
        (["a.example", "127.0.0.1", "[::1]"], ("a.example", "127.0.0.1", "[::1]")),
        ("*", ("*",)),
        ("", None),
        (" , ", None),
    ],
)
def test_the_allowed_hosts_setting_is_read(value, expected) -> None:
    settings = check_settings({"OAIPRESS_ALLOWED_HOSTS": value})
    assert settings["OAIPRESS_ALLOWED_HOSTS"] == expected
    assert check_settings(settings)["OAIPRESS_ALLOWED_HOSTS"] == expected  # idempotent


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("repo.example.org:8080", "OAIPRESS_ALLOWED_HOSTS: 'repo.example.org:8080' has a port"),
        ("https://repo.example.org", "'https://repo.example.org' is not a host name"),
        ("a b", "'a b' is not a host name"),
        ("évil.example", "'évil.example' is not a host name"),
        (42, "OAIPRESS_ALLOWED_HOSTS must be host names separated by commas, not 42"),
    ],
)
def test_a_bad_allowed_hosts_setting_is_a_one_line_error(value, message) -> None:
    with pytest.raises(ConfigError) as raised:
        check_settings({"OAIPRESS_ALLOWED_HOSTS": value})
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_host_syntax() -> None:
    assert split_host("Example.ORG:8080") == ("example.org", "8080")
    assert split_host("[2001:db8::1]:443") == ("[2001:db8::1]", "443")
    assert split_host("192.0.2.1") == ("192.0.2.1", None)
    for bad in BAD_HOSTS + ["", ":80", "[::1]x", "a..b"]:
        assert split_host(bad) is None, bad
    assert host_is_allowed("a.b.example", (".example",))
    assert not host_is_allowed("badexample", (".example",))
    assert host_is_allowed("example.", ("example",))


@pytest.mark.parametrize(
    ("host", "settings", "warns"),
    [
        ("0.0.0.0", {}, True),
        ("192.0.2.7", {"OAIPRESS_BASE_URL": None}, True),
        ("::", {}, True),
        ("0.0.0.0", {"OAIPRESS_BASE_URL": "https://r.example/oai"}, False),
        ("0.0.0.0", {"OAIPRESS_ALLOWED_HOSTS": ("r.example",)}, False),
        ("127.0.0.1", {}, False),
        ("localhost", {}, False),
        ("::1", {}, False),
    ],
)
def test_serving_exposed_without_base_url_or_allowed_hosts_warns(host, settings, warns) -> None:
    warning = exposure_warning(settings, host)
    assert (warning is not None) == warns
    if warning:
        assert "\n" not in warning and "OAIPRESS_ALLOWED_HOSTS" in warning


# --------------------------------------------------------------------------- XML and secrets


def billion_laughs() -> bytes:
    lines = ['<?xml version="1.0"?>', "<!DOCTYPE OAI-PMH [", '<!ENTITY l0 "lol">']
    for i in range(1, 10):
        lines.append(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">')
    lines.append(
        ']><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        "<responseDate>&l9;</responseDate></OAI-PMH>"
    )
    return "\n".join(lines).encode()


def external_entity(target: str) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE OAI-PMH [<!ENTITY x SYSTEM "{target}">]>'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        "<responseDate>2020-01-01T00:00:00Z</responseDate><request>&x;</request>"
        '<error code="badVerb">x</error></OAI-PMH>'
    ).encode()


def test_the_harvester_expands_no_entities_and_fetches_nothing(tmp_path) -> None:
    """`oaipress harvest` reads remote XML: an external entity is neither read from disk
    nor fetched, and an entity bomb is refused as not XML in a fraction of a second."""
    from oai.harvester.client import HarvestFailed, OAIError, _parse

    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("TOP-SECRET-CONTENT")
    for target in (secret_file.as_uri(), "http://127.0.0.1:9/x"):
        with pytest.raises(OAIError) as raised:
            _parse(external_entity(target), "http://source.example/oai")
        assert "TOP-SECRET" not in str(raised.value)
    with pytest.raises(HarvestFailed):
        _parse(billion_laughs(), "http://source.example/oai")


def test_the_validator_expands_no_entities(tmp_path) -> None:
    """`oaipress validate` parses what any endpoint sends the same way."""
    from oai.validator.schema import validate

    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("TOP-SECRET-CONTENT")
    result = validate(external_entity(secret_file.as_uri()))
    assert result.root is not None
    assert b"TOP-SECRET" not in etree.tostring(result.root)
    assert any("entity reference &x;" in message for message in result.envelope)
    assert validate(billion_laughs()).root is None


def test_error_answers_never_show_the_secret_or_the_database_password(
    make_app, monkeypatch
) -> None:
    """A crash is a plain 500 and an unavailable database a 503, both in fixed words:
    neither repeats the exception, which may hold the secret key or a password."""
    secret, password = "s3cr3t-key-value", "pg-pa55word"
    app = make_app(OAIPRESS_SECRET_KEY=secret)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def crash() -> str:
        raise RuntimeError(f"boom {secret} postgresql://u:{password}@db/x")

    app.add_url_rule("/crash", "crash", crash)
    from oai.protocol import verbs

    def database_down(*args: Any) -> Any:
        raise OperationalError(
            f"postgresql://u:{password}@db/x", {"k": secret}, Exception(password)
        )

    monkeypatch.setitem(verbs.VERB_HANDLERS, "Identify", database_down)
    client = app.test_client()
    crashed = client.get("/crash")
    down = client.get("/oai?verb=Identify")
    assert (crashed.status_code, down.status_code) == (500, 503)
    for response in (crashed, down):
        body = response.get_data()
        assert secret.encode() not in body and password.encode() not in body
        assert response.mimetype == "text/plain"


def test_no_answer_shows_the_secret_key(stored, make_app) -> None:
    """The secret only signs tokens; no page, export or OAI-PMH answer contains it."""
    app = make_app(OAIPRESS_SECRET_KEY="k3y-that-must-not-leak")
    client = app.test_client()
    for url in concrete_urls(app) + [
        "/oai?verb=Identify",
        "/oai?verb=ListRecords&metadataPrefix=oai_dc",
    ]:
        response = client.get(url, headers={"Accept-Encoding": "identity"})
        assert b"k3y-that-must-not-leak" not in response.get_data(), url
