"""Settings: defaults, then an optional TOML file, then ``OAIPRESS_*`` environment variables.

Every setting is documented in the README; the names here are the environment names.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

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
}
INTEGER_SETTINGS = {
    "OAIPRESS_LIST_RECORDS_PAGE_SIZE",
    "OAIPRESS_LIST_IDENTIFIERS_PAGE_SIZE",
    "OAIPRESS_LIST_SETS_PAGE_SIZE",
    "OAIPRESS_TOKEN_TTL",
    "OAIPRESS_PROXY_COUNT",
    "OAIPRESS_RETRY_AFTER",
}


class ConfigError(ValueError):
    pass


def _typed(name: str, value: Any) -> Any:
    if name in INTEGER_SETTINGS:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
        if number < (0 if name in {"OAIPRESS_PROXY_COUNT", "OAIPRESS_RETRY_AFTER"} else 1):
            raise ConfigError(f"{name} must be positive, not {number}")
        return number
    return value


# oai-identifier.xsd repositoryIdentifierType: a domain name.
REPOSITORY_IDENTIFIER_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+")


def load_settings(environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = dict(os.environ if environ is None else environ)
    settings = dict(DEFAULTS)
    config_file = environ.get("OAIPRESS_CONFIG")
    if config_file:
        try:
            data = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read OAIPRESS_CONFIG {config_file}: {exc}") from exc
        for key, value in data.items():
            name = key.upper() if key.upper().startswith("OAIPRESS_") else f"OAIPRESS_{key.upper()}"
            if name not in DEFAULTS:
                raise ConfigError(f"{config_file}: unknown setting {key!r}")
            settings[name] = value
    for name in DEFAULTS:
        if name in environ and environ[name] != "":
            settings[name] = environ[name]
    return check_settings({name: _typed(name, value) for name, value in settings.items()})


def check_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Refuse settings that would make responses invalid, before anything is served."""
    identifier = str(settings["OAIPRESS_REPOSITORY_IDENTIFIER"])
    if not REPOSITORY_IDENTIFIER_RE.fullmatch(identifier):
        raise ConfigError(
            f"OAIPRESS_REPOSITORY_IDENTIFIER {identifier!r} must be a domain name you control "
            "(e.g. journals.example.org), as the oai-identifier scheme requires"
        )
    return settings
