"""``/``: what the repository holds and where to go from there.

The counts (live records, deleted records, records per set and per year) come from one
round of aggregate queries (records.browse.overview), kept until the store changes; the
page is validated by the store's version, so a client that has it gets a 304 before
anything is counted (oai.pages.browsing).
"""

from __future__ import annotations

from flask import Response, current_app, render_template, url_for

from oai.pages import bp
from oai.pages.browsing import html_page, memoized, read_connection
from oai.pages.landing import external_url
from records import browse


def oai_base_url() -> str:
    """The baseURL harvesters must use: the configured one (as Identify says), else ours."""
    repository = current_app.extensions["oaipress.repository"]
    return repository.base_url or url_for("oai.endpoint", _external=True)


@bp.route("/")
def home() -> Response:
    with read_connection() as connection:
        version = browse.version(connection)

        def render() -> str:
            return render_template(
                "home.html",
                overview=memoized("overview", version, lambda: browse.overview(connection)),
                oai_url=oai_base_url(),
                sitemap_url=external_url("pages.sitemap_index"),
                admin_emails=current_app.extensions["oaipress.repository"].admin_emails,
            )

        return html_page(version, render, variant="home")
