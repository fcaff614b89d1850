"""Citation downloads ``/cite/<fmt>/<id>``: each file parses back, with every field of the
record, in the reader each format has (bibtexparser, rispy, a refer reader, json), and is
served with its media type, a safe file name and conditional GET."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import bibtexparser
import pytest
import rispy
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from oai.pages.article import load_article
from oai.pages.citations import STYLES, render
from oai.pages.csl import csl_item
from oai.pages.exports import bibtex, download_name
from tests.conftest import decode_body, example_record, make_record

TITLE = "CENTRAL ASIAN STATES AND CHINA: COOPERATION TODAY AND PROSPECTS FOR TOMORROW"
URL = "https://ca-c.org/CAC/index.php/cac/article/view/587"
SPECIALS = r"{ } % & $ # _ \ ~ ^ < > |"
DOI = "10.1002/(SICI)1097-4636(199812)43:4<441::AID-JBM5>3.0.CO;2-G"

MEDIA = {
    "bib": "application/x-bibtex",
    "ris": "application/x-research-info-systems",
    "enw": "application/x-endnote-refer",
    "json": "application/vnd.citationstyles.csl+json",
}


def rich_record() -> dict[str, Any]:
    """Several authors with non-ASCII names, DOI, both ISSNs, pages, a full date, a German
    title and abstract with every character LaTeX treats specially, keywords, publisher."""
    return make_record(
        42,
        id="zfoer/2019:42(3)",
        title=f"Über Lärm & Ökonomie: 100% {SPECIALS} – eine Studie",
        language="de",
        authors=[
            {"family": "Müller-Lüdenscheidt", "given": "Jürgen"},
            {"family": "Ødegård", "given": "Åse"},
            {"family": "Иванов", "given": "Иван"},
            {"family": "Procter and Gamble Research"},
            {"family": "van der Berg", "given": "Jan"},
        ],
        abstract=f"Wir messen {SPECIALS}.\n\nZweiter Absatz: 50% mehr & $3.",
        keywords=["Lärm", "R&D", "cost_benefit"],
        journal={
            "title": "Zeitschrift für Ökonomie & Recht",
            "issn": "0000-0019",
            "eissn": "1234-5679",
            "publisher": "Verlag Müller & Söhne",
        },
        volume="12",
        issue="3",
        pages="101-119",
        published="2019-03-15",
        doi=DOI,
        url="https://journal.example.org/article/view/42?lang=de&x=1",
    )


@pytest.fixture
def loaded(load: Callable[..., Any]) -> None:
    load([example_record(), rich_record(), make_record(9)])
    load([{"id": "article/9", "deleted": True}])


def download(client: FlaskClient, fmt: str, local_id: str) -> str:
    response = client.get(f"/cite/{fmt}/{local_id}")
    assert response.status_code == 200, decode_body(response)
    return decode_body(response).decode("utf-8")


# --- BibTeX ---------------------------------------------------------------------------------

#: inverse of the LaTeX escaping the BibTeX writer does
UNLATEX = {
    r"\textbackslash{}": "\\",
    r"\textbraceleft{}": "{",
    r"\textbraceright{}": "}",
    r"\textasciitilde{}": "~",
    r"\textasciicircum{}": "^",
    r"\textless{}": "<",
    r"\textgreater{}": ">",
    r"\textbar{}": "|",
    r"\%": "%",
    r"\&": "&",
    r"\$": "$",
    r"\#": "#",
    r"\_": "_",
}


def unlatex(value: str) -> str:
    pattern = "|".join(re.escape(k) for k in UNLATEX)
    return re.sub(pattern, lambda m: UNLATEX[m.group()], value)


def parse_bibtex(text: str) -> tuple[str, str, dict[str, str]]:
    """(entry type, key, fields); bibtexparser's default stack removes the enclosing braces."""
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks, library.failed_blocks
    (entry,) = library.entries
    return entry.entry_type, entry.key, {field.key: field.value for field in entry.fields}


@pytest.mark.usefixtures("loaded")
def test_bibtex_of_the_example_article(client: FlaskClient) -> None:
    text = download(client, "bib", "article/587")
    assert text.startswith(
        "@article{mukimdzhanova2004central,\n"
        "  author = {Mukimdzhanova, R.},\n"
        f"  title = {{{{{TITLE}}}}},\n"
        "  journal = {Central Asia and the Caucasus},\n"
        "  year = {2004},\n"
        "  volume = {5},\n"
        "  number = {4},\n"
        "  pages = {61--70},\n"
        f"  url = {{{URL}}},\n"
        "  language = {en},\n"
        "  abstract = {Relations with the PRC are a high foreign pol-icy priority"
    )
    entry_type, key, fields = parse_bibtex(text)
    assert (entry_type, key) == ("article", "mukimdzhanova2004central")
    record = example_record()
    assert fields["title"] == "{" + TITLE + "}"  # braced: no style recases it
    assert unlatex(fields["abstract"]) == " ".join(record["abstract"].split())
    assert set(fields) == {
        *("author", "title", "journal", "year", "volume", "number", "pages", "url"),
        *("language", "abstract"),
    }


@pytest.mark.usefixtures("loaded")
def test_bibtex_of_a_rich_record_parses_back_with_every_field(client: FlaskClient) -> None:
    record = rich_record()
    entry_type, key, fields = parse_bibtex(download(client, "bib", "zfoer/2019:42(3)"))
    assert (entry_type, key) == ("article", "mullerludenscheidt2019uber")
    assert fields["author"] == (
        "Müller-Lüdenscheidt, Jürgen and Ødegård, Åse and Иванов, Иван"
        " and {Procter and Gamble Research} and van der Berg, Jan"
    )
    assert unlatex(fields["title"][1:-1]) == record["title"]
    assert unlatex(fields["journal"]) == record["journal"]["title"]
    assert unlatex(fields["publisher"]) == record["journal"]["publisher"]
    assert (fields["year"], fields["month"]) == ("2019", "mar")
    assert (fields["volume"], fields["number"], fields["pages"]) == ("12", "3", "101--119")
    assert fields["issn"] == "0000-0019, 1234-5679"
    assert fields["doi"] == DOI  # verbatim: printed with \url, never LaTeX-escaped
    assert fields["url"] == record["url"]
    assert fields["language"] == "de"
    assert unlatex(fields["abstract"]) == " ".join(record["abstract"].split())
    assert [unlatex(k) for k in fields["keywords"].split(", ")] == record["keywords"]


def test_bibtex_escapes_every_latex_special_character() -> None:
    from tests.test_pages_citations import article_of

    text = bibtex(article_of(make_record(1, title=SPECIALS, journal={"title": "A_B"})))
    assert (
        "  title = {{"
        + (
            r"\textbraceleft{} \textbraceright{} \% \& \$ \# \_ \textbackslash{} "
            r"\textasciitilde{} \textasciicircum{} \textless{} \textgreater{} \textbar{}"
        )
        + "}},\n"
        in text
    )
    assert "  journal = {A\\_B},\n" in text
    # a lone brace cannot unbalance the entry
    lone = bibtex(article_of(make_record(1, title="a { b", abstract="c } d")))
    assert parse_bibtex(lone)[2]["abstract"] == r"c \textbraceright{} d"


def test_bibtex_keys_are_ascii_and_stable() -> None:
    from tests.test_pages_citations import article_of

    def key(**fields: Any) -> str:
        return parse_bibtex(bibtex(article_of(make_record(1, **fields))))[1]

    assert key(authors=[{"family": "Ødegård"}], title="The Fjords") == "odegard2004fjords"
    assert key(authors=[{"family": "Иванов"}], title="Война и мир") == "anon2004"
    assert key(authors=[], title="On a theory") == "anon2004theory"
    assert key(title="A", authors=[{"family": "X"}]) == key(title="A", authors=[{"family": "X"}])


# --- RIS --------------------------------------------------------------------------------------


def parse_ris(text: str) -> dict[str, Any]:
    (reference,) = rispy.loads(text, list_tags=[*rispy.LIST_TYPE_TAGS, "SN"])
    return reference


@pytest.mark.usefixtures("loaded")
def test_ris_of_the_example_article(client: FlaskClient) -> None:
    text = download(client, "ris", "article/587")
    assert text.startswith("TY  - JOUR\r\nAU  - Mukimdzhanova, R.\r\n")
    assert text.endswith("ER  - \r\n")
    assert "\n" not in text.replace("\r\n", "")  # CRLF lines only
    reference = parse_ris(text)
    assert reference["type_of_reference"] == "JOUR"
    assert reference["authors"] == ["Mukimdzhanova, R."]
    assert reference["title"] == TITLE
    assert (
        reference["secondary_title"]
        == reference["journal_name"]
        == ("Central Asia and the Caucasus")
    )
    assert (reference["start_page"], reference["end_page"]) == ("61", "70")
    assert (reference["volume"], reference["number"], reference["year"]) == ("5", "4", "2004")
    assert reference["urls"] == [URL]
    assert reference["language"] == "en"
    assert reference["abstract"] == " ".join(example_record()["abstract"].split())
    assert "date" not in reference and "doi" not in reference


@pytest.mark.usefixtures("loaded")
def test_ris_of_a_rich_record_parses_back_with_every_field(client: FlaskClient) -> None:
    record = rich_record()
    reference = parse_ris(download(client, "ris", "zfoer/2019:42(3)"))
    assert reference["authors"] == [
        "Müller-Lüdenscheidt, Jürgen",
        "Ødegård, Åse",
        "Иванов, Иван",
        "Procter and Gamble Research",
        "van der Berg, Jan",
    ]
    assert reference["title"] == record["title"]
    assert reference["secondary_title"] == reference["journal_name"] == record["journal"]["title"]
    assert reference["publisher"] == record["journal"]["publisher"]
    assert reference["issn"] == ["0000-0019", "1234-5679"]
    assert (reference["year"], reference["date"]) == ("2019", "2019/03/15/")
    assert (reference["start_page"], reference["end_page"]) == ("101", "119")
    assert reference["doi"] == DOI
    assert reference["urls"] == [record["url"]]
    assert reference["keywords"] == record["keywords"]
    assert reference["language"] == "de"
    assert reference["abstract"] == " ".join(record["abstract"].split())


# --- EndNote ----------------------------------------------------------------------------------


def parse_refer(text: str) -> list[tuple[str, str]]:
    """EndNote tagged format: ``%X value`` lines, one reference, no blank line inside."""
    lines = text.split("\n")
    assert lines[-1] == "" and "" not in lines[:-1]
    pairs = []
    for line in lines[:-1]:
        match = re.fullmatch(r"(%[0-9A-Z@])\s(.+)", line)
        assert match, line
        pairs.append((match.group(1), match.group(2)))
    return pairs


@pytest.mark.usefixtures("loaded")
def test_endnote_of_the_example_article(client: FlaskClient) -> None:
    pairs = parse_refer(download(client, "enw", "article/587"))
    assert pairs[:9] == [
        ("%0", "Journal Article"),
        ("%A", "Mukimdzhanova, R."),
        ("%T", TITLE),
        ("%J", "Central Asia and the Caucasus"),
        ("%D", "2004"),
        ("%V", "5"),
        ("%N", "4"),
        ("%P", "61-70"),
        ("%U", URL),
    ]
    assert pairs[9:] == [("%G", "en"), ("%X", " ".join(example_record()["abstract"].split()))]


@pytest.mark.usefixtures("loaded")
def test_endnote_of_a_rich_record_carries_every_field(client: FlaskClient) -> None:
    record = rich_record()
    pairs = parse_refer(download(client, "enw", "zfoer/2019:42(3)"))
    assert pairs == [
        ("%0", "Journal Article"),
        ("%A", "Müller-Lüdenscheidt, Jürgen"),
        ("%A", "Ødegård, Åse"),
        ("%A", "Иванов, Иван"),
        ("%A", "Procter and Gamble Research"),
        ("%A", "van der Berg, Jan"),
        ("%T", record["title"]),
        ("%J", record["journal"]["title"]),
        ("%D", "2019"),
        ("%8", "2019-03-15"),
        ("%V", "12"),
        ("%N", "3"),
        ("%P", "101-119"),
        ("%I", record["journal"]["publisher"]),
        ("%@", "0000-0019"),
        ("%@", "1234-5679"),
        ("%R", DOI),
        ("%U", record["url"]),
        ("%G", "de"),
        ("%X", " ".join(record["abstract"].split())),
        ("%K", "Lärm"),
        ("%K", "R&D"),
        ("%K", "cost_benefit"),
    ]


# --- CSL-JSON ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("loaded")
def test_csl_json_of_the_example_article(client: FlaskClient) -> None:
    (item,) = json.loads(download(client, "json", "article/587"))
    record = example_record()
    assert item == {
        "id": "article/587",
        "type": "article-journal",
        "title": TITLE,
        "author": [{"family": "Mukimdzhanova", "given": "R."}],
        "issued": {"date-parts": [[2004]]},
        "container-title": "Central Asia and the Caucasus",
        "volume": "5",
        "issue": "4",
        "page": "61-70",
        "URL": URL,
        "language": "en",
        "abstract": record["abstract"],
    }


@pytest.mark.usefixtures("loaded")
def test_csl_json_of_a_rich_record_carries_every_field(client: FlaskClient) -> None:
    record = rich_record()
    (item,) = json.loads(download(client, "json", "zfoer/2019:42(3)"))
    assert item["author"][:2] == [
        {"family": "Müller-Lüdenscheidt", "given": "Jürgen"},
        {"family": "Ødegård", "given": "Åse"},
    ]
    assert item["author"][3] == {"family": "Procter and Gamble Research"}
    assert item["issued"] == {"date-parts": [[2019, 3, 15]]}
    assert item["title"] == record["title"]
    assert item["container-title"] == record["journal"]["title"]
    assert item["publisher"] == record["journal"]["publisher"]
    assert item["ISSN"] == "0000-0019, 1234-5679"
    assert (item["volume"], item["issue"], item["page"]) == ("12", "3", "101-119")
    assert (item["DOI"], item["URL"]) == (DOI, record["url"])
    assert (item["language"], item["abstract"]) == ("de", record["abstract"])
    assert item["keyword"] == "Lärm, R&D, cost_benefit"


@pytest.mark.usefixtures("loaded")
def test_the_csl_json_download_is_the_item_the_page_cites(app: Flask, client: FlaskClient) -> None:
    (item,) = json.loads(download(client, "json", "zfoer/2019:42(3)"))
    with app.test_request_context():
        article = load_article("zfoer/2019:42(3)")
        assert article is not None
        assert item == csl_item(article)
        for style in STYLES:
            assert render(item, style) == render(csl_item(article), style)


# --- HTTP -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("fmt", list(MEDIA))
def test_downloads_have_their_media_type_and_a_safe_file_name(
    client: FlaskClient, fmt: str
) -> None:
    response = client.get(f"/cite/{fmt}/zfoer/2019:42(3)")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"{MEDIA[fmt]}; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="zfoer-2019-42-3.{fmt}"'
    example = client.get(f"/cite/{fmt}/article/587")
    assert example.headers["Content-Disposition"] == f'attachment; filename="article-587.{fmt}"'


def test_file_names_keep_only_safe_characters() -> None:
    assert download_name("article/587", "bib") == "article-587.bib"
    assert download_name("../../etc/passwd", "ris") == "etc-passwd.ris"
    assert download_name('a"b;c\r\nd', "enw") == "a-b-c-d.enw"
    assert download_name("Øre/ß", "json") == "Ore-ss.json"
    assert download_name("...", "bib") == "citation.bib"
    assert len(download_name("x" * 600, "bib")) == 104


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("fmt", list(MEDIA))
def test_downloads_answer_conditional_requests_with_304(client: FlaskClient, fmt: str) -> None:
    first = client.get(f"/cite/{fmt}/article/587")
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert fmt in etag
    again = client.get(f"/cite/{fmt}/article/587", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    since = client.get(f"/cite/{fmt}/article/587", headers={"If-Modified-Since": last_modified})
    assert since.status_code == 304


@pytest.mark.usefixtures("loaded")
def test_each_format_has_its_own_etag(client: FlaskClient) -> None:
    etags = {client.get(f"/cite/{fmt}/article/587").headers["ETag"] for fmt in MEDIA}
    assert len(etags) == len(MEDIA)


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/cite/pdf/article/587", 404),
        ("/cite/BIB/article/587", 404),
        ("/cite/bib/article/999", 404),
        ("/cite/bib/" + "x" * 5000, 404),
        ("/cite/bib/a%00b", 404),
        ("/cite/ris/article/9", 410),
        ("/cite/json/article/9", 410),
    ],
)
def test_what_cannot_be_downloaded_is_a_plain_text_4xx(
    client: FlaskClient, path: str, status: int
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "Content-Disposition" not in response.headers
    first, message = decode_body(response).decode().splitlines()
    assert first == {404: "404 Not Found", 410: "410 Gone"}[status]
    assert message.startswith(("There is no", "The record"))
    assert len(message) < 400  # an echoed id is cut short


def test_a_download_while_the_database_is_down_is_a_503_to_retry(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(local_id: str) -> None:
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr("oai.pages.citations.load_article", unavailable)
    response = client.get("/cite/bib/article/587")
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert decode_body(response).decode().startswith("503 Service Unavailable\n")
