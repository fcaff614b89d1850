"""How crawlers and people find every article: ``/browse`` pages and ``/robots.txt``.

Google Scholar needs "a simple browse list or site map that links each article", reachable
without JavaScript or forms. The browse pages are plain links: by set and by publication
year, 100 articles a page, each page linking the next and the previous by keyset
(``?after=<local id>``), so a crawler following links reaches every live record and no
page costs more than the first. The sitemaps are ``oai.pages.sitemaps``.
"""

from __future__ import annotations

import re

from flask import Response, current_app, render_template, request, url_for

from oai.pages import bp, sitemaps
from oai.pages.browsing import html_page, memoized, read_connection
from oai.pages.landing import external_url
from records import browse
from records.validate import LOCAL_ID_RE, SET_SPEC_RE

#: articles per browse page
PAGE_SIZE = 100
YEAR_RE = re.compile(r"[0-9]{4}")
#: a local id is at most 512 characters (records.models.Record.local_id)
MAX_KEY_LENGTH = 512

__all__ = ["sitemaps"]  # registers the sitemap routes on ``bp``


def not_found(heading: str, message: str, *, start_url: str | None = None) -> Response:
    """A 404 page in the site's frame, with the ways back in."""
    body = render_template(
        "browse_missing.html", heading=heading, message=message, start_url=start_url
    )
    return Response(body, status=404, mimetype="text/html")


@bp.route("/browse", endpoint="browse")
def browse_index() -> Response:
    with read_connection() as connection:
        version = browse.version(connection)

        def render() -> str:
            overview = memoized("overview", version, lambda: browse.overview(connection))
            return render_template("browse.html", overview=overview)

        return html_page(version, render, variant="browse")


@bp.route("/browse/sets/<spec>")
def browse_set(spec: str) -> Response:
    valid, after = _after_argument()
    if not valid:
        return _bad_position()
    if not SET_SPEC_RE.fullmatch(spec):  # not looked up, nor echoed (a NUL byte, say)
        return not_found("No such set", "This is not the setSpec of a set.")
    with read_connection() as connection:
        found = browse.find_set(connection, spec)
        if found is None:
            return not_found("No such set", f"This repository has no set “{spec}”.")
        name, description = found
        page = browse.set_page(connection, spec, after, PAGE_SIZE)
        if not page.entries and after is not None:
            return not_found(
                "No more articles",
                f"The set “{name}” has no articles after this point. Start again from its "
                "first page.",
                start_url=url_for("pages.browse_set", spec=spec),
            )
        version = browse.version(connection)

    def render() -> str:
        return render_template(
            "browse_list.html",
            heading=name,
            subtitle=f"Set {spec}" if name != spec else None,
            description=description,
            page=page,
            start_url=url_for("pages.browse_set", spec=spec),
            page_url=lambda key: url_for("pages.browse_set", spec=spec, after=key),
            after=after,
        )

    return html_page(version, render, variant="set")


@bp.route("/browse/years/<year>")
def browse_year(year: str) -> Response:
    if not YEAR_RE.fullmatch(year):
        return not_found("No such year", "A year is four digits, such as 2004.")
    valid, after = _after_argument()
    if not valid:
        return _bad_position()
    with read_connection() as connection:
        position: tuple[str, str] | None = None
        if after is not None:
            published = browse.year_position(connection, year, after)
            if published is None:
                return not_found(
                    "This page has moved",
                    "The article this page started after is no longer listed under "
                    f"{year}. Start again from the first page of {year}.",
                    start_url=url_for("pages.browse_year", year=year),
                )
            position = (published, after)
        page = browse.year_page(connection, year, position, PAGE_SIZE)
        if not page.entries and position is None:
            return not_found(
                "No articles from this year",
                f"This repository holds no article published in {year}.",
            )
        version = browse.version(connection)

    def render() -> str:
        return render_template(
            "browse_list.html",
            heading=f"Articles published in {year}",
            subtitle=None,
            description=None,
            page=page,
            start_url=url_for("pages.browse_year", year=year),
            page_url=lambda key: url_for("pages.browse_year", year=year, after=key),
            after=after,
        )

    return html_page(version, render, variant="year")


def _after_argument() -> tuple[bool, str | None]:
    """(valid, key): the ``after`` key of a page (None: the first page)."""
    values = request.args.getlist("after")
    if not values:
        return True, None
    if len(values) > 1 or len(values[0]) > MAX_KEY_LENGTH or not LOCAL_ID_RE.fullmatch(values[0]):
        return False, None
    return True, values[0]


def _bad_position() -> Response:
    return not_found("No such page", "The “after” argument of this address is not valid.")


ROBOTS = """\
# {name}: every article has a landing page under /records/, linked from the browse pages
# (/browse) and listed in the sitemaps (below).
User-agent: *
# /oai is the OAI-PMH endpoint for harvesters and /explore shows it to people: their
# resumption-token links never end, and a crawler would spend its budget on them. /cite/
# serves citation downloads of the same records; the landing pages hold everything.
Disallow: /oai
Disallow: /explore
Disallow: /cite/
Allow: /

Sitemap: {sitemap}
"""


@bp.route("/robots.txt")
def robots() -> Response:
    name = " ".join(current_app.config["OAIPRESS_REPOSITORY_NAME"].split())
    text = ROBOTS.format(name=name, sitemap=external_url("pages.sitemap_index"))
    response = Response(text, mimetype="text/plain")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
