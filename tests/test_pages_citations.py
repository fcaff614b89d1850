"""How to Cite: the example article in every style, exactly; escaping; the style choice.

The exact strings are the HTML that citeproc-py renders from the record's CSL-JSON item
(oai.pages.csl), after oai.pages.citations works around citeproc-py's defects.

APA 7 (§9.25, 10.1) for the example: the title stays as published (all capitals): APA
asks for sentence case, but recasing a title needs to know its proper nouns and acronyms
(``China``, ``PRC``), which no program does, and the record format keeps titles as given;
italic journal title and volume; page range with an en dash; no DOI, so the URL of the
article's page ends the entry, without a full stop after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask, render_template_string
from markupsafe import Markup

from oai.pages import citations
from oai.pages.article import Article, load_article
from oai.pages.citations import DEFAULT_STYLE, STYLES, citation_context, render
from oai.pages.csl import csl_item
from tests.conftest import decode_body, example_record, make_record
from tests.htmlcheck import XHTML, assert_valid_page, parse_strict

URL = "https://ca-c.org/CAC/index.php/cac/article/view/587"
LINK = f'<a href="{URL}">{URL}</a>'
TITLE = "CENTRAL ASIAN STATES AND CHINA: COOPERATION TODAY AND PROSPECTS FOR TOMORROW"
JOURNAL = "<i>Central Asia and the Caucasus</i>"

#: the example article in each style, exactly as the page shows it
EXAMPLE_CITATIONS = {
    "apa": f"Mukimdzhanova, R. (2004). {TITLE}. {JOURNAL}, <i>5</i>(4), 61–70. {LINK}",
    "mla": f"Mukimdzhanova, R. “{TITLE}.” {JOURNAL}, vol. 5, no. 4, 2004, pp. 61–70, {LINK}.",
    "chicago": f"Mukimdzhanova, R. 2004. “{TITLE}.” {JOURNAL} 5 (4): 61–70. {LINK}.",
    "harvard": (
        f"Mukimdzhanova, R. (2004) ‘{TITLE}’, {JOURNAL}, 5(4), pp. 61–70. Available at: {LINK}."
    ),
    "ieee": (
        f"[1] R. Mukimdzhanova, “{TITLE},” {JOURNAL}, vol. 5, no. 4, pp. 61–70, 2004, "
        f"[Online]. Available: {LINK}"
    ),
    "vancouver": (
        f"1. Mukimdzhanova R. {TITLE}. Central Asia and the Caucasus [Internet]. "
        f"2004;5(4):61–70. Available from: {LINK}"
    ),
    "acm": (
        f"[1] R. Mukimdzhanova. 2004. {TITLE}. {JOURNAL} 5, 4 (2004), 61–70. Retrieved from {LINK}"
    ),
}

TRICKY_TITLE = "<script>alert('x')</script> Fish & Chips: R&D <b>bold</b> &amp; more?"


def article_of(record: dict[str, Any]) -> Article:
    """An Article straight from a record dict, for rendering without a store."""
    from datetime import datetime

    return Article(
        local_id=record["id"],
        identifier=f"oai:repo.example.org:{record['id']}",
        datestamp=datetime(2020, 1, 1),
        deleted=bool(record.get("deleted")),
        record=record,
        sets=(),
    )


@pytest.fixture
def stored(app: Flask, load: Callable[..., Any]) -> Iterator[Article]:
    """The example article, read back from the store (each backend)."""
    load([example_record()])
    with app.test_request_context():
        article = load_article("article/587")
        assert article is not None
        yield article


# --- the example article, exactly -----------------------------------------------------------


def test_apa_is_the_default_style_and_renders_the_example_article_exactly(
    stored: Article,
) -> None:
    context = citation_context(stored, None)
    assert context["style"] == DEFAULT_STYLE == "apa"
    assert isinstance(context["citation"], Markup)
    assert str(context["citation"]) == EXAMPLE_CITATIONS["apa"]


@pytest.mark.parametrize("style", list(EXAMPLE_CITATIONS))
def test_each_style_renders_the_example_article_exactly(stored: Article, style: str) -> None:
    context = citation_context(stored, style)
    assert context["style"] == style
    assert str(context["citation"]) == EXAMPLE_CITATIONS[style]


def test_styles_are_offered_in_order_with_honest_labels() -> None:
    assert list(STYLES) == ["apa", "mla", "chicago", "harvard", "ieee", "vancouver", "acm"]
    assert STYLES["vancouver"] == "Vancouver (NLM)"
    assert STYLES["harvard"] == "Harvard (Cite Them Right)"
    files = {key: style.csl for key, style in citations.CSL_STYLES.items()}
    assert files == {
        "apa": "apa",
        "mla": "modern-language-association",
        "chicago": "chicago-author-date",
        "harvard": "harvard-cite-them-right",
        "ieee": "ieee",
        "vancouver": "nlm-citation-sequence",
        "acm": "association-for-computing-machinery",
    }


@pytest.mark.parametrize("asked", [None, "", "nope", "APA", "../apa", "apa\x00", "x" * 5000])
def test_an_unknown_style_falls_back_to_apa(stored: Article, asked: str | None) -> None:
    context = citation_context(stored, asked)
    assert context["style"] == "apa"
    assert str(context["citation"]) == EXAMPLE_CITATIONS["apa"]


def test_styles_are_parsed_once_per_process() -> None:
    item = csl_item(article_of(example_record()))
    render(item, "mla")
    before = citations._load.cache_info()
    render(item, "mla")
    after = citations._load.cache_info()
    assert after.hits == before.hits + 1 and after.misses == before.misses


def test_the_context_offers_every_download_with_its_media_type(stored: Article) -> None:
    context = citation_context(stored, "ieee")
    assert context["styles"] == list(STYLES.items())
    assert context["exports"] == [
        ("BibTeX", "/cite/bib/article/587", "application/x-bibtex"),
        ("RIS", "/cite/ris/article/587", "application/x-research-info-systems"),
        ("EndNote", "/cite/enw/article/587", "application/x-endnote-refer"),
        ("CSL-JSON", "/cite/json/article/587", "application/vnd.citationstyles.csl+json"),
    ]


# --- escaping -------------------------------------------------------------------------------


def tricky_record() -> dict[str, Any]:
    return make_record(
        7,
        title=TRICKY_TITLE,
        authors=[
            {"family": "Smith & <Wesson>", "given": "A."},
            {"family": "Ødegård", "given": "Åse"},
        ],
        journal={"title": "Journal of <i>R&D</i>", "issn": None, "eissn": None},
        volume="3<4",
        issue="1&2",
        pages="1-9",
        doi="10.1000/a&b<c>",
        url="https://journal.example.org/view?a=1&b=<2>",
    )


@pytest.mark.parametrize("style", list(STYLES))
def test_record_text_is_escaped_in_every_style(style: str) -> None:
    citation = str(render(csl_item(article_of(tricky_record())), style))
    paragraph = parse_strict(f"<!DOCTYPE html><title>t</title><p>{citation}</p>").find(
        f".//{XHTML}p"
    )
    assert paragraph is not None
    tags = {el.tag.removeprefix(XHTML) for el in paragraph.iterdescendants()}
    assert tags <= {"i", "a"}, tags
    text = "".join(paragraph.itertext())
    assert TRICKY_TITLE.lower() in text.lower()  # MLA and Chicago title-case it
    assert "Smith & <Wesson>" in text
    assert "<script" not in citation and "<b>" not in citation
    assert "&amp;amp; more" in citation.lower()  # the record's own "&amp;" is text, as typed
    for link in paragraph.iter(f"{XHTML}a"):
        assert link.get("href") in (
            "https://doi.org/10.1000/a&b%3Cc%3E",
            "https://journal.example.org/view?a=1&b=<2>",
        )


def test_an_ampersand_in_the_record_id_does_not_confuse_the_processor() -> None:
    record = make_record(1, id="a&b<c>/1")
    assert str(render(csl_item(article_of(record)), "apa")).startswith("Author, A. (2004).")


# --- citeproc-py's defects, worked around ---------------------------------------------------


def test_american_styles_put_the_period_and_comma_inside_the_closing_quote(stored: Article) -> None:
    assert "TOMORROW.”" in str(citation_context(stored, "mla")["citation"])
    assert "TOMORROW.”" in str(citation_context(stored, "chicago")["citation"])
    assert "TOMORROW,”" in str(citation_context(stored, "ieee")["citation"])
    for style in ("mla", "chicago", "ieee"):
        assert "”." not in str(citation_context(stored, style)["citation"])
        assert "”," not in str(citation_context(stored, style)["citation"])


def test_a_title_ending_in_a_question_mark_gets_no_second_stop() -> None:
    record = make_record(1, title="Is it safe?", journal={"title": "Safety"})
    cited = {style: str(render(csl_item(article_of(record)), style)) for style in STYLES}
    assert "(2004). Is it safe? <i>" in cited["apa"]
    book_like = make_record(1, title="Is it safe?")  # no journal: the title is italic
    assert "(2004). <i>Is it safe?</i> <a" in str(render(csl_item(article_of(book_like)), "apa"))
    assert "“Is It Safe?” <i>" in cited["mla"]
    assert "“Is it safe?” <i>" in cited["ieee"]
    for text in cited.values():
        assert "?." not in text and "?,”" not in text


def test_harvard_is_british_single_quotes_and_punctuation_outside() -> None:
    cited = str(render(csl_item(article_of(example_record())), "harvard"))
    assert f"‘{TITLE}’, <i>" in cited


def test_numbered_styles_keep_a_space_after_the_number(stored: Article) -> None:
    assert str(citation_context(stored, "ieee")["citation"]).startswith("[1] R. Mukimdzhanova")
    assert str(citation_context(stored, "acm")["citation"]).startswith("[1] R. Mukimdzhanova")
    assert str(citation_context(stored, "vancouver")["citation"]).startswith("1. Mukimdzhanova")


def test_localized_dates_use_the_locales_delimiter() -> None:
    record = make_record(1, published="2004-03-15", journal={"title": "J"}, volume="5")
    assert "2004 Mar 15;5" in str(render(csl_item(article_of(record)), "vancouver"))


def test_a_doi_is_cited_as_a_link_percent_encoded_where_a_uri_needs_it() -> None:
    record = make_record(1, doi="10.1002/(SICI)1097-4636(199812)43:4<441::AID-JBM5>3.0.CO;2-G")
    href = "https://doi.org/10.1002/(SICI)1097-4636(199812)43:4%3C441::AID-JBM5%3E3.0.CO;2-G"
    shown = "10.1002/(SICI)1097-4636(199812)43:4&lt;441::AID-JBM5&gt;3.0.CO;2-G"
    apa = str(render(csl_item(article_of(record)), "apa"))
    assert apa.endswith(f'<a href="{href}">https://doi.org/{shown}</a>')
    assert "journal.example.org" not in apa  # APA: the DOI, not the URL
    ieee = str(render(csl_item(article_of(record)), "ieee"))
    assert f'doi: <a href="{href}">{shown}</a>.' in ieee


def test_a_record_with_little_metadata_still_renders() -> None:
    record = {"id": "x/1", "title": "Untitled", "authors": [], "published": "2004", "url": ""}
    for style in STYLES:
        assert "Untitled" in str(render(csl_item(article_of(record)), style))


def test_a_non_english_title_is_never_recased() -> None:
    record = make_record(
        1, title="über die reform der schulen", language="de", journal={"title": "Z"}
    )
    assert "“über die reform der schulen.”" in str(render(csl_item(article_of(record)), "mla"))


def test_a_deleted_record_has_no_citation() -> None:
    context = citation_context(article_of({"id": "gone/1", "deleted": True, "sets": []}), "mla")
    assert context["citation"] == "" and context["exports"] == [] and context["style"] == "mla"


# --- the block on a page --------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Test</title></head>
<body><main><h1>An article</h1>{% include "how_to_cite.html" %}</main></body></html>"""


@pytest.fixture
def page_app(app: Flask) -> Flask:
    """The app with a bare page that includes how_to_cite.html (the landing page's role)."""

    def cite_page(local_id: str) -> str:
        from flask import request

        article = load_article(local_id)
        assert article is not None
        return render_template_string(PAGE, **citation_context(article, request.args.get("style")))

    app.add_url_rule("/test-cite/<path:local_id>", view_func=cite_page)
    return app


def test_the_block_offers_styles_as_links_with_the_current_one_marked(
    page_app: Flask, load: Callable[..., Any]
) -> None:
    load([example_record()])
    response = page_app.test_client().get("/test-cite/article/587?style=chicago")
    assert response.status_code == 200
    root = assert_valid_page(decode_body(response).decode())
    section = root.find(f".//{XHTML}section")
    assert section is not None and section.get("aria-labelledby") == "how-to-cite"
    links = section.findall(f".//{XHTML}nav//{XHTML}a")
    assert [(a.get("href"), a.text) for a in links] == [
        (f"?style={key}#how-to-cite", label) for key, label in STYLES.items()
    ]
    current = [a.get("href") for a in links if a.get("aria-current") == "true"]
    assert current == ["?style=chicago#how-to-cite"]
    citation = section.find(f".//{XHTML}p[@class='citation']")
    assert citation is not None
    assert "".join(citation.itertext()).startswith("Mukimdzhanova, R. 2004. “CENTRAL")
    downloads = section.findall(f".//{XHTML}div[@class='citation-downloads']//{XHTML}a")
    assert [(a.text, a.get("href"), a.get("type")) for a in downloads] == [
        (label, url, media) for label, url, media in citation_context_exports()
    ]
    assert all(a.get("download") is not None for a in downloads)
    stylesheet = root.find(f".//{XHTML}link[@rel='stylesheet']")
    assert stylesheet is not None and stylesheet.get("href") == "/static/citations.css"
    with page_app.test_request_context():  # served by the blueprint (see the report on /static)
        served = page_app.view_functions["pages.static"](filename="citations.css")
        assert served.status_code == 200
        served.close()


def citation_context_exports() -> list[tuple[str, str, str]]:
    return [
        ("BibTeX", "/cite/bib/article/587", "application/x-bibtex"),
        ("RIS", "/cite/ris/article/587", "application/x-research-info-systems"),
        ("EndNote", "/cite/enw/article/587", "application/x-endnote-refer"),
        ("CSL-JSON", "/cite/json/article/587", "application/vnd.citationstyles.csl+json"),
    ]


def test_the_block_escapes_a_hostile_title(page_app: Flask, load: Callable[..., Any]) -> None:
    load([tricky_record()])
    response = page_app.test_client().get("/test-cite/article/7?style=mla")
    text = decode_body(response).decode()
    root = assert_valid_page(text)
    assert not root.findall(f".//{XHTML}script") and "<script>" not in text
    citation = root.find(f".//{XHTML}p[@class='citation']")
    assert citation is not None
    assert "<script>alert('x')</script> Fish & Chips" in "".join(citation.itertext())


def test_the_landing_page_shows_the_how_to_cite_block(
    app: Flask, client: Any, load: Callable[..., Any]
) -> None:
    if "pages.landing" not in app.view_functions:
        pytest.skip("the landing page is not there yet")
    load([example_record()])
    response = client.get("/records/article/587?style=harvard")
    if response.status_code == 404 and b"/oai" in decode_body(response):
        pytest.skip("the landing page is not there yet")
    assert response.status_code == 200
    root = assert_valid_page(decode_body(response).decode())
    section = root.find(f".//{XHTML}section[@aria-labelledby='how-to-cite']")
    assert section is not None
    citation = section.find(f".//{XHTML}p[@class='citation']")
    assert citation is not None
    assert "".join(citation.itertext()) == (
        f"Mukimdzhanova, R. (2004) ‘{TITLE}’, Central Asia and the Caucasus, 5(4), "
        f"pp. 61–70. Available at: {URL}."
    )
    current = section.findall(f".//{XHTML}a[@aria-current='true']")
    assert [a.text for a in current] == [STYLES["harvard"]]
