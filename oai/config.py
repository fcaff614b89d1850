"""Settings: defaults, then an optional TOML file, then ``OAIPRESS_*`` environment variables.

Every setting is documented in the README; the names here are the environment names.
Each one is checked when a command or the web app starts (:func:`check_settings`), so
a mistake is a one-line error naming the setting, not an HTTP 500 or a response that
fails the OAI-PMH schema later.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from oai.formats import formats
from records.validate import NOT_XML_CHAR_RE, URI_RE

CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"

DEFAULTS: dict[str, Any] = {
    "OAIPRESS_DATABASE_URL": "sqlite:///oaipress.sqlite",
    "OAIPRESS_READ_DATABASE_URL": None,
    "OAIPRESS_BASE_URL": None,
    "OAIPRESS_REPOSITORY_NAME": "oaipress repository",
    "OAIPRESS_ADMIN_EMAIL": "admin@example.org",
    "OAIPRESS_REPOSITORY_IDENTIFIER": "example.org",
    "OAIPRESS_SECRET_KEY": None,
    "OAIPRESS_METADATA_LICENSE": CC0,
    "OAIPRESS_LIST_RECORDS_PAGE_SIZE": 100,
    "OAIPRESS_LIST_IDENTIFIERS_PAGE_SIZE": 500,
    "OAIPRESS_LIST_SETS_PAGE_SIZE": 100,
    "OAIPRESS_TOKEN_TTL": 7 * 24 * 3600,
    "OAIPRESS_PROXY_COUNT": 0,
    "OAIPRESS_RETRY_AFTER": 60,
    "OAIPRESS_FORMATS": None,  # every registered format
    "OAIPRESS_ALLOWED_HOSTS": None,  # any well-formed Host (oai.hosts)
    # `oaipress serve` (oai.serving): seconds, and open connections per worker process
    "OAIPRESS_HEADER_TIMEOUT": 10,
    "OAIPRESS_KEEPALIVE_TIMEOUT": 5,
    "OAIPRESS_WRITE_TIMEOUT": 30,
    "OAIPRESS_MAX_CONNECTIONS": 1000,
}
#: The bounds of the whole-number settings. The upper ones only keep a typo from
#: overflowing a date (a token's expirationDate) or asking for absurd pages.
INTEGER_SETTINGS: dict[str, tuple[int, int]] = {
    "OAIPRESS_LIST_RECORDS_PAGE_SIZE": (1, 100_000),
    "OAIPRESS_LIST_IDENTIFIERS_PAGE_SIZE": (1, 100_000),
    "OAIPRESS_LIST_SETS_PAGE_SIZE": (1, 100_000),
    "OAIPRESS_TOKEN_TTL": (1, 10 * 366 * 24 * 3600),
    "OAIPRESS_PROXY_COUNT": (0, 10),
    "OAIPRESS_RETRY_AFTER": (0, 24 * 3600),
    "OAIPRESS_HEADER_TIMEOUT": (1, 3600),
    "OAIPRESS_KEEPALIVE_TIMEOUT": (1, 3600),
    "OAIPRESS_WRITE_TIMEOUT": (1, 3600),
    "OAIPRESS_MAX_CONNECTIONS": (10, 100_000),
}
OPTIONAL_SETTINGS = {
    "OAIPRESS_READ_DATABASE_URL",
    "OAIPRESS_BASE_URL",
    "OAIPRESS_SECRET_KEY",
    "OAIPRESS_ALLOWED_HOSTS",
}
#: OAI-PMH §3.4: every repository must disseminate unqualified Dublin Core.
MANDATORY_FORMAT = "oai_dc"

# oai-identifier.xsd repositoryIdentifierType: a domain name.
REPOSITORY_IDENTIFIER_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+")
# OAI-PMH.xsd emailType is \S+@(\S+\.)+\S+; commas separate several addresses here.
EMAIL_RE = re.compile(r"[^\s@,]+@([^\s@,]+\.)+[^\s@,]+")
WHOLE_NUMBER_RE = re.compile(r"\s*[+-]?[0-9]+\s*")
_PASSWORD_IN_URL_RE = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


class ConfigError(ValueError):
    """A setting that cannot work; the message is one line and names the setting."""


def masked_url(url: str) -> str:
    """The URL as it may be shown in a message or a log: any password becomes ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError, TypeError):
        return _PASSWORD_IN_URL_RE.sub(r"\1***@", url)


def without_password(text: str, url: str) -> str:
    """``text`` (a driver's error message, say) with the password of ``url`` hidden."""
    try:
        password = make_url(url).password
    except (ArgumentError, ValueError, TypeError):
        password = None
    text = text.replace(url, masked_url(url))
    if password:
        text = text.replace(str(password), "***")
    return text


def load_settings(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Defaults, then the ``OAIPRESS_CONFIG`` file, then the environment, all checked."""
    environ = dict(os.environ if environ is None else environ)
    settings = dict(DEFAULTS)
    config_file = environ.get("OAIPRESS_CONFIG")
    if config_file:
        settings.update(_read_config_file(config_file))
    for name in DEFAULTS:
        if name in environ and environ[name] != "":
            settings[name] = environ[name]
    return check_settings(settings)


def _read_config_file(config_file: str) -> dict[str, Any]:
    try:
        text = Path(config_file).read_bytes().decode("utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError(f"cannot read OAIPRESS_CONFIG {config_file}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"cannot read OAIPRESS_CONFIG {config_file}: not UTF-8 at byte {exc.start}"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot read OAIPRESS_CONFIG {config_file}: {exc}") from None
    settings: dict[str, Any] = {}
    for key, value in data.items():
        name = key.upper() if key.upper().startswith("OAIPRESS_") else f"OAIPRESS_{key.upper()}"
        if name not in DEFAULTS:
            raise ConfigError(f"{config_file}: unknown setting {key!r}")
        settings[name] = value
    return settings


def check_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Refuse settings that would make responses fail, before anything is served.

    Idempotent, so ``create_app`` can check again what the CLI already checked. Whole
    numbers may come as text (the environment's values are strings); other keys of
    ``settings`` pass through unchanged.
    """
    checked = dict(settings)
    for name, default in DEFAULTS.items():
        value = settings.get(name, default)
        if name in OPTIONAL_SETTINGS and value in (None, ""):
            checked[name] = None
            continue
        if name == "OAIPRESS_FORMATS":
            checked[name] = _formats(name, value)
            continue
        if value is None:
            raise ConfigError(f"{name} must be set")
        checked[name] = _CHECKS[name](name, value)
    return checked


def _whole_number(name: str, value: Any) -> int:
    # bool is a subclass of int, and float("2.9") would truncate: refuse both.
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and WHOLE_NUMBER_RE.fullmatch(value):
        number = int(value)
    else:
        raise ConfigError(f"{name} must be a whole number, not {value!r}")
    low, high = INTEGER_SETTINGS[name]
    if number < low:
        raise ConfigError(
            f"{name} must be positive, not {number}"
            if low == 1
            else f"{name} must be {low} or more, not {number}"
        )
    if number > high:
        raise ConfigError(f"{name} must be at most {high}, not {number}")
    return number


def _text(name: str, value: Any) -> str:
    """Text that lxml can put in an XML document: anything else fails every response."""
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be text, not {value!r}")
    if not value.strip():
        raise ConfigError(f"{name} must not be empty")
    bad = NOT_XML_CHAR_RE.search(value)
    if bad:
        raise ConfigError(f"{name} contains U+{ord(bad.group()):04X}, which XML 1.0 cannot carry")
    return value


def _admin_emails(name: str, value: Any) -> str:
    """Several addresses, as a comma-separated string or (in TOML) a list of strings."""
    if isinstance(value, list):
        if not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{name} must be e-mail addresses, not {value!r}")
        emails = [item.strip() for item in value]
    else:
        emails = [item.strip() for item in _text(name, value).split(",")]
    if not any(emails):
        raise ConfigError(f"{name} must name at least one e-mail address")
    for email in emails:
        if not EMAIL_RE.fullmatch(email):
            raise ConfigError(f"{name}: {email!r} is not an e-mail address")
    return ", ".join(emails)


def _repository_identifier(name: str, value: Any) -> str:
    identifier = _text(name, value)
    if not REPOSITORY_IDENTIFIER_RE.fullmatch(identifier):
        raise ConfigError(
            f"{name} {identifier!r} must be a domain name you control "
            "(e.g. journals.example.org), as the oai-identifier scheme requires"
        )
    return identifier


def _base_url(name: str, value: Any) -> str:
    """The baseURL harvesters append ``?verb=…`` to: http(s), a host, no query or fragment."""
    url = _text(name, value)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be an http(s) URL such as https://host/oai, not {url!r}")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise ConfigError(f"{name} must not have a query or a fragment: {url!r}")
    if any(c.isspace() for c in url):
        raise ConfigError(f"{name} must not contain spaces: {url!r}")
    return url


def _uri(name: str, value: Any) -> str:
    uri = _text(name, value)
    if not URI_RE.fullmatch(uri):
        raise ConfigError(f"{name} must be an absolute URI (e.g. {CC0}), not {uri!r}")
    return uri


def _database_url(name: str, value: Any) -> str:
    """A URL SQLAlchemy can parse, with a driver it knows; the password never shown."""
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a database URL, not {value!r}")
    try:
        url: URL = make_url(value)
    except (ArgumentError, ValueError):
        raise ConfigError(
            f"{name} is not a database URL (e.g. sqlite:///oaipress.sqlite or "
            f"postgresql+psycopg://user@host/db): {masked_url(value)!r}"
        ) from None
    try:
        url.get_dialect()
    except NoSuchModuleError:
        raise ConfigError(
            f"{name}: cannot open the database {masked_url(value)}: "
            f"SQLAlchemy knows no database {url.drivername!r}"
        ) from None
    return value


def _formats(name: str, value: Any) -> tuple[str, ...]:
    """The prefixes to render and offer, in the registry's order; ``oai_dc`` always.

    Comma-separated text (the environment), or a TOML list; None means every format.
    """
    known = list(formats())
    if value is None:
        return tuple(known)
    if isinstance(value, str):
        wanted = [item.strip() for item in value.split(",")]
    elif isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        wanted = [item.strip() for item in value]
    else:
        raise ConfigError(f"{name} must be metadata prefixes separated by commas, not {value!r}")
    if not any(wanted):
        raise ConfigError(f"{name} must name at least one metadata format, e.g. {MANDATORY_FORMAT}")
    unknown = [prefix for prefix in wanted if prefix and prefix not in known]
    if unknown:
        raise ConfigError(
            f"{name}: {unknown[0]!r} is not a metadata format oaipress knows ({', '.join(known)})"
        )
    chosen = {MANDATORY_FORMAT, *wanted}
    return tuple(prefix for prefix in known if prefix in chosen)


def _allowed_hosts(name: str, value: Any) -> tuple[str, ...] | None:
    """The hosts the server answers for (oai.hosts): names, ``.domain`` or ``*``."""
    from oai.hosts import check_allowed_hosts

    try:
        return check_allowed_hosts(name, value)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "OAIPRESS_DATABASE_URL": _database_url,
    "OAIPRESS_READ_DATABASE_URL": _database_url,
    "OAIPRESS_BASE_URL": _base_url,
    "OAIPRESS_REPOSITORY_NAME": _text,
    "OAIPRESS_ADMIN_EMAIL": _admin_emails,
    "OAIPRESS_REPOSITORY_IDENTIFIER": _repository_identifier,
    "OAIPRESS_SECRET_KEY": _text,
    "OAIPRESS_METADATA_LICENSE": _uri,
    "OAIPRESS_FORMATS": _formats,
    "OAIPRESS_ALLOWED_HOSTS": _allowed_hosts,
    **dict.fromkeys(INTEGER_SETTINGS, _whole_number),
}
