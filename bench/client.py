"""A light OAI-PMH harvesting client for the benchmark, over ``http.client``.

It keeps one connection per harvester (keep-alive when the server allows it; a server
that closes after each response, like gunicorn's sync workers, costs a reconnect), reads
each response whole, and extracts what it needs with regular expressions on the bytes:
the ``<record>`` count, the resumptionToken and any ``<error code>``. Parsing is kept
cheap on purpose: the client shares the machine with the server it measures.

Everything is bounded: every request has a socket timeout, every loop a page limit and
an optional time limit, and 503 ``Retry-After`` answers are retried a few times only.
Only loopback servers are accepted.
"""

from __future__ import annotations

import html
import http.client
import math
import re
import socket
import time
from urllib.parse import urlencode, urlsplit

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
RECORD_RE = re.compile(rb"<(?:[\w.-]+:)?record[\s>]")
TOKEN_RE = re.compile(rb"<(?:[\w.-]+:)?resumptionToken(?:\s[^>]*)?(?:/>|>([^<]*)<)")
ERROR_RE = re.compile(rb"<(?:[\w.-]+:)?error\s[^>]*?code=[\"']([^\"']+)")
#: Upper bound on pages followed by one harvest when no limit is given (1M records at a
#: page size of 10, twice over): a server that hands out tokens forever stops here.
MAX_PAGES = 200_000


class HarvestError(Exception):
    """The server answered something a harvester cannot go on with."""


class OAIError(HarvestError):
    def __init__(self, code: str, request: str) -> None:
        super().__init__(f"OAI-PMH error {code!r} for {request}")
        self.code = code


class Client:
    """One connection to one OAI-PMH base URL."""

    def __init__(self, base_url: str, timeout: float = 120.0, retries_503: int = 5) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname not in LOOPBACK:
            raise ValueError(f"benchmark client only talks to http on loopback: {base_url}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self.timeout = timeout
        self.retries_503 = retries_503
        self.conn: http.client.HTTPConnection | None = None
        self.retried_503 = 0
        self.reconnects = 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _roundtrip(self, url: str) -> tuple[int, str | None, bytes]:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request("GET", url, headers={"Accept-Encoding": "identity"})
                resp = self.conn.getresponse()
                body = resp.read()
                if resp.will_close:
                    self.close()
                return resp.status, resp.getheader("Retry-After"), body
            except (
                http.client.RemoteDisconnected,
                BrokenPipeError,
                ConnectionResetError,
                http.client.CannotSendRequest,
            ):
                # a kept-alive connection the server had closed: one fresh try
                self.close()
                self.reconnects += 1
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def get(self, params: dict[str, str]) -> tuple[bytes, float]:
        """Body and latency (request sent to body read, seconds) of one GET."""
        url = self.path + "?" + urlencode(params)
        for _ in range(self.retries_503 + 1):
            started = time.perf_counter()
            status, retry_after, body = self._roundtrip(url)
            latency = time.perf_counter() - started
            if status == 503 and retry_after is not None:
                self.retried_503 += 1
                try:
                    wait = float(retry_after)
                except ValueError:
                    wait = 1.0
                time.sleep(min(max(wait, 0.0), 10.0))
                continue
            if status != 200:
                raise HarvestError(f"HTTP {status} for {url}: {body[:300]!r}")
            return body, latency
        raise HarvestError(f"still 503 after {self.retries_503} retries: {url}")


def parse_list_page(body: bytes, request: str = "ListRecords") -> tuple[int, str | None]:
    """``(number of records, next resumptionToken or None)`` of a ListRecords answer."""
    error = ERROR_RE.search(body)
    if error is not None:
        code = error.group(1).decode()
        if code == "noRecordsMatch":
            return 0, None
        raise OAIError(code, request)
    match = TOKEN_RE.search(body)
    token = None
    if match is not None and match.group(1):
        token = html.unescape(match.group(1).decode("utf-8")).strip() or None
    return len(RECORD_RE.findall(body)), token


def page_params(prefix: str, token: str | None, args: dict[str, str]) -> dict[str, str]:
    if token is not None:
        return {"verb": "ListRecords", "resumptionToken": token}
    return {"verb": "ListRecords", "metadataPrefix": prefix, **args}


def harvest(
    base_url: str,
    prefix: str = "oai_dc",
    *,
    start_token: str | None = None,
    max_pages: int | None = None,
    wrap: bool = False,
    time_limit: float | None = None,
    tokens: list[str] | None = None,
    timeout: float = 120.0,
    **args: str,
) -> tuple[int, float, list[float]]:
    """Follow resumptionTokens from the first page (or ``start_token``).

    Returns ``(records, seconds, page_latencies)``. ``args`` are extra ListRecords
    arguments (``set``, ``from``, ``until``; use ``**{"from": ...}``). ``tokens``, if a
    list, receives every token handed out, in order. With ``wrap`` the harvest starts
    over from the first page at the end of the list, until ``max_pages`` pages.
    Raises :class:`HarvestError` when ``time_limit`` (seconds) runs out.
    """
    limit = max_pages if max_pages is not None else MAX_PAGES
    records = 0
    latencies: list[float] = []
    token = start_token
    started = time.perf_counter()
    with Client(base_url, timeout=timeout) as client:
        while len(latencies) < limit:
            body, latency = client.get(page_params(prefix, token, args))
            latencies.append(latency)
            count, token = parse_list_page(body)
            records += count
            if tokens is not None and token is not None:
                tokens.append(token)
            if token is None:
                if not wrap:
                    break
            if time_limit is not None and time.perf_counter() - started > time_limit:
                raise HarvestError(
                    f"harvest of {base_url} over {time_limit:.0f} s "
                    f"after {len(latencies)} pages, {records} records"
                )
        else:
            if max_pages is None:
                raise HarvestError(f"more than {MAX_PAGES} pages: is the token loop endless?")
    return records, time.perf_counter() - started, latencies


def time_page(
    base_url: str,
    token: str | None = None,
    prefix: str = "oai_dc",
    repeat: int = 1,
    timeout: float = 120.0,
) -> list[float]:
    """Latencies of ``repeat`` requests for one ListRecords page (first page if no token)."""
    out = []
    with Client(base_url, timeout=timeout) as client:
        for _ in range(repeat):
            body, latency = client.get(page_params(prefix, token, {}))
            parse_list_page(body)  # raises on an error answer
            out.append(latency)
    return out


def time_pages(
    base_url: str,
    tokens: list[str | None],
    repeat: int,
    prefix: str = "oai_dc",
    timeout: float = 120.0,
) -> list[list[float]]:
    """Latencies of each page in ``tokens``, requested in turn ``repeat`` times over.

    Interleaving the pages spreads the machine's drift evenly over them.
    """
    out: list[list[float]] = [[] for _ in tokens]
    with Client(base_url, timeout=timeout) as client:
        for _ in range(repeat):
            for i, token in enumerate(tokens):
                body, latency = client.get(page_params(prefix, token, {}))
                parse_list_page(body)
                out[i].append(latency)
    return out


def get_records(
    base_url: str,
    identifiers: list[str],
    prefix: str = "oai_dc",
    errors: dict[str, int] | None = None,
    time_limit: float | None = None,
    timeout: float = 120.0,
) -> list[float]:
    """Latency of GetRecord for each identifier, in order.

    Error answers (``idDoesNotExist`` ...) are counted into ``errors`` if given, and
    raise :class:`OAIError` otherwise. A request is timed whatever its answer.
    """
    latencies = []
    started = time.perf_counter()
    with Client(base_url, timeout=timeout) as client:
        for identifier in identifiers:
            body, latency = client.get(
                {"verb": "GetRecord", "identifier": identifier, "metadataPrefix": prefix}
            )
            latencies.append(latency)
            error = ERROR_RE.search(body)
            if error is not None:
                code = error.group(1).decode()
                if errors is None:
                    raise OAIError(code, f"GetRecord {identifier}")
                errors[code] = errors.get(code, 0) + 1
            elif not RECORD_RE.search(body):
                raise HarvestError(f"GetRecord {identifier}: no <record> in the answer")
            if time_limit is not None and time.perf_counter() - started > time_limit:
                raise HarvestError(f"GetRecord loop over {time_limit:.0f} s")
    return latencies


def fetch(base_url: str, params: dict[str, str], timeout: float = 10.0) -> bytes:
    """One GET, for checks: the body of a 200 answer."""
    with Client(base_url, timeout=timeout, retries_503=0) as client:
        return client.get(params)[0]


def wait_until_up(base_url: str, timeout: float, alive=lambda: True) -> float:
    """Poll Identify until it answers; returns the seconds waited.

    ``alive`` is called between polls; when it returns False (the server process died)
    the wait ends at once with :class:`HarvestError`.
    """
    started = time.perf_counter()
    last: Exception | None = None
    while time.perf_counter() - started < timeout:
        if not alive():
            raise HarvestError(f"server for {base_url} exited before answering")
        try:
            body = fetch(base_url, {"verb": "Identify"}, timeout=5.0)
            if b"Identify" in body:
                return time.perf_counter() - started
            last = HarvestError(f"Identify answer without <Identify>: {body[:200]!r}")
        except (OSError, HarvestError, http.client.HTTPException) as exc:
            last = exc
        time.sleep(0.2)
    raise HarvestError(f"{base_url} did not answer Identify within {timeout:.0f} s: {last}")


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    k = max(0, math.ceil(p / 100 * len(ordered)) - 1)
    return ordered[k]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
