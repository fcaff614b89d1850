"""How long and how large a request may be, and how many connections a worker keeps.

The sizes are fixed (they are what the protocol needs: a 64 KiB request line carries any
identifier or resumption token a harvester may send); the timeouts and the connection cap
are settings (``OAIPRESS_HEADER_TIMEOUT`` and friends, see oai.config).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KIB = 1024
#: The request line ("GET /oai?verb=… HTTP/1.1") without its line end: longer is a 414.
REQUEST_LINE_LIMIT = 64 * KIB
#: One header field line, their number, and all of them together: beyond any is a 431.
FIELD_LIMIT = 8 * KIB
FIELD_COUNT_LIMIT = 100
HEADER_SECTION_LIMIT = 16 * KIB
#: A request body (POST): the app's own form limit (werkzeug's max_form_memory_size),
#: so a body the front lets through is one the protocol answers. Larger is a 413.
BODY_LIMIT = 500_000
#: A body may take the head's deadline plus one second per this many bytes.
BODY_MIN_RATE = 16 * KIB
#: Bytes a response thread hands to the loop at once (each hand-over wakes the loop), and
#: what the loop may hold per connection before the thread waits for the client.
FLUSH_SIZE = 128 * KIB
WRITE_BUFFER_HIGH = 256 * KIB
#: After refusing a request, what is still read (and dropped) before closing, so the
#: client reads the refusal instead of a connection reset.
LINGER_SECONDS = 2.0
LINGER_BYTES = 1024 * KIB


@dataclass(frozen=True)
class Limits:
    """The settings of the front, in seconds and connections."""

    header_timeout: float = 10.0  # from the first byte of a request to the end of its head
    keepalive_timeout: float = 5.0  # idle between two requests on one connection
    write_timeout: float = 30.0  # the longest a client may take to take a response chunk
    max_connections: int = 1000  # open connections per worker process

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Limits:
        """The checked ``OAIPRESS_*`` settings (oai.config) as limits."""
        return cls(
            header_timeout=float(settings["OAIPRESS_HEADER_TIMEOUT"]),
            keepalive_timeout=float(settings["OAIPRESS_KEEPALIVE_TIMEOUT"]),
            write_timeout=float(settings["OAIPRESS_WRITE_TIMEOUT"]),
            max_connections=int(settings["OAIPRESS_MAX_CONNECTIONS"]),
        )

    def body_deadline(self, size: int) -> float:
        """Seconds a body of ``size`` bytes may take to arrive."""
        return self.header_timeout + size / BODY_MIN_RATE
