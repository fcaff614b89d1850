"""HTML5 checks every page test runs: a strict WHATWG parse plus the structural rules of
accessibility that a parser can see (language, one h1, landmarks, labels, alt text, ids).

The browser test adds axe-core's full check on a rendered page (tests/test_pages_browser.py).
"""

from __future__ import annotations

from collections import Counter

import html5lib
from lxml import etree

XHTML = "{http://www.w3.org/1999/xhtml}"


def parse_strict(text: str) -> etree._Element:
    """The document as lxml elements; any HTML5 parse error fails the test with its place."""
    parser = html5lib.HTMLParser(strict=True, tree=html5lib.getTreeBuilder("lxml"))
    try:
        document = parser.parse(text)
    except html5lib.html5parser.ParseError as error:
        line, column = parser.errors[-1][0] if parser.errors else ("?", "?")
        context = text.splitlines()[line - 1] if isinstance(line, int) else ""
        raise AssertionError(f"HTML5 parse error at {line}:{column}: {error}\n{context}") from None
    return document.getroot()


def assert_valid_page(text: str) -> etree._Element:
    """A full page: doctype, lang, title, one h1, main landmark, labelled controls, alts."""
    assert text.lstrip().lower().startswith("<!doctype html>"), "no HTML5 doctype"
    root = parse_strict(text)
    assert root.get("lang"), "<html> has no lang"
    titles = root.findall(f"{XHTML}head/{XHTML}title")
    assert len(titles) == 1 and (titles[0].text or "").strip(), "one non-empty <title>"
    assert len(root.findall(f".//{XHTML}h1")) == 1, "exactly one <h1>"
    assert len(root.findall(f".//{XHTML}main")) == 1, "exactly one <main>"
    ids = Counter(el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id"))
    duplicated = [i for i, n in ids.items() if n > 1]
    assert not duplicated, f"duplicate ids: {duplicated}"
    for image in root.iter(f"{XHTML}img"):
        assert image.get("alt") is not None, f"<img src={image.get('src')!r}> has no alt"
    labelled = {el.get("for") for el in root.iter(f"{XHTML}label")}
    for control in [*root.iter(f"{XHTML}input"), *root.iter(f"{XHTML}select")]:
        if control.get("type") in ("hidden", "submit", "button"):
            continue
        assert (
            control.get("id") in labelled or control.get("aria-label") or _inside_label(control)
        ), f"form control {control.get('name')!r} has no label"
    for link in root.iter(f"{XHTML}a"):
        assert "".join(link.itertext()).strip() or link.get("aria-label"), "a link has no text"
    _assert_heading_order(root)
    return root


def _inside_label(element: etree._Element) -> bool:
    return any(parent.tag == f"{XHTML}label" for parent in element.iterancestors())


def _assert_heading_order(root: etree._Element) -> None:
    """Headings never skip a level going down (h2 → h4 is an error; h4 → h2 is fine)."""
    previous = 0
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag.startswith(XHTML) and tag[len(XHTML) :] in ("h1", "h2", "h3", "h4", "h5", "h6"):
            level = int(tag[-1])
            assert level <= previous + 1 or previous == 0, f"heading h{level} after h{previous}"
            previous = level
