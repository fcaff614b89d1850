"""records/validate.py: what a line of the interchange format must be, and its canonical form."""

from __future__ import annotations

import html
import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from records.models import ArticleFile, Record, SetMembership
from records.validate import (
    AUTHOR_FIELDS,
    FILE_FIELDS,
    JOURNAL_FIELDS,
    MATHML_ELEMENTS,
    MAX_ABSTRACT,
    MAX_AUTHORS,
    MAX_EXTRA_DEPTH,
    MAX_FILES,
    MAX_KEYWORDS,
    MAX_LENGTHS,
    MAX_REFERENCE,
    MAX_REFERENCES,
    MAX_TEXT,
    MAX_TITLE,
    NOT_XML_CHAR_RE,
    OTHER_ELEMENTS,
    RIGHTS_FIELDS,
    TEXT_ELEMENTS,
    TOP_LEVEL_FIELDS,
    RecordError,
    content_hash,
    normalize_doi,
    normalize_issn,
    normalize_license,
    normalize_orcid,
    normalize_record,
    strip_html,
)
from tests.conftest import example_record, make_record

CC_BY = "https://creativecommons.org/licenses/by/4.0/"
DOCS = Path(__file__).resolve().parents[1] / "docs"
PINNED_HASH = "8118127fb825cbdcd1c9a7dbd2446d722912f1a6c78c3d6c5ab7c896d36bc4be"


def normalized(**fields: Any) -> dict[str, Any]:
    record, _ = normalize_record(make_record(1, **fields))
    return record


def rejected(obj: Any) -> RecordError:
    with pytest.raises(RecordError) as info:
        normalize_record(obj)
    return info.value


def without(key: str) -> dict[str, Any]:
    record = make_record(1)
    record.pop(key, None)
    return record


# --- required fields -------------------------------------------------------------------


@pytest.mark.parametrize("key", ["id", "title", "authors", "published", "url", "rights"])
def test_a_missing_required_field_is_named(key):
    error = rejected(without(key))
    assert error.field == key
    assert "required" in error.message
    assert str(error).startswith(f"{key}: ")


@pytest.mark.parametrize("key", ["id", "title", "published", "url"])
def test_a_blank_required_field_counts_as_missing(key):
    error = rejected(make_record(1, **{key: "   "}))
    assert (error.field, error.message) == (key, "is required")


def test_rights_access_is_required():
    error = rejected(make_record(1, rights={"license": CC_BY}))
    assert error.field == "rights.access"


def test_an_author_needs_a_family_name_and_the_error_says_which_author():
    error = rejected(make_record(1, authors=[{"family": "A"}, {"given": "B."}]))
    assert error.field == "authors[1].family"


def test_authors_may_be_empty_for_anonymous_works():
    assert normalized(authors=[])["authors"] == []


def test_a_line_must_be_an_object():
    assert rejected(["not", "an", "object"]).field == "(line)"


def test_a_wrongly_typed_field_is_named():
    assert rejected(make_record(1, title=["a", "list"])).field == "title"
    assert rejected(make_record(1, authors="Smith")).field == "authors"
    assert rejected(make_record(1, rights="open")).field == "rights"
    assert rejected(make_record(1, deleted="yes")).field == "deleted"


def test_optional_fields_may_be_absent():
    minimal = {
        "id": "x",
        "title": "T",
        "authors": [],
        "published": "2004",
        "url": "https://example.org/x",
        "rights": {"access": "closed"},
    }
    record, datestamp = normalize_record(minimal)
    assert datestamp is None
    assert record["journal"] is None
    assert record["files"] == record["keywords"] == record["references"] == record["sets"] == []
    assert record["rights"]["license"] is None


# --- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2004", "2004-05", "2004-05-06", "2020-02-29"])
def test_w3cdtf_precision_is_kept(value):
    assert normalized(published=value)["published"] == value


@pytest.mark.parametrize(
    "value", ["2021-02-30", "2019-02-29", "2004-13", "2004-00", "2004-05-00", "0000"]
)
def test_impossible_dates_are_rejected(value):
    error = rejected(make_record(1, published=value))
    assert error.field == "published"
    assert "not a real date" in error.message


@pytest.mark.parametrize(
    "value", ["04", "2004/05/06", "2004-5", "May 2004", "2004-05-06T00:00:00Z"]
)
def test_malformed_dates_are_rejected(value):
    error = rejected(make_record(1, published=value))
    assert error.field == "published"
    assert "W3CDTF" in error.message


def test_the_datestamp_is_returned_apart_and_must_be_utc_seconds():
    record, datestamp = normalize_record(make_record(1, datestamp="2021-03-04T05:06:07Z"))
    assert datestamp == datetime(2021, 3, 4, 5, 6, 7)
    assert "datestamp" not in record
    assert rejected(make_record(1, datestamp="2021-03-04")).field == "datestamp"
    assert rejected(make_record(1, datestamp="2021-02-30T00:00:00Z")).field == "datestamp"


# --- identifiers: DOI, ISSN, ORCID -------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "10.1000/xyz.123",
        "https://doi.org/10.1000/xyz.123",
        "http://doi.org/10.1000/xyz.123",
        "http://dx.doi.org/10.1000/xyz.123",
        "https://dx.doi.org/10.1000/xyz.123",
        "doi:10.1000/xyz.123",
        "DOI: 10.1000/xyz.123",
        " https://doi.org/10.1000/xyz.123 ",
    ],
)
def test_dois_are_stored_bare(value):
    assert normalized(doi=value)["doi"] == "10.1000/xyz.123"
    assert normalize_doi(value) == "10.1000/xyz.123"


@pytest.mark.parametrize("value", ["xyz", "https://example.org/10.1000/x", "10.12/x", "10.1000/"])
def test_non_dois_are_rejected(value):
    assert rejected(make_record(1, doi=value)).field == "doi"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0378-5955", "0378-5955"),
        ("03785955", "0378-5955"),
        ("2434-561x", "2434-561X"),
        ("2434-561X", "2434-561X"),
    ],
)
def test_issns_are_checked_and_hyphenated(value, expected):
    assert normalize_issn(value, "journal.issn") == expected
    journal = normalized(journal={"title": "J", "issn": value, "eissn": value})["journal"]
    assert journal["issn"] == journal["eissn"] == expected


@pytest.mark.parametrize("key", ["issn", "eissn"])
@pytest.mark.parametrize("value", ["0378-5956", "2434-5610", "1234", "abcd-efgh"])
def test_issns_with_a_wrong_check_digit_are_rejected(key, value):
    error = rejected(make_record(1, journal={"title": "J", key: value}))
    assert error.field == f"journal.{key}"


@pytest.mark.parametrize(
    "value",
    [
        "0000-0002-1825-0097",
        "0000000218250097",
        "https://orcid.org/0000-0002-1825-0097",
        "http://orcid.org/0000-0002-1825-0097",
    ],
)
def test_orcids_in_bare_and_url_forms_are_stored_bare(value):
    authors = normalized(authors=[{"family": "Carberry", "orcid": value}])["authors"]
    assert authors[0]["orcid"] == "0000-0002-1825-0097"


def test_an_orcid_check_digit_x_is_uppercased():
    assert normalize_orcid("https://orcid.org/0000-0002-1694-233x", "o") == "0000-0002-1694-233X"


@pytest.mark.parametrize(
    "value",
    [
        "0000-0002-1825-0098",
        "https://orcid.org/0000-0002-1825-0096",
        "0000-0002-1694-2330",
        "0000-0002-1825",
        "https://example.org/0000-0002-1825-0097",
    ],
)
def test_orcids_with_a_wrong_check_digit_are_rejected_with_the_author_named(value):
    authors = [{"family": "A"}, {"family": "Carberry", "orcid": value}]
    assert rejected(make_record(1, authors=authors)).field == "authors[1].orcid"


# --- licences and access -----------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "https://creativecommons.org/licenses/by/4.0/",
        "http://creativecommons.org/licenses/by/4.0",
        "https://creativecommons.org/licenses/by/4.0",
        "https://www.creativecommons.org/licenses/by/4.0/legalcode",
        "https://creativecommons.org/licenses/by/4.0/legalcode.en",
        "https://creativecommons.org/licenses/by/4.0/deed.en",
        "http://creativecommons.org/licenses/by/4.0/deed.zh-hans",
        "HTTPS://CreativeCommons.org/Licenses/BY/4.0/",
    ],
)
def test_creative_commons_uris_are_canonical(value):
    rights = {"access": "open", "license": value}
    assert normalized(rights=rights)["rights"]["license"] == CC_BY


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "http://creativecommons.org/publicdomain/zero/1.0",
            "https://creativecommons.org/publicdomain/zero/1.0/",
        ),
        (
            "https://creativecommons.org/publicdomain/zero/1.0/legalcode",
            "https://creativecommons.org/publicdomain/zero/1.0/",
        ),
        (
            "http://creativecommons.org/licenses/by-nc-sa/3.0/de/deed.de",
            "https://creativecommons.org/licenses/by-nc-sa/3.0/de/",
        ),
    ],
)
def test_cc0_and_ported_licences_are_canonical(value, expected):
    assert normalize_license(value) == expected


def test_other_licence_uris_are_kept_verbatim_and_non_uris_rejected():
    other = "https://example.org/licences/reuse-1.0"
    assert normalized(rights={"access": "open", "license": other})["rights"]["license"] == other
    error = rejected(make_record(1, rights={"access": "open", "license": "CC BY 4.0"}))
    assert error.field == "rights.license"


@pytest.mark.parametrize("access", ["open", "restricted", "closed"])
def test_known_access_values(access):
    assert normalized(rights={"access": access})["rights"]["access"] == access


@pytest.mark.parametrize("access", ["public", "Open", "embargo", "free"])
def test_an_unknown_access_value_is_rejected(access):
    error = rejected(make_record(1, rights={"access": access}))
    assert error.field == "rights.access"
    assert "open, embargoed, restricted, closed" in error.message


def test_embargoed_needs_embargo_until():
    error = rejected(make_record(1, rights={"access": "embargoed"}))
    assert error.field == "rights.embargo_until"
    rights = normalized(rights={"access": "embargoed", "embargo_until": "2030-01-31"})["rights"]
    assert rights["embargo_until"] == "2030-01-31"


@pytest.mark.parametrize("value", ["2030", "2030-01", "2030-02-30", "31.01.2030"])
def test_embargo_until_is_a_full_real_date(value):
    error = rejected(make_record(1, rights={"access": "embargoed", "embargo_until": value}))
    assert error.field == "rights.embargo_until"


def test_rights_year_is_a_four_digit_year():
    assert normalized(rights={"access": "open", "year": "2004"})["rights"]["year"] == 2004
    for bad in (99, "MMIV", True, 20040):
        assert rejected(make_record(1, rights={"access": "open", "year": bad})).field == (
            "rights.year"
        )


# --- text --------------------------------------------------------------------------------


def test_html_is_stripped_from_the_abstract():
    abstract = "<p>First <b>bold</b> &amp; <i>italic</i>.</p><p>Second&nbsp;paragraph.</p>"
    assert normalized(abstract=abstract)["abstract"] == "First bold & italic.\nSecond\xa0paragraph."


def test_html_is_stripped_from_keywords_and_empty_keywords_dropped():
    keywords = ["<em>China</em>", "Central&nbsp;Asia", "<br>", "  plain  "]
    assert normalized(keywords=keywords)["keywords"] == ["China", "Central\xa0Asia", "plain"]


def test_style_and_script_content_is_not_text():
    pasted = "<style>p.MsoNormal {margin: 0}</style><p class=MsoNormal>Text</p><script>x()</script>"
    assert normalized(abstract=pasted)["abstract"] == "Text"
    assert normalized(keywords=["<style>b{}</style>Kw"])["keywords"] == ["Kw"]


@pytest.mark.parametrize("text", ["p<0.05 in a<b cohort", "AT&T and R&D", "x < y"])
def test_plain_text_that_only_looks_like_markup_is_kept(text):
    assert normalized(abstract=text)["abstract"] == text


def test_stripping_is_idempotent_so_exported_abstracts_reimport_unchanged():
    for text in ("<p>a &amp; b</p>", "p<0.05", "AT&amp;T", "<i>x</i><br/>y"):
        once = strip_html(text)
        assert strip_html(once) == once


def test_references_are_verbatim():
    references = ["See: <i>not</i> stripped &amp; kept", "Second"]
    assert normalized(references=references)["references"] == references


# Plain text that only looks like markup: stored exactly as given.
LOOKALIKES = [
    "When T<Tc and T>0 the phase is stable",
    "a<b",
    "a<b cohort of x > y",
    "x > y",
    "<=",
    "a <= b >= c",
    "<3",
    "T<Tc",
    "$a<b$ and $c>d$",
    r"\\left<x\\right>",
    r"$\\langle x | y \\rangle$ or <x|y>",
    "if a<b and c>d then e",
    "for all i<n and n>0",
    "a<<b>>c",
    "List<String> and Optional<Object>",
    "maps <input> to <output> in <time>",
    "the tokens <s> and </s>, and <unk>",
    "<none> outside MathML",
    "<mi>x</mi> without a math element",
    "a</>b and a </ 3> b",
    "a<!-- not closed",
    "a <! b> c and <? d> e",
    "a<b c=d>e",
    "<p foo>bar</x>",
    "AT&T, R&D, S&P 500 & more",
    "&copy 2004 and &not a reference; &#38 either",
    "a&b;c &unknown; &#; &#x; &#12a;",
    "ends with <",
    "ends with &",
    "  spaced   out\ttext\n\nwith lines  ",
]


@pytest.mark.parametrize("text", LOOKALIKES)
def test_text_that_only_looks_like_markup_is_kept_exactly(text):
    assert strip_html(text) == text
    assert normalized(abstract=text)["abstract"] == text.strip()
    assert normalized(keywords=[text])["keywords"] == [text.strip()]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("<p>When T<Tc and T>0 the phase is stable.</p>", "When T<Tc and T>0 the phase is stable."),
        ("<i>p</i><0.05", "p<0.05"),
        ("x<sup>2</sup> &lt; 4", "x2 < 4"),
        ("line<br/>break<br>and <BR />more", "line\nbreak\nand\nmore"),
        ('<a href="https://example.org/x?a=1&amp;b=2">link</a> text', "link text"),
        ("<a href>link</a>", "link"),
        ("<span lang=EN-US style='font-size:12pt'>Word</span><o:p></o:p>", "Word"),
        ('<p class="MsoNormal" data-x="1" aria-label="y">Text</p>', "Text"),
        ("<!-- comment -->Text<!--[if gte mso 9]><xml></xml><![endif]-->", "Text"),
        ("<!DOCTYPE html><html><head></head><body><p>Text</p></body></html>", "Text"),
        (
            '<?xml:namespace prefix = o ns = "urn:schemas-microsoft-com:office:office" />Text',
            "Text",
        ),
        ("<![CDATA[a<b]]> and <b>c</b>", "a<b and c"),
        ("<p><![if !supportLists]>1.<![endif]>First</p>", "1.First"),
        ("<input type=checkbox checked>Done</input>", "Done"),
        (
            "<jats:title>Abstract</jats:title><jats:p>In <jats:italic>vivo</jats:italic>.</jats:p>",
            "Abstract\nIn vivo.",
        ),
        ("<p>a &amp;amp; b</p>", "a &amp; b"),
        ("&#233;t&#xE9; &eacute;", "été é"),
        ("<p>x</p><svg><text>drawn</text></svg><p>y</p>", "x\ny"),
    ],
)
def test_real_markup_is_stripped(given, stored):
    assert strip_html(given) == stored


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("<math><mi>x</mi><mo>&lt;</mo><mn>1</mn></math>", "x<1"),
        ("<math display='block'><msup><mi>x</mi><mn>2</mn></msup></math> grows", "x2 grows"),
        (
            "<math><semantics><mi>x</mi><annotation encoding='application/x-tex'>x</annotation>"
            "</semantics></math> is it",
            "x is it",
        ),
        ("<mml:math><mml:mi>T</mml:mi><mml:mo>&lt;</mml:mo><mml:mi>Tc</mml:mi></mml:math>", "T<Tc"),
    ],
)
def test_mathml_keeps_its_text_and_drops_annotations(given, stored):
    assert strip_html(given) == stored


def test_plain_text_inside_real_markup_is_kept():
    given = "<p>When T<Tc and T>0, a<b and <input> holds; AT&T &copy 2004</p>"
    assert strip_html(given) == "When T<Tc and T>0, a<b and <input> holds; AT&T &copy 2004"


@pytest.mark.parametrize("unit", ["a<b ", "<a ", "<!--", "<a b='", "&amp", "</a", "<<", "<p>"])
def test_stripping_takes_linear_time(unit):
    # html.parser fed a whole text rescans to its end for every unclosed "<": minutes for
    # these 400,000 characters. Quadratic time would take hours here, linear well under 1 s.
    started = time.perf_counter()
    strip_html(unit * (400_000 // len(unit)))
    assert time.perf_counter() - started < 10


# Text without markup, built from pieces that look like it: "<" before what cannot be a
# tag, "&" without a complete reference, end tags of no element.
ELEMENT_NAMES = TEXT_ELEMENTS | OTHER_ELEMENTS | MATHML_ELEMENTS
_plain = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="<&;"), max_size=12
)
_word = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzTXY"), min_size=1, max_size=6).filter(
    lambda w: w.lower() not in ELEMENT_NAMES
)
_end_of_name = st.sampled_from([" ", ">", "/", "\n", "\t"])
_lookalike = st.one_of(
    st.builds("<{}".format, st.sampled_from(list(" =<>0123456789$\\|(-.!?"))),
    st.builds("<{}{}".format, _word, _end_of_name),
    st.builds("</{}{}".format, _word, _end_of_name),
    st.builds("&{}".format, st.one_of(_word, st.sampled_from(["amp", "lt", "copy", "#38"]))),
    st.just(" ;"),
    st.sampled_from([s for s in LOOKALIKES if s.strip() == s]).map(lambda s: f" {s} "),
)
markup_free_text = st.lists(st.one_of(_plain, _lookalike), max_size=12).map("".join)


@given(markup_free_text)
def test_text_without_markup_is_stored_as_given(text):
    assert strip_html(text) == text


@given(markup_free_text)
def test_abstracts_and_keywords_without_markup_are_stored_as_given(text):
    assume(not NOT_XML_CHAR_RE.search(text) and text.strip())
    record = normalized(abstract=text, keywords=[text])
    assert record["abstract"] == text.strip()
    assert record["keywords"] == [text.strip()]


@given(markup_free_text)
def test_escaped_text_in_markup_comes_back(text):
    text = " ".join(text.split())
    assert strip_html(f"<p>{html.escape(text)}</p>") == text


@pytest.mark.parametrize(
    "char", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\ufffe", "\uffff", "\ud800"]
)
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "A{}B"}, "title"),
        ({"abstract": "A{}B"}, "abstract"),
        ({"keywords": ["ok", "A{}B"]}, "keywords[1]"),
        ({"references": ["A{}B"]}, "references[0]"),
        ({"authors": [{"family": "A{}B"}]}, "authors[0].family"),
        ({"journal": {"title": "A{}B"}}, "journal.title"),
        ({"rights": {"access": "open", "statement": "A{}B"}}, "rights.statement"),
        ({"files": [{"url": "https://x.org/f", "label": "A{}B"}]}, "files[0].label"),
        ({"extra": {"note": "A{}B"}}, "extra.note"),
        ({"extra": {"custom": {"list": ["ok", "A{}B"]}}}, "extra.custom.list[1]"),
        ({"extra": {"custom": {"A{}B": 1}}}, "extra.custom"),
        ({"extra": {"A{}B": 1}}, "extra"),
    ],
)
def test_characters_xml_cannot_carry_are_rejected_with_the_field_named(char, fields, field):
    raw = json.dumps(fields).replace("{}", json.dumps(char)[1:-1])
    error = rejected(make_record(1, **json.loads(raw)))
    assert error.field == field
    assert f"U+{ord(char):04X}" in error.message
    assert "XML 1.0" in error.message


def test_a_lone_surrogate_from_json_escapes_is_rejected():
    line = json.dumps(make_record(1)).replace('"Article number 1"', '"A \\ud800 B"')
    obj = json.loads(line)
    assert obj["title"] == "A \ud800 B"
    error = rejected(obj)
    assert (error.field, "U+D800" in error.message) == ("title", True)


@pytest.mark.parametrize("char", ["\t", "\n", "\r", "\ud7ff", "\ue000", "\ufffd", "\U0001f600"])
def test_characters_xml_can_carry_are_kept(char):
    assert normalized(abstract=f"A{char}B")["abstract"] == f"A{char}B"


def test_surrounding_whitespace_is_trimmed():
    record = normalized(title="  Title  ", volume=" 5 ")
    assert (record["title"], record["volume"]) == ("Title", "5")


def test_numbers_are_accepted_where_text_is_expected():
    record = normalized(volume=5, issue=4, id=587)
    assert (record["volume"], record["issue"], record["id"]) == ("5", "4", "587")


# --- sets and ids ------------------------------------------------------------------------


def test_sets_are_sorted_and_deduplicated():
    assert normalized(sets=["cac:ART", "cac", "cac:ART", "b"])["sets"] == ["b", "cac", "cac:ART"]


@pytest.mark.parametrize("spec", ["", "cac:", ":cac", "cac::ART", "has space", "é", "a/b", 5])
def test_bad_set_specs_are_rejected_with_their_position(spec):
    assert rejected(make_record(1, sets=["ok", spec])).field == "sets[1]"


def test_sets_must_be_a_list():
    assert rejected(make_record(1, sets="cac")).field == "sets"


@pytest.mark.parametrize(
    "local_id", ["article/587", "a:b", "x-y_z.1!~*'()", "a;b?c@d&e=f+g$h,i%20", "100%25%2f"]
)
def test_ids_an_oai_identifier_can_carry(local_id):
    assert normalized(id=local_id)["id"] == local_id


@pytest.mark.parametrize(
    "local_id",
    ["has space", "é", "a#b", "a<b", 'a"b', "a\\b", "a[b]", "{x}", "a|b", "x" * 513]
    # '%' must begin an escape: the identifier is an xs:anyURI too.
    + ["article/50%", "a%zz", "a%2"],
)
def test_ids_an_oai_identifier_cannot_carry_are_rejected(local_id):
    error = rejected(make_record(1, id=local_id))
    assert error.field == "id"
    assert "OAI identifier" in error.message


# --- lengths the store can hold ----------------------------------------------------------


def test_length_limits_match_the_store_columns():
    columns = Record.__table__.c
    assert MAX_LENGTHS["language"] == columns.language.type.length
    assert MAX_LENGTHS["volume"] == columns.volume.type.length
    assert MAX_LENGTHS["issue"] == columns.issue.type.length
    assert MAX_LENGTHS["pages"] == columns.pages.type.length
    assert MAX_LENGTHS["doi"] == columns.doi.type.length
    assert MAX_LENGTHS["mime_type"] == ArticleFile.__table__.c.mime_type.type.length
    assert MAX_LENGTHS["set_spec"] == SetMembership.__table__.c.set_spec.type.length


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"volume": "v" * 65}, "volume"),
        ({"issue": "i" * 65}, "issue"),
        ({"pages": "1-" + "9" * 63}, "pages"),
        ({"language": "en" + "-abcdefgh" * 4}, "language"),
        ({"doi": "10.1000/" + "x" * 505}, "doi"),
        ({"sets": ["s" * 256]}, "sets[0]"),
        (
            {"files": [{"url": "https://x.org/f", "mime_type": "application/" + "x" * 250}]},
            "files[0].mime_type",
        ),
    ],
)
def test_values_longer_than_their_column_are_rejected_with_the_field_named(fields, field):
    assert rejected(make_record(1, **fields)).field == field


def test_values_at_their_column_limit_are_accepted():
    record = normalized(volume="v" * 64, doi="10.1000/" + "x" * 504, sets=["s" * 255])
    assert len(record["volume"]) == 64 and len(record["doi"]) == 512


# --- other fields ------------------------------------------------------------------------


def test_urls_must_be_http():
    assert rejected(make_record(1, url="ftp://x.org/a")).field == "url"
    files = [{"url": "https://x.org/ok"}, {"url": "javascript:alert(1)"}]
    assert rejected(make_record(1, files=files)).field == "files[1].url"


def test_language_and_media_type_syntax():
    assert normalized(language="zh-Hant-TW")["language"] == "zh-Hant-TW"
    assert rejected(make_record(1, language="english!")).field == "language"
    files = [{"url": "https://x.org/f", "mime_type": "pdf"}]
    assert rejected(make_record(1, files=files)).field == "files[0].mime_type"


def test_the_extra_object_is_kept_verbatim():
    extra = {"note": "kept", "custom": {"nested": [1, "two", None, 2.5, True]}}
    assert normalized(extra=extra)["extra"] == extra


@pytest.mark.parametrize("extra", [None, {}])
def test_no_extra_key_without_extra_fields(extra):
    assert "extra" not in normalized()
    assert "extra" not in normalized(extra=extra)


@pytest.mark.parametrize("extra", ["a note", ["a", "list"], 5])
def test_extra_must_be_an_object(extra):
    error = rejected(make_record(1, extra=extra))
    assert (error.field, error.message) == ("extra", "must be an object")


def test_extra_nests_at_most_max_extra_depth_objects_and_lists():
    deep: Any = "bottom"
    for _ in range(MAX_EXTRA_DEPTH - 1):  # "extra" itself is the first level
        deep = [deep]
    assert normalized(extra={"deep": deep})["extra"] == {"deep": deep}
    error = rejected(make_record(1, extra={"deep": [deep]}))
    assert error.field.startswith("extra.deep[0]")
    assert f"more than {MAX_EXTRA_DEPTH} deep" in error.message


def test_a_deleted_line_needs_only_the_id():
    record, _ = normalize_record({"id": "article/9", "deleted": True})
    assert record == {"id": "article/9", "deleted": True, "sets": None}
    record, _ = normalize_record({"id": "article/9", "deleted": True, "sets": ["b", "a"]})
    assert record["sets"] == ["a", "b"]
    assert rejected({"id": "bad id", "deleted": True}).field == "id"


def test_the_example_article_is_valid_and_keeps_its_text():
    raw = example_record()
    record, _ = normalize_record(raw)
    assert record["title"] == raw["title"]
    assert record["abstract"] == raw["abstract"].strip()
    assert record["references"] == raw["references"]
    assert record["rights"]["license"] == CC_BY


# --- canonical hashing -------------------------------------------------------------------


def test_the_hash_ignores_key_order_set_order_and_normalised_spellings():
    a = make_record(
        1,
        doi="https://doi.org/10.1000/x",
        sets=["b", "a"],
        rights={"access": "open", "license": "http://creativecommons.org/licenses/by/4.0"},
    )
    b = dict(reversed(list(make_record(1).items())))
    b.update(
        doi="doi:10.1000/x",
        sets=["a", "b", "a"],
        rights={"license": CC_BY + "legalcode", "access": "open"},
    )
    assert content_hash(normalize_record(a)[0]) == content_hash(normalize_record(b)[0])


def test_the_hash_ignores_the_datestamp():
    a = make_record(1, datestamp="2020-01-01T00:00:00Z")
    b = make_record(1, datestamp="2024-01-01T00:00:00Z")
    assert content_hash(normalize_record(a)[0]) == content_hash(normalize_record(b)[0])


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Another title"},
        {"rights": {"access": "closed"}},
        {"sets": ["cac"]},
        {"authors": [{"family": "Author", "given": "B."}]},
        {"extra": {"note": "an extra field"}},
        {"published": "2004-01"},
    ],
)
def test_the_hash_changes_with_the_record(change):
    assert content_hash(normalized()) != content_hash(normalized(**change))


def test_the_hash_is_stable_across_runs_and_releases():
    record = normalized(abstract="Ünïcode — text", sets=["cac"])
    assert content_hash(record) == content_hash(json.loads(json.dumps(record)))
    # Stored hashes decide whether a re-import moves datestamps: a release that changed
    # this value would re-stamp every record of every repository on its next import.
    fixed = normalize_record(
        {
            "id": "a",
            "title": "T",
            "authors": [],
            "published": "2004",
            "url": "https://x.org/a",
            "rights": {"access": "open"},
        }
    )[0]
    assert content_hash(fixed) == PINNED_HASH


# --- unknown fields ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "suggestion"),
    [
        ({"abstarct": "text"}, "abstarct", "abstract"),
        ({"titel": "T"}, "titel", "title"),
        ({"rights": {"access": "open", "licence": CC_BY}}, "rights.licence", "license"),
        (
            {"authors": [{"family": "A"}, {"family": "B", "orcid_id": "x"}]},
            "authors[1].orcid_id",
            "orcid",
        ),
        ({"journal": {"title": "J", "isn": "0378-5955"}}, "journal.isn", "issn"),
        (
            {"files": [{"url": "https://x.org/f", "mime": "application/pdf"}]},
            "files[0].mime",
            "mime_type",
        ),
        ({"Extra": {"a": 1}}, "Extra", "extra"),
    ],
)
def test_a_misspelt_field_is_refused_with_its_name_and_the_closest_known_name(
    fields, field, suggestion
):
    error = rejected(make_record(1, **fields))
    assert error.field == field
    assert "is not a field of the record format" in error.message
    assert f"did you mean {suggestion!r}?" in error.message


def test_an_unknown_top_level_field_points_to_extra():
    error = rejected(make_record(1, note="kept?"))
    assert error.field == "note"
    assert "'extra'" in error.message
    assert "did you mean" not in error.message


def test_an_unknown_nested_field_lists_the_known_ones():
    error = rejected(make_record(1, files=[{"url": "https://x.org/f", "size": 12}]))
    assert error.field == "files[0].size"
    assert error.message.endswith("(the fields of files are url, mime_type, label)")


def test_a_misspelt_field_is_named_before_the_field_it_was_meant_to_be_is_missed():
    record = make_record(1)
    record["titel"] = record.pop("title")
    assert rejected(record).field == "titel"


def test_a_deleted_line_may_not_carry_unknown_fields_either():
    assert rejected({"id": "article/9", "deleted": True, "reason": "x"}).field == "reason"
    # the fields of the format are accepted (and ignored) on a tombstone line
    record, _ = normalize_record({**make_record(9), "deleted": True, "extra": {"a": 1}})
    assert record == {"id": "article/9", "deleted": True, "sets": []}


def test_an_odd_field_name_is_shown_readably():
    error = rejected(make_record(1, **{"bad\nname" + "x" * 100: 1}))
    assert error.field == repr("bad\nname" + "x" * 56)


def test_the_known_fields_are_those_of_the_contract():
    contract = (DOCS / "record-format.md").read_text(encoding="utf-8")
    for name in TOP_LEVEL_FIELDS:
        assert f"`{name}`" in contract, name
    for prefix, names in (
        ("rights", RIGHTS_FIELDS),
        ("journal", JOURNAL_FIELDS),
        ("authors[]", AUTHOR_FIELDS),
        ("files[]", FILE_FIELDS),
    ):
        for name in names:
            assert f"`{prefix}.{name}`" in contract or f"`{name}`" in contract, (prefix, name)


# --- size limits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "limit"),
    [
        ({"title": "t" * (MAX_TITLE + 1)}, "title", MAX_TITLE),
        ({"abstract": "a" * (MAX_ABSTRACT + 1)}, "abstract", MAX_ABSTRACT),
        ({"keywords": ["k" * (MAX_TEXT + 1)]}, "keywords[0]", MAX_TEXT),
        ({"references": ["ok", "r" * (MAX_REFERENCE + 1)]}, "references[1]", MAX_REFERENCE),
        ({"authors": [{"family": "f" * (MAX_TEXT + 1)}]}, "authors[0].family", MAX_TEXT),
        (
            {"authors": [{"family": "F", "affiliation": "a" * (MAX_TEXT + 1)}]},
            "authors[0].affiliation",
            MAX_TEXT,
        ),
        ({"journal": {"title": "j" * (MAX_TEXT + 1)}}, "journal.title", MAX_TEXT),
        ({"url": "https://x.org/" + "u" * MAX_TEXT}, "url", MAX_TEXT),
        (
            {"rights": {"access": "open", "statement": "s" * (MAX_TEXT + 1)}},
            "rights.statement",
            MAX_TEXT,
        ),
    ],
)
def test_text_longer_than_its_limit_is_refused_without_echoing_it(fields, field, limit):
    error = rejected(make_record(1, **fields))
    assert error.field == field
    assert error.message.endswith(f"at most {limit:,} are allowed")
    assert len(str(error)) < 200


@pytest.mark.parametrize(
    ("key", "item", "limit"),
    [
        ("authors", {"family": "A"}, MAX_AUTHORS),
        ("keywords", "k", MAX_KEYWORDS),
        ("references", "r", MAX_REFERENCES),
        ("files", {"url": "https://x.org/f"}, MAX_FILES),
    ],
)
def test_lists_longer_than_their_limit_are_refused(key, item, limit):
    assert len(normalized(**{key: [item] * limit})[key]) == limit
    error = rejected(make_record(1, **{key: [item] * (limit + 1)}))
    assert (error.field, error.message) == (
        key,
        f"has {limit + 1:,} items; at most {limit:,} are allowed",
    )


def test_the_abstract_limit_counts_the_text_without_its_markup():
    text = "a" * MAX_ABSTRACT
    assert normalized(abstract=f"<p>{text}</p><style>{'x' * 1000}</style>")["abstract"] == text


def test_a_50_mb_abstract_is_refused():
    assert rejected(make_record(1, abstract="word " * 10_000_000)).field == "abstract"


def test_the_limits_are_documented():
    contract = (DOCS / "record-format.md").read_text(encoding="utf-8")
    for limit in (
        MAX_TITLE,
        MAX_ABSTRACT,
        MAX_TEXT,
        MAX_REFERENCE,
        MAX_AUTHORS,
        MAX_KEYWORDS,
        MAX_REFERENCES,
        MAX_FILES,
        MAX_EXTRA_DEPTH,
    ):
        assert f"{limit:,}" in contract, limit
