"""What the request's Host may change: the policy of docs/security.md, "A forged Host".

Without ``OAIPRESS_BASE_URL`` the baseURL of every OAI-PMH response and the absolute links
of the pages come from the request: its ``Host`` header (or, with
``OAIPRESS_PROXY_COUNT``, the ``X-Forwarded-Host`` the proxies set). A client can put
anything there, and a cache or proxy in front of the server may keep what that produced
and hand it to others. So:

* ``OAIPRESS_ALLOWED_HOSTS`` (comma-separated host names or IP literals, ``.example.org``
  for a domain and its subdomains, ``*`` for any well-formed host) names the hosts the
  server answers for, whatever ``OAIPRESS_BASE_URL`` says; any other Host gets a
  plain-text 400 before any application code runs;
* without it, only a well-formed ``host[:port]`` (RFC 3986 §3.2.2-3.2.3: a DNS name,
  an IPv4 address or a bracketed IPv6 literal; a port of at most 5 digits) may reach a
  response; anything else is a 400;
* every response whose bytes may name the request's host says so in ``Vary`` (``Host``,
  and the forwarded headers that were believed), so that no cache serves it for
  another host;
* ``oaipress serve`` on a non-loopback address with neither ``OAIPRESS_BASE_URL`` nor
  ``OAIPRESS_ALLOWED_HOSTS`` warns at start-up (:func:`exposure_warning`).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from flask import Flask, Response, abort, current_app, request

ANY_HOST = "*"
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
#: a DNS name (RFC 1123 labels; ``_`` is common in real host names) or an IPv4 address
_NAME_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_IPV6_RE = re.compile(r"\[([0-9A-Fa-f:.]{2,45})\]")
_PORT_RE = re.compile(r"[0-9]{1,5}")
_LOOPBACK_NAMES = {"localhost", "localhost.", "ip6-localhost"}
#: headers ProxyFix reads the request's origin from (``OAIPRESS_PROXY_COUNT``)
FORWARDED_ORIGIN_HEADERS = (
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Forwarded-Port",
    "X-Forwarded-Prefix",
)


def split_host(value: str) -> tuple[str, str | None] | None:
    """``(host, port)`` of a well-formed ``host[:port]``, the host lower-cased; else None."""
    host, port = value, None
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        host, rest = value[: end + 1], value[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                return None
            port = rest[1:]
        match = _IPV6_RE.fullmatch(host)
        if not match:
            return None
        try:
            ipaddress.IPv6Address(match.group(1))
        except ValueError:
            return None
    else:
        if value.count(":") > 1:
            return None
        host, _, port_text = value.partition(":")
        port = port_text if ":" in value else None
        if len(host) > 253 or not _NAME_RE.fullmatch(host):
            return None
    if port is not None and not (_PORT_RE.fullmatch(port) and int(port) <= 65535):
        return None
    return host.lower(), port


def host_is_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """Whether ``host`` (lower case, no port) is one of ``allowed`` or under a ``.domain``."""
    bare = host.rstrip(".")
    for entry in allowed:
        if entry == ANY_HOST or entry == bare:
            return True
        if entry.startswith(".") and (bare == entry[1:] or bare.endswith(entry)):
            return True
    return False


def check_allowed_hosts(name: str, value: Any) -> tuple[str, ...] | None:
    """The setting, checked: text separated by commas or (TOML) a list; None when empty."""
    if value is None:
        return None
    if isinstance(value, str):
        entries = [item.strip() for item in value.split(",")]
    elif isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        entries = [item.strip() for item in value]
    else:
        raise ValueError(f"{name} must be host names separated by commas, not {value!r}")
    entries = [entry for entry in entries if entry]
    if not entries:
        return None
    checked = []
    for entry in entries:
        if entry == ANY_HOST:
            checked.append(entry)
            continue
        name_part = entry[1:] if entry.startswith(".") else entry
        parts = split_host(name_part)
        if parts is None or not name_part.isascii():
            raise ValueError(
                f"{name}: {entry!r} is not a host name (e.g. repository.example.org, "
                ".example.org for its subdomains too, or an IP address; IDNA names as xn--…)"
            )
        if parts[1] is not None:
            raise ValueError(f"{name}: {entry!r} has a port; name the host only")
        host = parts[0].rstrip(".")
        checked.append("." + host if entry.startswith(".") else host)
    return tuple(checked)


def register(app: Flask) -> None:
    """Refuse the Hosts the policy refuses, and mark host-dependent responses ``Vary``."""
    # Not Flask's TRUSTED_HOSTS: werkzeug compares host names case-sensitively there and
    # repeats the refused Host in its answer; this check runs before any view reads it.
    app.before_request(_check_host)
    app.after_request(_vary)


def _check_host() -> None:
    # The raw header (after ProxyFix): werkzeug's request.host turns a malformed one into "".
    value = request.environ.get("HTTP_HOST")
    if value is None:  # HTTP/1.0 without Host: the server's own name is used
        return
    parts = split_host(value)
    if parts is None:
        abort(400, description="The Host header is not a valid host[:port] (RFC 3986 §3.2.2).")
    allowed = current_app.config.get("OAIPRESS_ALLOWED_HOSTS")
    if allowed and not host_is_allowed(parts[0], allowed):
        abort(400, description="This server does not answer for the host named in the request.")


def origin_from_request(app: Flask) -> bool:
    """Whether responses may name the request's own origin (no usable OAIPRESS_BASE_URL).

    The pages take their origin from ``OAIPRESS_BASE_URL`` only when it ends with the
    endpoint's path (oai.pages.landing.external_url); ``/oai`` whenever it is set.
    """
    base = (app.config.get("OAIPRESS_BASE_URL") or "").rstrip("/")
    return not base.endswith("/oai")


def _vary(response: Response) -> Response:
    if origin_from_request(current_app):
        response.vary.add("Host")
        if current_app.config.get("OAIPRESS_PROXY_COUNT"):
            for header in FORWARDED_ORIGIN_HEADERS:
                response.vary.add(header)
    return response


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(settings: dict[str, Any], host: str) -> str | None:
    """One line for ``oaipress serve`` when other machines reach a Host-derived baseURL."""
    if is_loopback(host) or settings.get("OAIPRESS_BASE_URL"):
        return None
    if settings.get("OAIPRESS_ALLOWED_HOSTS"):
        return None
    return (
        f"Warning: serving on {host} without OAIPRESS_BASE_URL or OAIPRESS_ALLOWED_HOSTS: "
        "the baseURL and page links follow whatever Host a client sends (docs/security.md)"
    )
