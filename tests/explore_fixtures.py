"""Shared by the /explore and XSLT tests: an app whose pages can all be linked, and page reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from tests.htmlcheck import XHTML, assert_valid_page

#: endpoints base.html and the explore pages link to; other parts of the pages issue
#: define them, and a stand-in is added only while a part is missing
LINKED_ENDPOINTS = {
    "pages.home": "/",
    "pages.browse": "/browse",
    "pages.landing": "/records/<path:local_id>",
}


def linkable(app: Flask) -> Flask:
    """``app``, with a stand-in for each linked page endpoint no part defines yet."""
    for endpoint, rule in LINKED_ENDPOINTS.items():
        if endpoint not in app.view_functions:
            app.add_url_rule(rule, endpoint=endpoint, view_func=_stand_in)
    return app


def _stand_in(**_: Any) -> str:
    return "stand-in"


def page(client: FlaskClient, status: int = 200, **params: str) -> etree._Element:
    """GET /explore with ``params`` (``from_`` for ``from``): a valid HTML5 page."""
    query = {("from" if k == "from_" else k): v for k, v in params.items()}
    response = client.get("/explore", query_string=query)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "text/html"
    return assert_valid_page(response.get_data(as_text=True))


def find_all(root: etree._Element, path: str) -> list[etree._Element]:
    """``path`` in XHTML: ``h:`` is the XHTML namespace prefix."""
    return root.xpath(path, namespaces={"h": XHTML.strip("{}")})


def text_of(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def links(root: etree._Element, text: str | None = None) -> list[str]:
    """Every link's href; with ``text``, only links whose text contains it."""
    return [
        a.get("href")
        for a in find_all(root, "//h:a[@href]")
        if text is None or text.lower() in text_of(a).lower()
    ]


def main_text(
    root: etree._Element, *, without: Callable[[etree._Element], bool] | None = None
) -> str:
    """The text of <main>, leaving out elements for which ``without`` is true."""
    main = find_all(root, "//h:main")[0]
    parts: list[str] = []

    def walk(element: etree._Element) -> None:
        if without is not None and without(element):
            return
        parts.append(element.text or "")
        for child in element:
            if isinstance(child.tag, str):
                walk(child)
            parts.append(child.tail or "")

    walk(main)
    return " ".join("".join(parts).split())
