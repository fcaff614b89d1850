"""Pages for people and crawlers, served from the same store as ``/oai``.

One blueprint; each part of it is its own module, which attaches its routes to ``bp``:

* ``home`` — ``/``: what the repository holds and where to go from there;
* ``landing`` — ``/records/<id>``: one article per page, with the tags indexers read and
  FAIR Signposting headers; ``/metadata/<prefix>/<id>``: a bare metadata document;
* ``citations`` — "How to Cite" in CSL styles, and ``/cite/<format>/<id>`` downloads;
* ``explore`` — ``/explore``: the OAI-PMH responses rendered as HTML on the server;
* ``discovery`` — ``/sitemap.xml``, ``/robots.txt`` and the ``/browse`` pages;
* ``checks`` — ``/explore/checks``: the findings of the last ``oaipress check``.

Templates and static files (our own CSS and licence badges; no external assets, no
JavaScript needed) live beside this package.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from flask import Blueprint, Flask, current_app

from oai.pages.http import compressed

bp = Blueprint(
    "pages",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

bp.after_request(compressed)


@bp.app_context_processor
def _site() -> dict[str, Any]:
    return {"repository_name": current_app.config["OAIPRESS_REPOSITORY_NAME"]}


PARTS = ("home", "landing", "citations", "explore", "discovery", "checks")


def register(app: Flask) -> None:
    for part in PARTS:
        import_module(f"oai.pages.{part}")
    app.register_blueprint(bp)
