"""The article landing page /records/<id> and the bare metadata documents /metadata/<prefix>/<id>.

Every page goes through tests.htmlcheck.assert_valid_page; meta tags are read with lxml
from that parse, JSON-LD, RDFa and DC with extruct, COinS with urllib; every metadata
document is validated against its schema (JATS: its DTD) by tests.xmlvalidate.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import extruct
import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from tests.conftest import NS, example_record, make_record
from tests.formats_fixtures import RICH, rich_record
from tests.htmlcheck import XHTML, assert_valid_page
from tests.xmlvalidate import validate_element

SITE = "http://repo.example.org"
EXAMPLE_URL = "https://ca-c.org/CAC/index.php/cac/article/view/587"
RICH_PDF = "https://ca-c.org/CAC/index.php/cac/article/download/9001/101"
RICH_HTML = "https://ca-c.org/CAC/index.php/cac/article/download/9001/102"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
CAC_SET = {"set": "cac", "name": "Central Asia and the Caucasus"}


@pytest.fixture
def site(app: Flask, client: FlaskClient) -> FlaskClient:
    """The client, with stand-ins for the base template's links if their parts are missing."""
    for endpoint, rule in (
        ("pages.home", "/"),
        ("pages.browse", "/browse"),
        ("pages.explore", "/explore"),
    ):
        if endpoint not in app.view_functions:
            app.add_url_rule(rule, endpoint=endpoint, view_func=lambda: "")
    return client


def page(client: FlaskClient, path: str, status: int = 200, **kwargs: Any) -> Any:
    response = client.get(path, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    return response, text, assert_valid_page(text)


def metas(root: etree._Element, prefix: str = "") -> list[tuple[str, str]]:
    """Every ``<meta name content>`` whose name starts with ``prefix``, in document order."""
    return [
        (m.get("name"), m.get("content"))
        for m in root.iter(f"{XHTML}meta")
        if (m.get("name") or "").startswith(prefix) and m.get("content") is not None
    ]


def meta_values(root: etree._Element, name: str) -> list[str]:
    return [content for n, content in metas(root, name) if n == name]


def head_links(root: etree._Element, rel: str) -> list[str]:
    return [link.get("href") for link in root.iter(f"{XHTML}link") if link.get("rel") == rel]


def by_id(root: etree._Element, element_id: str) -> etree._Element:
    found = root.find(f".//*[@id='{element_id}']")
    assert found is not None, element_id
    return found


def text_of(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def json_ld_blocks(text: str, url: str) -> list[dict[str, Any]]:
    return extruct.extract(text, base_url=url, syntaxes=["json-ld"], uniform=False)["json-ld"]


# --- the example article ---------------------------------------------------------------


def test_example_article_carries_every_highwire_tag_scholar_reads(site, load):
    load([CAC_SET, example_record()])
    _, _, root = page(site, "/records/article/587")
    record = example_record()
    assert metas(root, "citation_") == [
        ("citation_title", record["title"]),
        ("citation_author", "Mukimdzhanova, R."),
        ("citation_publication_date", "2004"),
        ("citation_journal_title", "Central Asia and the Caucasus"),
        ("citation_volume", "5"),
        ("citation_issue", "4"),
        ("citation_firstpage", "61"),
        ("citation_lastpage", "70"),
        ("citation_language", "en"),
        ("citation_abstract_html_url", EXAMPLE_URL),
        *(("citation_reference", r) for r in record["references"]),
    ]
    assert len(meta_values(root, "citation_reference")) == 16


def test_example_article_names_its_journal_page_as_canonical_and_says_so(site, load):
    load([example_record()])
    _, _, root = page(site, "/records/article/587")
    assert head_links(root, "canonical") == [EXAMPLE_URL]
    note = root.find(".//*[@class='home-note']")
    assert "This article's home is" in text_of(note)
    assert note.find(f"{XHTML}a").get("href") == EXAMPLE_URL


def test_example_article_shows_everything_in_reading_order(site, load):
    load([CAC_SET, example_record()])
    _, text, root = page(site, "/records/article/587")
    record = example_record()
    h1 = root.find(f".//{XHTML}h1")
    assert text_of(h1) == record["title"] and h1.get("lang") == "en"
    authors = root.find(f".//{XHTML}ul[@aria-label='Authors']")
    assert text_of(authors) == "R. Mukimdzhanova"
    line = root.find(".//*[@class='citation-line']")
    assert text_of(line) == "Central Asia and the Caucasus, Vol. 5, No. 4 (2004), pp. 61\u201370"
    # No file here: the page sends the reader to the article's home.
    assert "No full-text file is held here" in text_of(by_id(root, "full-text").getparent())
    abstract = text_of(root.find(".//*[@class='abstract']"))
    assert abstract.startswith("Relations with the PRC") and abstract.endswith("extremism.")
    references = root.findall(f".//{XHTML}ol[@class='references']/{XHTML}li")
    assert [text_of(li) for li in references] == [" ".join(r.split()) for r in record["references"]]
    ids = [el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")]
    order = ["article-title", "full-text", "how-to-cite", "abstract", "references"]
    order += ["licence", "access", "sets", "formats"]
    assert [i for i in ids if i in order] == order
    positions = [text.index(s) for s in ('class="authors"', 'class="citation-line"')]
    assert text.index('id="article-title"') < positions[0] < positions[1] < text.index("full-text")


def test_example_article_licence_badge_statement_and_access(site, load):
    load([example_record()])
    _, _, root = page(site, "/records/article/587")
    licence = by_id(root, "licence").getparent()
    links = [a for a in licence.iter(f"{XHTML}a") if a.get("rel") == "license"]
    assert [a.get("href") for a in links] == ["https://creativecommons.org/licenses/by/4.0/"]
    assert text_of(links[0]) == "Creative Commons Attribution 4.0 International"
    assert "Copyright (c) 2004 Author" in text_of(licence)
    badge = licence.find(f".//{XHTML}img")
    assert badge.get("src") == "/static/badges/cc-by.svg"
    assert badge.get("alt") == ""  # the licence's name is the text right after it
    assert head_links(root, "license") == ["https://creativecommons.org/licenses/by/4.0/"]
    access = by_id(root, "access").getparent()
    assert "Open access" in text_of(access)
    assert "(c_abf2)" in text_of(access)
    assert (
        access.xpath(".//*[local-name()='a']/@href")[-1]
        == "http://purl.org/coar/access_right/c_abf2"
    )


def test_example_article_links_its_sets_with_their_names(site, load):
    load([CAC_SET, example_record()])
    _, _, root = page(site, "/records/article/587")
    links = {
        a.get("href"): text_of(a)
        for a in root.findall(f".//{XHTML}ul[@class='sets']/{XHTML}li/{XHTML}a")
    }
    assert links["/browse/sets/cac"] == "Central Asia and the Caucasus"
    # The computed aggregator sets of an open-access record are there too.
    assert "/browse/sets/openaire" in links


def test_example_article_json_ld_is_one_scholarly_article(site, load):
    load([example_record()])
    _, text, _ = page(site, "/records/article/587")
    blocks = json_ld_blocks(text, f"{SITE}/records/article/587")
    assert len(blocks) == 1
    data = blocks[0]
    assert data["@type"] == "ScholarlyArticle"
    assert data["@id"] == data["url"] == EXAMPLE_URL
    assert data["name"] == example_record()["title"]
    assert data["author"] == [
        {
            "@type": "Person",
            "name": "R. Mukimdzhanova",
            "familyName": "Mukimdzhanova",
            "givenName": "R.",
        }
    ]
    assert data["datePublished"] == "2004" and data["inLanguage"] == "en"
    assert (data["pageStart"], data["pageEnd"], data["pagination"]) == ("61", "70", "61-70")
    issue = data["isPartOf"]
    assert (issue["@type"], issue["issueNumber"]) == ("PublicationIssue", "4")
    volume = issue["isPartOf"]
    assert (volume["@type"], volume["volumeNumber"]) == ("PublicationVolume", "5")
    assert volume["isPartOf"] == {"@type": "Periodical", "name": "Central Asia and the Caucasus"}
    assert data["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert data["copyrightYear"] == 2004
    assert data["copyrightNotice"] == "Copyright (c) 2004 Author"
    assert data["isAccessibleForFree"] is True
    assert len(data["citation"]) == 16
    assert data["sameAs"] == [f"{SITE}/records/article/587"]


def test_example_article_dublin_core_tags(site, load):
    load([example_record()])
    _, text, root = page(site, "/records/article/587")
    assert head_links(root, "schema.DC") == ["http://purl.org/dc/elements/1.1/"]
    tags = metas(root, "DC.")
    assert ("DC.Title", example_record()["title"]) in tags
    assert ("DC.Creator.PersonalName", "Mukimdzhanova, R.") in tags
    assert ("DC.Date.issued", "2004") in tags
    assert ("DC.Identifier.URI", EXAMPLE_URL) in tags
    assert ("DC.Source", "Central Asia and the Caucasus") in tags
    assert ("DC.Language", "en") in tags
    assert meta_values(root, "DC.Rights") == [
        "Copyright (c) 2004 Author",
        "https://creativecommons.org/licenses/by/4.0/",
    ]
    dc = extruct.extract(text, syntaxes=["dublincore"], uniform=False)["dublincore"][0]
    read = {(e["name"], e["content"]) for e in dc["elements"]}
    assert ("DC.Title", example_record()["title"]) in read


def test_example_article_coins_span(site, load):
    load([example_record()])
    _, _, root = page(site, "/records/article/587")
    spans = root.findall(f".//{XHTML}span[@class='Z3988']")
    assert len(spans) == 1
    kev = parse_qs(spans[0].get("title"), strict_parsing=True)
    assert kev["ctx_ver"] == ["Z39.88-2004"]
    assert kev["rft_val_fmt"] == ["info:ofi/fmt:kev:mtx:journal"]
    assert kev["rft.genre"] == ["article"]
    assert kev["rft.atitle"] == [example_record()["title"]]
    assert kev["rft.jtitle"] == ["Central Asia and the Caucasus"]
    assert (kev["rft.volume"], kev["rft.issue"]) == (["5"], ["4"])
    assert (kev["rft.spage"], kev["rft.epage"], kev["rft.date"]) == (["61"], ["70"], ["2004"])
    assert (kev["rft.aulast"], kev["rft.aufirst"]) == (["Mukimdzhanova"], ["R."])
    assert kev["rft.au"] == ["Mukimdzhanova, R."]
    assert kev["rft_id"] == [EXAMPLE_URL]


def test_page_links_the_record_in_every_format_it_is_rendered_in(site, load, oai):
    load([example_record()])
    _, _, root = page(site, "/records/article/587")
    listed = oai(verb="ListMetadataFormats", identifier="oai:repo.example.org:article/587")
    prefixes = [p.text for p in listed.iterfind(".//oai:metadataPrefix", NS)]
    assert prefixes
    hrefs = [a.get("href") for a in root.findall(f".//{XHTML}ul[@class='formats']//{XHTML}a")]
    for prefix in prefixes:
        assert f"/metadata/{prefix}/article/587" in hrefs
        assert (
            f"{SITE}/oai?verb=GetRecord&metadataPrefix={prefix}"
            "&identifier=oai:repo.example.org:article/587"
        ) in hrefs
    assert len(hrefs) == 2 * len(prefixes)


def test_record_without_journal_is_not_linked_in_a_format_it_lacks(site, load):
    load([make_record(1)])  # no journal: no JATS rendition
    _, _, root = page(site, "/records/article/1")
    hrefs = [a.get("href") for a in root.findall(f".//{XHTML}ul[@class='formats']//{XHTML}a")]
    assert "/metadata/oai_dc/article/1" in hrefs
    assert not any("jats" in h for h in hrefs)
    assert text_of(root.find(".//*[@class='citation-line']")) == "Published 2004"


# --- the rich record --------------------------------------------------------------------


def rich_in_another_order() -> dict[str, Any]:
    """RICH with its HTML file listed first: the page still puts the PDF first."""
    return rich_record(files=list(reversed(RICH["files"])))


def test_rich_record_highwire_tags(site, load):
    load([rich_in_another_order()])
    _, _, root = page(site, "/records/article/9001")
    tags = metas(root, "citation_")
    authors = tags[1:8]
    assert authors == [
        ("citation_author", "Иванова, Мария"),
        ("citation_author_orcid", "https://orcid.org/0000-0002-1825-0097"),
        ("citation_author_institution", "Институт водных проблем РАН"),
        ("citation_author", "Smith, John Q."),
        ("citation_author_orcid", "https://orcid.org/0000-0001-5109-3700"),
        ("citation_author_institution", "University of Example"),
        ("citation_author", "Nurlanov"),
    ]
    assert tags[0] == ("citation_title", RICH["title"])
    assert meta_values(root, "citation_publication_date") == ["2021/03/15"]
    assert meta_values(root, "citation_issn") == ["0317-8471", "1050-124X"]
    assert meta_values(root, "citation_doi") == [RICH["doi"]]
    assert meta_values(root, "citation_language") == ["ru"]
    assert meta_values(root, "citation_publisher") == ["CA&CC Press"]
    assert meta_values(root, "citation_volume") == ["12"]
    assert meta_values(root, "citation_issue") == ["3"]
    assert meta_values(root, "citation_firstpage") == ["101"]
    assert meta_values(root, "citation_lastpage") == ["118"]
    assert meta_values(root, "citation_pdf_url") == [RICH_PDF]
    assert meta_values(root, "citation_fulltext_html_url") == [RICH_HTML]
    assert meta_values(root, "citation_keywords") == RICH["keywords"]
    assert meta_values(root, "citation_reference") == RICH["references"]
    assert meta_values(root, "citation_online_date") == []
    title_meta = next(m for m in root.iter(f"{XHTML}meta") if m.get("name") == "citation_title")
    assert title_meta.get("lang") == "ru"


def test_rich_record_visible_fields(site, load):
    load([CAC_SET, rich_in_another_order()])
    _, _, root = page(site, "/records/article/9001")
    h1 = root.find(f".//{XHTML}h1")
    assert text_of(h1) == RICH["title"] and h1.get("lang") == "ru"
    items = root.findall(f".//{XHTML}ul[@aria-label='Authors']/{XHTML}li")
    assert len(items) == 3
    first = items[0]
    assert text_of(first.find(f"{XHTML}span[@class='author-name']")) == "Мария Иванова"
    assert first.find(f"{XHTML}a").get("href") == "https://orcid.org/0000-0002-1825-0097"
    assert (
        text_of(first.find(f"{XHTML}span[@class='affiliation']"))
        == RICH["authors"][0]["affiliation"]
    )
    assert items[2].find(f"{XHTML}a") is None  # no ORCID, no link
    line = text_of(root.find(".//*[@class='citation-line']"))
    assert line == "Central Asia and the Caucasus, Vol. 12, No. 3 (2021), pp. 101\u2013118"
    doi = root.find(f".//*[@class='doi']/{XHTML}a")
    assert doi.get("href") == (
        "https://doi.org/10.1002/(SICI)1097-4636(199812)43:4%3C441::AID-JBM5%3E3.0.CO;2-G"
    )
    files = root.findall(f".//{XHTML}ul[@class='files']/{XHTML}li/{XHTML}a")
    assert [(a.get("href"), a.get("type")) for a in files] == [
        (RICH_PDF, "application/pdf"),
        (RICH_HTML, "text/html"),
    ]
    keywords = root.find(f".//{XHTML}ul[@class='keywords']")
    assert [text_of(li) for li in keywords] == RICH["keywords"] and keywords.get("lang") == "ru"
    assert "When T<Tc the flow is stable." in text_of(root.find(".//*[@class='abstract']"))
    refs = root.findall(f".//{XHTML}ol[@class='references']/{XHTML}li")
    assert [text_of(li) for li in refs] == RICH["references"]
    licence = text_of(by_id(root, "licence").getparent())
    assert "Creative Commons Attribution-NonCommercial 4.0 International" in licence
    assert "Copyright (c) 2021 Мария Иванова, John Q. Smith" in licence
    badge = by_id(root, "licence").getparent().find(f".//{XHTML}img")
    assert badge.get("src") == "/static/badges/cc-by-nc.svg"
    access = by_id(root, "access").getparent()
    assert "Embargoed access until 1 January 2099" in text_of(access)
    assert access.find(f".//{XHTML}time").get("datetime") == "2099-01-01"
    sets = [a.get("href") for a in root.findall(f".//{XHTML}ul[@class='sets']//{XHTML}a")]
    assert sets == ["/browse/sets/cac"]  # embargoed: in neither driver nor openaire


def test_rich_record_json_ld(site, load):
    load([rich_in_another_order()])
    _, text, _ = page(site, "/records/article/9001")
    (data,) = json_ld_blocks(text, f"{SITE}/records/article/9001")
    assert data["name"] == RICH["title"] and data["inLanguage"] == "ru"
    assert data["datePublished"] == "2021-03-15"
    first = data["author"][0]
    assert first["@id"] == "https://orcid.org/0000-0002-1825-0097"
    assert first["affiliation"] == {"@type": "Organization", "name": "Институт водных проблем РАН"}
    assert data["identifier"]["value"] == RICH["doi"]
    assert data["sameAs"][0].startswith("https://doi.org/10.1002/(SICI)")
    journal = data["isPartOf"]["isPartOf"]["isPartOf"]
    assert journal["issn"] == ["0317-8471", "1050-124X"]
    assert journal["publisher"]["name"] == "CA&CC Press"
    assert [e["encodingFormat"] for e in data["encoding"]] == ["application/pdf", "text/html"]
    assert data["isAccessibleForFree"] is False
    assert data["abstract"] == RICH["abstract"] and data["keywords"] == RICH["keywords"]


def test_rich_record_coins_has_every_author_and_the_doi(site, load):
    load([rich_record()])
    _, _, root = page(site, "/records/article/9001")
    kev = parse_qs(root.find(f".//{XHTML}span[@class='Z3988']").get("title"))
    assert kev["rft.au"] == ["Иванова, Мария", "Smith, John Q.", "Nurlanov"]
    assert kev["rft_id"] == [f"info:doi/{RICH['doi']}", RICH["url"]]
    assert (kev["rft.issn"], kev["rft.eissn"]) == (["0317-8471"], ["1050-124X"])
    assert kev["rft.date"] == ["2021-03-15"]


# --- hostile text -----------------------------------------------------------------------


def test_script_end_tag_in_the_title_stays_inside_one_json_ld_block(site, load):
    title = 'Ends </script><script>alert("x")</script> & <!-- more'
    load([make_record(1, title=title, abstract="T<Tc and T>0 & AT&T")])
    _, text, root = page(site, "/records/article/1")
    assert "<script>alert" not in text
    scripts = list(root.iter(f"{XHTML}script"))
    assert len(scripts) == 1 and scripts[0].get("type") == "application/ld+json"
    (data,) = json_ld_blocks(text, f"{SITE}/records/article/1")
    assert data["name"] == title and data["abstract"] == "T<Tc and T>0 & AT&T"
    assert meta_values(root, "citation_title") == [title]
    assert text_of(root.find(f".//{XHTML}h1")) == " ".join(title.split())


# --- URLs -------------------------------------------------------------------------------


def test_absolute_urls_follow_the_configured_base_url(site, load):
    load([rich_record(url="https://doi.org/10.1234/abc")])
    _, text, root = page(site, "/records/article/9001")
    own = f"{SITE}/records/article/9001"
    # The record's url is a resolver, not the journal's page: our page is canonical.
    assert head_links(root, "canonical") == [own]
    assert meta_values(root, "citation_abstract_html_url") == [own]
    assert root.find(".//*[@class='home-note']") is None
    (data,) = json_ld_blocks(text, own)
    assert data["@id"] == own


def test_without_a_base_url_absolute_urls_use_the_request_host(make_app):
    app = make_app(OAIPRESS_BASE_URL=None)
    from tests.conftest import load_records

    load_records(app, [make_record(1, url="https://pages.example.net/elsewhere/1")])
    for endpoint, rule in (("pages.home", "/"), ("pages.browse", "/b"), ("pages.explore", "/e")):
        if endpoint not in app.view_functions:
            app.add_url_rule(rule, endpoint=endpoint, view_func=lambda: "")
    client = app.test_client()
    _, _, root = page(client, "/records/article/1", base_url="https://pages.example.net")
    # Same host as our own pages: the record's url is not a journal's page.
    assert head_links(root, "canonical") == ["https://pages.example.net/records/article/1"]


# --- not found, gone, conditional, compressed --------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/records/article/404", "/records/article/%00", "/records/" + "x" * 600, "/records/a%20b"],
)
def test_unknown_record_is_a_404_page(site, load, path):
    load([example_record()])
    response, text, root = page(site, path, status=404)
    assert text_of(root.find(f".//{XHTML}h1")) == "No such record"
    assert "Link" not in response.headers
    assert head_links(root, "stylesheet")


def test_deleted_record_is_a_410_page_saying_when(site, load):
    load([example_record()])
    load([{"id": "article/587", "deleted": True}])
    response, text, root = page(site, "/records/article/587", status=410)
    assert text_of(root.find(f".//{XHTML}h1")) == "This record was withdrawn"
    when = root.find(f".//{XHTML}time")
    assert when.get("datetime") == "2020-01-01T00:00:00Z"
    assert text_of(when) == "1 January 2020"
    hrefs = [a.get("href") for a in root.iter(f"{XHTML}a")]
    assert "/" in hrefs
    assert "Link" not in response.headers
    assert "citation_title" not in text


def test_landing_page_answers_304_to_its_etag(site, load):
    load([example_record()])
    first = site.get("/records/article/587")
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"] == "Wed, 01 Jan 2020 00:00:00 GMT"
    again = site.get("/records/article/587", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    other_style = site.get("/records/article/587?style=mla", headers={"If-None-Match": etag})
    assert other_style.status_code == 200
    assert other_style.headers["ETag"] != etag


def test_landing_page_is_gzipped_and_revalidates_with_the_weak_etag(site, load):
    load([rich_record()])
    response = site.get("/records/article/9001", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert_valid_page(gzip.decompress(response.get_data()).decode("utf-8"))
    etag = response.headers["ETag"]
    assert etag.startswith("W/")
    again = site.get(
        "/records/article/9001", headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
    )
    assert again.status_code == 304


# --- /metadata/<prefix>/<id> ---------------------------------------------------------------

MEDIA_TYPES = {
    "oai_dc": "application/xml",
    "marcxml": "application/xml",
    "mods": "application/xml",
    "datacite": "application/vnd.datacite.datacite+xml",
    "oai_openaire": "application/xml",
    "jats": "application/vnd.jats+xml",
}


@pytest.mark.parametrize("prefix", sorted(MEDIA_TYPES))
def test_metadata_document_is_the_stored_rendition_and_schema_valid(site, load, client, prefix):
    load([example_record(), rich_record()])
    for local_id in ("article/587", "article/9001"):
        response = site.get(f"/metadata/{prefix}/{local_id}")
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == MEDIA_TYPES[prefix]
        assert response.mimetype_params == {"charset": "utf-8"}
        body = response.get_data()
        assert body.startswith(XML_DECLARATION)
        parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
        validate_element(etree.fromstring(body, parser))
        getrecord = client.get(
            "/oai",
            query_string={
                "verb": "GetRecord",
                "metadataPrefix": prefix,
                "identifier": f"oai:repo.example.org:{local_id}",
            },
        )
        # The very bytes GetRecord wraps in its envelope (both are the stored rendition).
        assert body.removeprefix(XML_DECLARATION) in getrecord.get_data()
        assert "ETag" in response.headers
        again = site.get(
            f"/metadata/{prefix}/{local_id}",
            headers={"If-None-Match": response.headers["ETag"]},
        )
        assert again.status_code == 304


def test_metadata_document_errors_are_plain_4xx(site, load):
    load([example_record(), make_record(1), make_record(2)])
    load([{"id": "article/2", "deleted": True}])
    cases = {
        "/metadata/nope/article/587": 404,  # no such format
        "/metadata/oai_dc/article/404": 404,  # no such record
        "/metadata/jats/article/1": 404,  # not rendered in JATS (no journal)
        "/metadata/oai_dc/article/%00": 404,
        "/metadata/oai_dc/article/2": 410,  # deleted
    }
    for path, status in cases.items():
        response = site.get(path)
        assert response.status_code == status, path
        assert response.mimetype == "text/plain", path
        assert response.get_data(as_text=True).startswith(str(status)), path


def test_metadata_document_is_gzipped_when_asked(site, load):
    load([rich_record()])
    response = site.get("/metadata/mods/article/9001", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    body = gzip.decompress(response.get_data())
    validate_element(etree.fromstring(body))


BADGES = ["cc-by", "cc-by-sa", "cc-by-nd", "cc-by-nc", "cc-by-nc-sa", "cc-by-nc-nd", "cc0"]


@pytest.mark.parametrize(
    ("license_uri", "badge"),
    [(f"https://creativecommons.org/licenses/{k[3:]}/4.0/", k) for k in BADGES[:-1]]
    + [
        ("https://creativecommons.org/publicdomain/zero/1.0/", "cc0"),
        ("https://creativecommons.org/licenses/by/2.0/fr/", "cc-by"),
        ("http://rightsstatements.org/vocab/InC/1.0/", "licence"),
    ],
)
def test_each_licence_kind_has_its_own_badge(app, site, load, license_uri, badge):
    rights = {"access": "open", "license": license_uri, "statement": "Copyright (c) 2004 A"}
    load([make_record(1, rights=rights)])
    _, _, root = page(site, "/records/article/1")
    src = by_id(root, "licence").getparent().find(f".//{XHTML}img").get("src")
    assert src == f"/static/badges/{badge}.svg"
    svg_file = Path(app.blueprints["pages"].static_folder) / "badges" / f"{badge}.svg"
    svg = etree.parse(str(svg_file)).getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert (svg.get("width"), svg.get("height")) == ("88", "31")
    assert svg.findtext("{http://www.w3.org/2000/svg}title")


def test_page_stylesheets_and_badge_are_served(app, site, load):
    load([example_record()])
    _, _, root = page(site, "/records/article/587")
    if "static" in app.view_functions:
        pytest.xfail(
            "the app's own /static route shadows the pages blueprint's static files: "
            "oai/__init__.py needs Flask(__name__, static_folder=None)"
        )
    assets = head_links(root, "stylesheet") + [img.get("src") for img in root.iter(f"{XHTML}img")]
    for asset in assets:
        response = site.get(asset)
        assert response.status_code == 200, asset
    badge = site.get("/static/badges/cc-by.svg")
    assert badge.mimetype == "image/svg+xml"


def test_every_page_link_answers(site, load):
    """Every metadata link of the landing page answers (no dead ends)."""
    load([CAC_SET, rich_record()])
    _, _, root = page(site, "/records/article/9001")
    internal = {
        a.get("href")
        for a in root.iter(f"{XHTML}a")
        if a.get("href", "").startswith(("/metadata/", f"{SITE}/oai"))
    }
    assert len(internal) == 12
    for href in internal:
        parts = urlsplit(href)
        response = site.get(parts.path, query_string=parts.query)
        assert response.status_code == 200, href
