"""Request heads checked against the limits, WSGI environs, and the front's own answers.

Pure functions over bytes: the loop (oai.serving.connection) does the I/O, h11 parses.
"""

from __future__ import annotations

import io
import re
import sys
import time
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote_to_bytes

import h11

from oai.http_errors import plain_error_bytes
from oai.serving.limits import (
    FIELD_COUNT_LIMIT,
    FIELD_LIMIT,
    HEADER_SECTION_LIMIT,
    REQUEST_LINE_LIMIT,
)

_HEAD_END = re.compile(rb"\n\r?\n")
#: Headers whose names hold "_" are dropped: WSGI turns "-" into "_" too, so
#: "X_Forwarded_For" could pass for "X-Forwarded-For" (gunicorn drops them as well).
_UNDERSCORE = b"_"


class Refusal(Exception):
    """A request the front answers itself, with ``status`` and one sentence, then closes."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def head_end(buffer: bytes | bytearray) -> int | None:
    """Where the request head in ``buffer`` ends (after its blank line), or None while
    it is still arriving; raises Refusal as soon as the head breaks a size limit."""
    line_end = buffer.find(b"\n")
    if line_end < 0:
        if len(buffer) > REQUEST_LINE_LIMIT + 1:  # + 1: a "\r" may still come
            raise _uri_too_long()
        return None
    line_length = line_end - 1 if line_end and buffer[line_end - 1] == 13 else line_end
    if line_length > REQUEST_LINE_LIMIT:
        raise _uri_too_long()
    found = _HEAD_END.search(buffer, line_end)
    end = found.end() if found else len(buffer)
    section = bytes(buffer[line_end + 1 : found.start() + 1 if found else end])
    if len(section) > HEADER_SECTION_LIMIT:
        raise _fields_too_large(f"the header fields are over {HEADER_SECTION_LIMIT} bytes")
    lines = section.split(b"\n")
    if len(lines) - (1 if found else 0) > FIELD_COUNT_LIMIT:
        raise _fields_too_large(f"more than {FIELD_COUNT_LIMIT} header fields")
    if any(len(line) > FIELD_LIMIT + 1 for line in lines):
        raise _fields_too_large(f"a header field is over {FIELD_LIMIT} bytes")
    return end if found else None


def _uri_too_long() -> Refusal:
    return Refusal(414, f"The request line is over {REQUEST_LINE_LIMIT} bytes.")


def _fields_too_large(why: str) -> Refusal:
    return Refusal(431, f"The request is refused: {why}.")


def environ_for(
    request: h11.Request,
    body: bytes,
    peer: tuple[Any, ...] | None,
    local: tuple[Any, ...] | None,
    *,
    multiprocess: bool,
) -> dict[str, Any]:
    """The PEP 3333 environ of a complete request."""
    target = request.target
    if not target.startswith(b"/") and b"://" in target:  # absolute-form (RFC 9112 §3.2.2)
        after_scheme = target.split(b"://", 1)[1]
        slash = after_scheme.find(b"/")
        target = after_scheme[slash:] if slash >= 0 else b"/"
    path, _, query = target.partition(b"?")
    path = path.partition(b"#")[0]
    server_name, server_port = (local[0], str(local[1])) if local else ("localhost", "80")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method.decode("ascii"),
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query.decode("latin-1"),
        "RAW_URI": request.target.decode("latin-1"),
        "REQUEST_URI": request.target.decode("latin-1"),
        "SERVER_NAME": str(server_name),
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": "HTTP/" + request.http_version.decode("ascii"),
        "REMOTE_ADDR": str(peer[0]) if peer else "",
        "REMOTE_PORT": str(peer[1]) if peer else "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": multiprocess,
        "wsgi.run_once": False,
    }
    for name, value in request.headers:
        if _UNDERSCORE in name:
            continue
        text = value.decode("latin-1")
        if name == b"content-type":
            environ["CONTENT_TYPE"] = text
        elif name == b"content-length":
            environ["CONTENT_LENGTH"] = text
        elif name == b"transfer-encoding":
            continue  # the body is complete and de-chunked
        else:
            key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
            environ[key] = f"{environ[key]},{text}" if key in environ else text
    if "CONTENT_LENGTH" not in environ and body:
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


_REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    413: "Content Too Large",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def refusal_bytes(status: int, message: str) -> bytes:
    """The whole HTTP/1.1 answer to a refused request: short plain text, then close."""
    return plain_error_bytes(status, _REASONS.get(status, "Error"), message, date=http_date())


_date_cache: tuple[int, str] = (0, "")


def http_date() -> str:
    """The Date header's value (RFC 9110 §6.6.1), computed once a second."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]
