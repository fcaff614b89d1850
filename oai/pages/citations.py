"""How to Cite and citation downloads (placeholder until the citations part lands).

Interface the landing page relies on: :func:`citation_context` gives the template
``how_to_cite.html`` what it shows for one article and one chosen style.
"""

from __future__ import annotations

from typing import Any

from oai.pages.article import Article

DEFAULT_STYLE = "apa"


def citation_context(article: Article, style: str | None) -> dict[str, Any]:
    """``styles``: [(key, label)], ``style``: the chosen key, ``citation``: Markup,
    ``exports``: [(label, url, media type)]."""
    return {"styles": [], "style": style or DEFAULT_STYLE, "citation": "", "exports": []}
