"""An OAI-PMH client for harvesting: polite retries, compression, one parsed response.

Harvester guidelines §5 and §7: a ``503`` with ``Retry-After`` is waited out (up to
:data:`MAX_RETRY_AFTER` seconds), a ``503`` without it or any other failure of the
network or the server is retried a few times with growing pauses, never forever;
redirects are followed; ``gzip`` is asked for. OAI errors come back as
:class:`OAIError` (``noRecordsMatch`` is an empty list, not an error, for the caller).
"""

from __future__ import annotations

import gzip
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from lxml import etree

from oai.protocol.rendering import OAI_NS

USER_AGENT = "oaipress-harvester/1 (+https://www.openarchives.org/pmh/)"
TIMEOUT = 60.0  # seconds, per request
ATTEMPTS = 5  # per request, the first included
BACKOFF = (5.0, 15.0, 45.0, 120.0)  # seconds between attempts without Retry-After
MAX_RETRY_AFTER = 600.0  # a longer wait ends the harvest: come back later
MAX_RESPONSE = 512 * 1024 * 1024  # bytes of one decompressed response

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


class HarvestFailed(Exception):
    """The source could not be harvested (network, HTTP, not OAI-PMH); says why in one line."""


class OAIError(Exception):
    """The source answered with an OAI-PMH ``<error>``."""

    def __init__(self, code: str, message: str, response_date: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.response_date = response_date


@dataclass(frozen=True)
class Response:
    """One OAI-PMH response: its root element and its responseDate as the source wrote it."""

    root: etree._Element
    response_date: str

    def find(self, path: str) -> etree._Element | None:
        return self.root.find(path, NS)


NS = {"oai": OAI_NS}


class Client:
    """GET requests to one base URL. ``sleep`` and ``opener`` are replaceable for tests."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] = lambda _message: None,
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.sleep = sleep
        self.log = log

    def request(self, verb: str, **arguments: str | None) -> Response:
        """One verb; raises :class:`OAIError` for an OAI error, :class:`HarvestFailed` else."""
        query = {"verb": verb, **{k: v for k, v in arguments.items() if v is not None}}
        url = f"{self.base_url}?{urllib.parse.urlencode(query)}"
        body = self._fetch(url)
        return _parse(body, url)

    def _fetch(self, url: str) -> bytes:
        last = ""
        for attempt in range(ATTEMPTS):
            wait: float | None
            try:
                return self._get(url)
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code} {exc.reason}"
                if exc.code == 503:
                    wait = _retry_after(exc.headers.get("Retry-After"))
                    if wait is not None and wait > MAX_RETRY_AFTER:
                        raise HarvestFailed(
                            f"{url}: the source asks to come back in {wait:.0f} s"
                        ) from None
                elif exc.code >= 500 or exc.code == 429:
                    wait = _retry_after(exc.headers.get("Retry-After"))
                else:
                    raise HarvestFailed(f"{url}: {last}") from None
            except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                last = f"cannot reach the source ({reason})"
                wait = None
            if attempt + 1 == ATTEMPTS:
                break
            pause = wait if wait is not None else BACKOFF[min(attempt, len(BACKOFF) - 1)]
            self.log(f"{last}; trying again in {pause:.0f} s")
            self.sleep(pause)
        raise HarvestFailed(f"{url}: {last} (after {ATTEMPTS} attempts)")

    def _get(self, url: str) -> bytes:
        request = urllib.request.Request(
            url,
            headers={"Accept-Encoding": "gzip;q=1.0, identity;q=0.5", "User-Agent": USER_AGENT},
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            data: bytes = response.read(MAX_RESPONSE + 1)
            encoding = (response.headers.get("Content-Encoding") or "").lower()
        if encoding == "gzip":
            data = gzip.decompress(data)
        elif encoding == "deflate":
            data = zlib.decompress(data)
        if len(data) > MAX_RESPONSE:
            raise HarvestFailed(f"{url}: the response is larger than {MAX_RESPONSE:,} bytes")
        return data


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date); None when absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _parse(body: bytes, url: str) -> Response:
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise HarvestFailed(f"{url}: the response is not XML ({exc})") from None
    if root.tag != f"{{{OAI_NS}}}OAI-PMH":
        raise HarvestFailed(f"{url}: the response is not OAI-PMH (root {root.tag})")
    response_date = (root.findtext("oai:responseDate", namespaces=NS) or "").strip()
    errors = root.findall("oai:error", NS)
    if errors:
        error = errors[0]
        text = " ".join((error.text or "").split())
        raise OAIError(error.get("code") or "unknown", text, response_date)
    if not response_date:
        raise HarvestFailed(f"{url}: the response has no responseDate")
    return Response(root, response_date)
