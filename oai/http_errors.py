"""HTTP errors in plain words: what is not an OAI-PMH answer is a short text/plain page.

OAI-PMH errors are ``<error>`` elements in a 200 response (oai.protocol.views); everything else —
an unknown path, a wrong method, a body too large, a crash — used to be Flask's or
gunicorn's HTML page. Harvesters and people read these in logs and terminals, so
they get a status line and one sentence, and the 404 names the endpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, current_app, request, url_for
from werkzeug.exceptions import BadRequest, HTTPException, MethodNotAllowed, NotFound

ENDPOINT = "/oai"
CONTENT_TYPE = "text/plain; charset=utf-8"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def register(app: Flask) -> None:
    """Answer every HTTP error of ``app`` in plain text, and ``/oai/`` like ``/oai``."""
    app.register_error_handler(HTTPException, _plain_error)
    app.register_error_handler(UnicodeDecodeError, _undecodable_query)
    app.wsgi_app = _TrailingSlash(app.wsgi_app)  # type: ignore[method-assign]


def _undecodable_query(_error: UnicodeDecodeError) -> Response:
    """Raw bytes that are not UTF-8 in a query string: werkzeug raises when a page reads
    its arguments. The endpoint answers badArgument itself (oai.protocol.views)."""
    return _plain_error(BadRequest("The query string is not UTF-8; percent-encode it."))


class _TrailingSlash:
    """``/oai/`` is the endpoint too, answering exactly as ``/oai`` (its baseURL included).

    A base URL copied with a slash is a common mistake; a redirect would lose POST
    bodies with some clients, and a second route would echo ``/oai/`` as the baseURL.
    """

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") == ENDPOINT + "/":
            environ["PATH_INFO"] = ENDPOINT
        return self.app(environ, start_response)


def _plain_error(error: HTTPException) -> Response:
    response = error.get_response()  # keeps the status and headers such as Allow
    text = f"{error.code} {error.name}\n{_explanation(error)}\n"
    response.set_data(text.encode("utf-8"))
    response.content_type = CONTENT_TYPE
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _explanation(error: HTTPException) -> str:
    if isinstance(error, NotFound):
        return f"Nothing is served here. The OAI-PMH endpoint is {_endpoint_url()}"
    if isinstance(error, MethodNotAllowed):
        allowed = sorted(set(error.valid_methods or ()) - {"HEAD", "OPTIONS"})
        return f"{request.method} is not allowed here; use {' or '.join(allowed)}."
    if error.code == 500:
        return "The server failed to answer this request; the error is logged."
    return str(error.description or "").strip()


def _endpoint_url() -> str:
    repository = current_app.extensions.get("oaipress.repository")
    configured = getattr(repository, "base_url", "")
    return configured or url_for("oai.endpoint", _external=True)


def plain_error_bytes(status: int, reason: str, message: str, date: str | None = None) -> bytes:
    """A whole HTTP/1.1 answer refusing a request, written by the server itself (no app):
    a status line, one sentence in plain text, and ``Connection: close``.

    ``oaipress serve`` reads requests itself (oai.serving) and refuses those over its
    limits (400, 408, 413, 414, 431, 503) with these bytes, in the app's plain style.
    """
    body = f"{status} {reason}\n{message}\n" if message else f"{status} {reason}\n"
    data = body.encode("utf-8", "replace")
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        + (f"Date: {date}\r\n" if date else "")
        + "Connection: close\r\n"
        f"Content-Type: {CONTENT_TYPE}\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(data)}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + data
