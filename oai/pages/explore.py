"""``/explore``: the OAI-PMH endpoint as HTML pages, rendered on the server.

``/explore?verb=…`` takes the arguments of ``/oai`` and gets its answer from the protocol
code itself (oai.protocol.views.protocol_response): the same bytes a harvester gets,
parsed with lxml (oai.pages.explore_render) and shown with Jinja2. So the same arguments
give the same errors, and a list page holds at most one configured page of records.

One difference, for people: a blank field of the form is left out rather than sent as an
empty argument (which ``/oai`` answers with badArgument, §3.1.1), because an HTML form
sends every field. A bare ``/explore`` shows the form instead of answering badVerb.

Caching: ``Cache-Control: no-cache``. Every answer carries a new responseDate, and every
list page a newly signed resumption token, so there is nothing to revalidate against
(``/records/<id>`` is the page with validators); a page costs one protocol request.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, current_app, render_template, request, url_for
from lxml import etree

from oai.pages import bp
from oai.pages.explore_errors import explain
from oai.pages.explore_render import read_response
from oai.protocol.views import Unavailable, protocol_response

#: the form's fields, in the order of the form, with what they are for
FIELDS = (
    ("identifier", "Identifier", "GetRecord; ListMetadataFormats (optional)"),
    ("metadataPrefix", "Metadata prefix", "GetRecord, ListIdentifiers, ListRecords"),
    ("from", "From (date)", "ListIdentifiers, ListRecords (optional)"),
    ("until", "Until (date)", "ListIdentifiers, ListRecords (optional)"),
    ("set", "Set", "ListIdentifiers, ListRecords (optional)"),
    ("resumptionToken", "Resumption token", "continues a list: use it alone"),
)
VERB_ORDER = (
    "Identify",
    "ListMetadataFormats",
    "ListSets",
    "ListIdentifiers",
    "ListRecords",
    "GetRecord",
)
#: errors that say the request was wrong (400) or named nothing that exists (404);
#: the others (noRecordsMatch, noSetHierarchy, noMetadataFormats) are empty answers
ERROR_STATUS = {
    "badVerb": 400,
    "badArgument": 400,
    "badResumptionToken": 400,
    "idDoesNotExist": 404,
    "cannotDisseminateFormat": 404,
}
CACHE_CONTROL = "no-cache"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


@bp.route("/explore")
def explore() -> Response:
    pairs = [(k, v) for k, v in request.args.items(multi=True) if v or k == "verb"]
    context = {
        "fields": FIELDS,
        "verbs": VERB_ORDER,
        "chosen": dict(reversed(pairs)),  # the first value of each name, as the form shows
        "prefixes": sorted(current_app.extensions["oaipress.repository"].formats),
        "explain": explain,
        "explore_url": _explore_url,
        "oai_url": _oai_url,
        "sent": pairs,
    }
    if not pairs:
        return _page(render_template("explore.html", response=None, **context), 200)
    try:
        body = protocol_response(lambda: pairs, base_url=url_for("oai.endpoint", _external=True))
    except Unavailable as unavailable:
        html = render_template("explore_unavailable.html", message=unavailable.message)
        response = _page(html, 503)
        response.headers["Retry-After"] = str(current_app.config["OAIPRESS_RETRY_AFTER"])
        return response
    document = etree.fromstring(b"".join(body), _PARSER)
    read = read_response(document, current_app.config["OAIPRESS_REPOSITORY_IDENTIFIER"])
    html = render_template("explore.html", response=read, raw_url=_oai_url(pairs), **context)
    status = max((ERROR_STATUS.get(e.code, 200) for e in read.errors), default=200)
    return _page(html, status)


def _page(html: str, status: int) -> Response:
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def _explore_url(**arguments: str) -> str:
    """``/explore`` with these OAI arguments (``from_`` for ``from``)."""
    return _with_query(url_for("pages.explore"), _pairs(arguments))


def _oai_url(pairs: list[tuple[str, str]] | None = None, **arguments: str) -> str:
    """The raw XML: ``/oai`` with these arguments."""
    return _with_query(url_for("oai.endpoint"), pairs or _pairs(arguments))


def _pairs(arguments: dict[str, str]) -> list[tuple[str, str]]:
    return [("from" if k == "from_" else k, v) for k, v in arguments.items() if v]


def _with_query(path: str, pairs: list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(pairs)}" if pairs else path
