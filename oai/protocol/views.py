"""The /oai endpoint (§3.1): GET and POST, one error path, streamed and compressed output."""

from __future__ import annotations

import functools
import logging
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

from flask import Blueprint, Response, current_app, request, url_for
from lxml import etree
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from oai.protocol.arguments import OAIRequest, parse_request
from oai.protocol.errors import BadArgument, OAIError
from oai.protocol.verbs import VERB_HANDLERS, Reply, Repository
from oai.protocol.writer import Streamed, envelope, oai, serialize
from oai.store import Store
from records.replica import ReplicaBehind

bp = Blueprint("oai", __name__)
log = logging.getLogger(__name__)
CONTENT_TYPE = "text/xml; charset=utf-8"
#: the XSLT named by every response, a static file of the pages blueprint
STYLESHEET = "oaipress.xsl"


def _repository(base_url: str | None = None) -> Repository:
    repo: Repository = current_app.extensions["oaipress.repository"]
    if not repo.base_url:
        repo = replace(repo, base_url=base_url or request.base_url)
    return repo


def _arguments() -> list[tuple[str, str]]:
    if request.method == "POST":
        if request.mimetype != "application/x-www-form-urlencoded":
            raise BadArgument("POST requests must be application/x-www-form-urlencoded (§3.1.1.2)")
        _check_form_encoding()
        return list(request.form.items(multi=True))
    try:
        return list(request.args.items(multi=True))
    except UnicodeDecodeError:  # raw (unescaped) bytes that are not UTF-8: werkzeug raises
        raise BadArgument("the query string is not UTF-8 (§3.1.1.3)") from None


def _check_form_encoding() -> None:
    """A POST body that is not UTF-8 is a badArgument (§3.1.1.3).

    werkzeug drops such a body silently, which would answer "the verb is missing" to a
    request that has one. Bodies over the form size limit are left to werkzeug (413).
    """
    limit = request.max_form_memory_size
    length = request.content_length
    if length is None or (limit is not None and length > limit):
        return
    try:
        request.get_data(cache=True).decode("utf-8")
    except UnicodeDecodeError:
        raise BadArgument("the request body is not UTF-8 (§3.1.1.3)") from None


def _unavailable(message: str) -> Response:
    retry_after = str(current_app.config["OAIPRESS_RETRY_AFTER"])
    response = Response(message + "\n", status=503, mimetype="text/plain")
    response.headers["Retry-After"] = retry_after
    return response


class Unavailable(Exception):
    """The store cannot answer now (503 with Retry-After); ``message`` says why, in words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


Body = list[bytes] | Streamed


def protocol_response(
    arguments: Callable[[], list[tuple[str, str]]],
    *,
    base_url: str | None = None,
    stylesheet: str | None = None,
) -> Body:
    """The bytes of the OAI-PMH response to ``arguments()``: an answer or an ``<error>``.

    The one implementation of the protocol: ``/oai`` sends these bytes, ``/explore``
    parses them into a page. ``arguments`` is called inside the error handling so that
    a request whose arguments cannot be read (a bad POST body) gets a badArgument.
    ``base_url`` is the baseURL when none is configured (default: this request's URL);
    ``stylesheet`` the URL of the XSLT named in the response. Raises :class:`Unavailable`.
    """
    if current_app.extensions["oaipress.stale"]:
        raise Unavailable(
            "The store was rendered for another repository identifier; run `oaipress rebuild`."
        )
    repo = _repository(base_url)
    # The clock that freezes list windows: a harvester that comes back `from` this
    # responseDate must not miss what changed while it harvested (§3.5.1).
    response_date = repo.now()
    store: Store = current_app.extensions["oaipress.store"]
    attributes: dict[str, str] | None = None
    try:
        oai_request = parse_request(arguments())
        attributes = {"verb": oai_request.verb, **oai_request.arguments}
        reply = _answer(store, repo, oai_request)
    except OAIError as error:
        root = envelope(
            error.response_date or response_date,
            repo.base_url,
            attributes if error.echoes_request else None,
            stylesheet,
        )
        element = etree.SubElement(root, oai("error"), code=error.code)
        element.text = error.message
        return [serialize(root)]
    except DBAPIError:
        log.exception("the database cannot answer")
        raise Unavailable("The repository's database is unavailable; please retry later.") from None
    except PoolTimeout:
        log.warning("no database connection became free in time: the server is saturated")
        raise Unavailable("The repository is busy; please retry later.") from None
    root = envelope(reply.response_date or response_date, repo.base_url, attributes, stylesheet)
    root.append(reply.element)
    if reply.pieces is None:
        return [serialize(root)]
    return Streamed(root, reply.element, reply.pieces)


def stylesheet_url() -> str:
    """Where the XSLT that makes ``/oai`` readable in a browser is served (same origin)."""
    return url_for("pages.static", filename=STYLESHEET)


@bp.route("/oai", methods=["GET", "POST"])
def endpoint() -> Response:
    try:
        body = protocol_response(_arguments, stylesheet=stylesheet_url())
    except Unavailable as unavailable:
        return _unavailable(unavailable.message)
    return _respond(body)


def _answer(store: Store, repo: Repository, oai_request: OAIRequest) -> Reply:
    """Run the verb on the read connection, or on the primary when a replica lags."""
    handler = VERB_HANDLERS[oai_request.verb]
    try:
        return store.read(lambda connection: handler(repo, connection, oai_request))
    except ReplicaBehind:
        log.info("the read replica lags: this request is answered by the primary")
    on_primary = replace(
        repo,
        list_clock=functools.partial(store.list_clock, on_primary=True),
        check_replayed=None,
    )
    return store.read(
        lambda connection: handler(on_primary, connection, oai_request), on_primary=True
    )


def _respond(body: Body) -> Response:
    encoding = request.accept_encodings.best_match(["gzip", "deflate"], default=None)
    if encoding:
        response = Response(_compress(body, encoding), content_type=CONTENT_TYPE)
        response.headers["Content-Encoding"] = encoding
    else:
        response = Response(body, content_type=CONTENT_TYPE)
        response.headers["Content-Length"] = str(
            len(body) if isinstance(body, Streamed) else sum(map(len, body))
        )
    response.headers["Vary"] = "Accept-Encoding"
    return response


def _compress(chunks: Iterable[bytes], encoding: str) -> Iterator[bytes]:
    """gzip or zlib-wrapped deflate (RFC 9110 'deflate'), as §3.1.3 lets the client ask."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
    for chunk in chunks:
        data = compressor.compress(chunk)
        if data:
            yield data
    yield compressor.flush()
