"""A bounded, read-only HTTP client: what lets the validator point at a production server.

It only ever sends GET (the validator never writes), counts every request against a hard
budget (redirects and 503 retries included), waits ``delay`` seconds between requests,
honours a sane ``Retry-After`` on 503 within the budget, follows redirects only on the
same host, asks for ``gzip, deflate`` and records what the server actually sent.
``sleep`` is injectable so tests can count the waits instead of timing them.
"""

from __future__ import annotations

import email.utils
import http.client
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode, urljoin, urlsplit

USER_AGENT = "oaipress-validator/0.1 (+https://github.com/oaipress; read-only, bounded)"
ACCEPT_ENCODING = "gzip, deflate"
MAX_BODY = 64 * 1024 * 1024  # bytes, compressed or not: a response larger than this is cut
MAX_REDIRECTS = 3
MAX_RETRIES = 3  # 503 retries of one request
FALLBACK_WAIT = 10.0  # seconds waited after a 503 whose Retry-After cannot be read
MAX_WAIT = 120.0  # a Retry-After longer than this ends the retries: the 503 is the answer
REDIRECTS = {301, 302, 303, 307, 308}

Params = Sequence[tuple[str, str]]


class BudgetExhausted(Exception):
    """The request budget is spent: the check that needed one more request stops here."""


@dataclass(frozen=True)
class RetryNote:
    """One 503 the client met: the request, the header as sent, and how it was read."""

    url: str
    value: str | None
    seconds: float | None  # None: no header, or one that is neither seconds nor a date


@dataclass
class Response:
    """One answered (or failed) request; ``body`` is decoded from any Content-Encoding."""

    url: str
    status: int  # 0 when no HTTP answer came (refused, timeout, bad TLS, foreign redirect)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    content_encoding: str | None = None  # as the server sent it
    accept_encoding: str = ACCEPT_ENCODING  # as the client asked
    error: str | None = None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def excerpt(self, limit: int = 300) -> str:
        text = self.body[:limit].decode("utf-8", "replace")
        return text + ("…" if len(self.body) > limit else "")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After (RFC 9110 §10.2.3: delay-seconds or HTTP-date)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def _decode(body: bytes, encoding: str | None) -> bytes:
    """Undo gzip or deflate (zlib-wrapped or raw, both are met in the wild), bounded."""
    if not encoding or encoding == "identity":
        return body
    if encoding in ("gzip", "x-gzip"):
        wbits = 31
    elif encoding == "deflate":
        wbits = 15 if body[:1] == b"\x78" else -15
    else:
        raise ValueError(f"unknown Content-Encoding {encoding!r}")
    decompressor = zlib.decompressobj(wbits)
    data = decompressor.decompress(body, MAX_BODY)
    if decompressor.unconsumed_tail:
        raise ValueError(f"the {encoding} body inflates to more than {MAX_BODY} bytes")
    return data


class Client:
    """GET requests to one OAI-PMH base URL, within a budget; ``log`` keeps every answer."""

    def __init__(
        self,
        base_url: str,
        *,
        max_requests: int = 200,
        delay: float = 1.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        if parts.fragment:
            raise ValueError(f"a base URL has no fragment: {base_url!r}")
        self.base_url = base_url
        self.origin = (parts.scheme, parts.hostname, parts.port)
        self.max_requests = max_requests
        self.delay = delay
        self.timeout = timeout
        self.sleep = sleep
        self.sent = 0
        self.log: list[Response] = []
        self.retries: list[RetryNote] = []

    @property
    def remaining(self) -> int:
        return self.max_requests - self.sent

    def url_for(self, params: Params) -> str:
        query = urlencode(list(params))
        if not query:
            return self.base_url
        return self.base_url + ("&" if "?" in self.base_url else "?") + query

    def get(self, params: Params, *, accept_encoding: str = ACCEPT_ENCODING) -> Response:
        """One OAI-PMH request; raises BudgetExhausted before sending past the budget."""
        url = self.url_for(params)
        response = self._follow(url, accept_encoding)
        for _ in range(MAX_RETRIES):
            if response.status != 503:
                break
            value = response.headers.get("retry-after")
            seconds = parse_retry_after(value)
            self.retries.append(RetryNote(url, value, seconds))
            wait = FALLBACK_WAIT if seconds is None else seconds
            if wait > MAX_WAIT:
                break  # too long to wait politely: the 503 is the answer
            response = self._follow(url, accept_encoding, wait=wait)
        self.log.append(response)
        return response

    def _follow(self, url: str, accept_encoding: str, wait: float | None = None) -> Response:
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send(url, accept_encoding, wait)
            wait = None
            location = response.headers.get("location")
            if response.status not in REDIRECTS or not location:
                return response
            target = urljoin(url, location)
            parts = urlsplit(target)
            if (parts.scheme, parts.hostname, parts.port) != self.origin:
                response.status = 0
                response.error = f"redirect to another host not followed: {target}"
                return response
            url = target
        response.status = 0
        response.error = f"more than {MAX_REDIRECTS} redirects"
        return response

    def _send(self, url: str, accept_encoding: str, wait: float | None) -> Response:
        if self.sent >= self.max_requests:
            raise BudgetExhausted(f"the budget of {self.max_requests} requests is spent")
        if self.sent:
            self.sleep(max(self.delay, wait or 0.0))
        elif wait:
            self.sleep(wait)
        self.sent += 1
        parts = urlsplit(url)
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(parts.hostname, parts.port, timeout=self.timeout)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": accept_encoding}
        try:
            connection.request("GET", target, headers=headers)
            answer = connection.getresponse()
            raw = answer.read(MAX_BODY + 1)
            names = {name.lower(): value for name, value in answer.getheaders()}
        except (OSError, http.client.HTTPException) as exc:  # ssl errors and timeouts are OSError
            return Response(url, 0, accept_encoding=accept_encoding, error=str(exc) or repr(exc))
        finally:
            connection.close()
        encoding = names.get("content-encoding", "").strip().lower() or None
        response = Response(url, answer.status, names, raw, encoding, accept_encoding)
        if len(raw) > MAX_BODY:
            response.error = f"the response is larger than {MAX_BODY} bytes"
            return response
        try:
            response.body = _decode(raw, encoding)
        except (ValueError, zlib.error) as exc:
            response.error = f"cannot decode the {encoding} body: {exc}"
        return response
