"""Whole lists and their resumption tokens (§3.5), walked as a harvester walks them.

Each list (ListSets, ListIdentifiers and ListRecords in oai_dc) is followed from its first
request to the empty resumptionToken, within a share of the remaining budget: ListSets a
fifth, ListIdentifiers half of what is left then, ListRecords the rest. A walk the budget
ends is *partial*: what it saw is judged, and the result says how far it got.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from oai.validator.context import (
    NS,
    OAI_DC,
    OAI_DC_NS,
    SECONDS_RE,
    Context,
    Outcome,
    check,
    failed,
    passed,
    skipped,
    warned,
)
from oai.validator.http import BudgetExhausted
from oai.validator.model import Evidence, plural

VERBS = {"identifiers": "ListIdentifiers", "records": "ListRecords", "sets": "ListSets"}


@dataclass
class Walk:
    verb: str
    limit: int
    items: list[str] = field(default_factory=list)
    pages: int = 0
    complete: bool = False
    empty: str | None = None  # the error code that said the list is empty
    failure: tuple[str, Evidence] | None = None
    duplicates: list[tuple[str, Evidence]] = field(default_factory=list)
    cursor: list[tuple[str, Evidence]] = field(default_factory=list)
    sizes: list[tuple[int, Evidence]] = field(default_factory=list)
    tokens: list[tuple[str, Evidence]] = field(default_factory=list)
    payload: list[tuple[str, Evidence]] = field(default_factory=list)
    first: Evidence | None = None

    def progress(self) -> str:
        return (
            f"partial: {plural(len(self.items), 'item')} in {_pages(self.pages)} before its "
            f"share of the budget ({self.limit} requests) ran out"
        )


def _pages(count: int) -> str:
    return plural(count, "page")


def _items(verb: str, element: etree._Element) -> list[etree._Element]:
    if verb == "ListSets":
        return element.findall("oai:set", NS)
    if verb == "ListRecords":
        return element.findall("oai:record", NS)
    return element.findall("oai:header", NS)


def _key(verb: str, item: etree._Element) -> str:
    path = "oai:setSpec" if verb == "ListSets" else ".//oai:identifier"
    return (item.findtext(path, "", NS) or "").strip()


def _check_record(record: etree._Element, walk: Walk, evidence: Evidence) -> None:
    header = record.find("oai:header", NS)
    metadata = record.find("oai:metadata", NS)
    identifier = _key("ListRecords", record)
    if header is not None and header.get("status") == "deleted":
        if metadata is not None:
            walk.payload.append((f"{identifier}: deleted, yet has metadata (§2.5.1)", evidence))
        return
    payload = None if metadata is None else next(iter(metadata.iterchildren(etree.Element)), None)
    if payload is None:
        walk.payload.append((f"{identifier}: a live record without metadata", evidence))
    elif etree.QName(payload).namespace != OAI_DC_NS:
        namespace = etree.QName(payload).namespace
        walk.payload.append((f"{identifier}: oai_dc asked, metadata in {namespace!r}", evidence))


def _walk(ctx: Context, verb: str, share: float) -> Walk:
    key = f"walk:{verb}"
    if key in ctx.cache:
        return ctx.cache[key]  # type: ignore[return-value]
    walk = Walk(verb, max(1, int(ctx.client.remaining * share)))
    ctx.cache[key] = walk
    params = [("verb", verb)]
    if verb != "ListSets":
        params.append(("metadataPrefix", OAI_DC))
    seen: set[str] = set()
    tokens: set[str] = set()
    for number in range(walk.limit):
        try:
            page = ctx.fetch(params)
        except BudgetExhausted:
            return walk
        evidence = page.evidence()
        walk.first = walk.first or evidence
        if number == 0 and page.ok and page.errors in (["noRecordsMatch"], ["noSetHierarchy"]):
            walk.empty, walk.complete = page.errors[0], True
            return walk
        element = page.verb_element(verb)
        if not page.ok or element is None:
            walk.failure = (f"page {number + 1} answered {page.describe()}", evidence)
            return walk
        walk.pages += 1
        items = _items(verb, element)
        for item in items:
            identifier = _key(verb, item)
            if identifier in seen:
                walk.duplicates.append((identifier, page.evidence(f"{identifier} again")))
            seen.add(identifier)
            walk.items.append(identifier)
            if verb == "ListRecords":
                _check_record(item, walk, evidence)
        token = page.token(verb)
        if token is None:
            if number > 0:
                walk.tokens.append(
                    ("the page that completes the list has no (empty) resumptionToken", evidence)
                )
            walk.complete = True
            return walk
        before = len(walk.items) - len(items)
        if token.cursor is not None and token.cursor != str(before):
            walk.cursor.append(
                (f"page {number + 1}: cursor {token.cursor}, expected {before}", evidence)
            )
        if token.size is not None:
            if token.size.isdigit():
                walk.sizes.append((int(token.size), evidence))
            else:
                walk.tokens.append((f"completeListSize {token.size!r} is not a number", evidence))
        if token.expiration is not None and not SECONDS_RE.fullmatch(token.expiration):
            walk.tokens.append(
                (f"expirationDate {token.expiration!r} is not YYYY-MM-DDThh:mm:ssZ", evidence)
            )
        if not token.text:
            walk.complete = True
            return walk
        if token.text in tokens:
            walk.failure = (
                f"page {number + 1} hands out a resumptionToken again: a loop",
                evidence,
            )
            return walk
        tokens.add(token.text)
        params = [("verb", verb), ("resumptionToken", token.text)]
    return walk


def _shares(ctx: Context) -> None:
    """Walk in order, each taking its share of what the earlier ones left."""
    if ctx.sets_supported:
        _walk(ctx, "ListSets", 0.2)
    _walk(ctx, "ListIdentifiers", 0.5)
    _walk(ctx, "ListRecords", 1.0)


def _get(ctx: Context, name: str) -> Walk | Outcome:
    verb = VERBS[name]
    if verb == "ListSets" and not ctx.sets_supported:
        return skipped("the repository has no sets")
    _shares(ctx)
    walk: Walk = ctx.cache[f"walk:{verb}"]  # type: ignore[assignment]
    if walk.failure and not walk.items:
        return skipped(f"{verb} could not be walked (see lists.{name}.tokens)")
    if walk.empty:
        return skipped(f"{verb} is empty ({walk.empty})")
    return walk


def _failures(found: list[tuple[str, Evidence]]) -> Outcome:
    return failed("; ".join(m for m, _ in found[:3]), *(e for _, e in found[:3]))


def _unique(name: str):
    def run(ctx: Context) -> Outcome:
        walk = _get(ctx, name)
        if isinstance(walk, Outcome):
            return walk
        if walk.duplicates:
            return failed(
                f"{len(walk.duplicates)} items came twice: "
                + ", ".join(i for i, _ in walk.duplicates[:3]),
                *(e for _, e in walk.duplicates[:3]),
            )
        if not walk.complete:
            return passed(walk.progress() + "; none twice so far", partial=True)
        return passed(f"{plural(len(walk.items), 'item')} in {_pages(walk.pages)}, none twice")

    return run


def _cursor(name: str):
    def run(ctx: Context) -> Outcome:
        walk = _get(ctx, name)
        if isinstance(walk, Outcome):
            return walk
        if walk.cursor:
            return _failures(walk.cursor)
        if not walk.complete:
            return passed(walk.progress() + "; cursors right so far", partial=True)
        return passed(f"every cursor counts the items before its page ({_pages(walk.pages)})")

    return run


def _size(name: str):
    def run(ctx: Context) -> Outcome:
        walk = _get(ctx, name)
        if isinstance(walk, Outcome):
            return walk
        count = len(walk.items)
        if not walk.sizes:
            if not walk.complete:
                return passed(walk.progress() + "; no completeListSize given", partial=True)
            return passed(f"{plural(count, 'item')}; completeListSize not given (it is optional)")
        last, evidence = walk.sizes[-1]
        if count > last:
            return failed(f"{count} items received, more than completeListSize {last}", evidence)
        if not walk.complete:
            return passed(walk.progress() + f"; completeListSize {last}", partial=True)
        if last != count:
            return failed(f"completeListSize says {last}, the list had {count} items", evidence)
        if len({size for size, _ in walk.sizes}) > 1:
            values = sorted({size for size, _ in walk.sizes})
            return warned(f"completeListSize changed during the walk: {values}", evidence)
        return passed(f"completeListSize {last} = the {count} items received", evidence)

    return run


def _tokens(name: str):
    def run(ctx: Context) -> Outcome:
        verb = VERBS[name]
        if verb == "ListSets" and not ctx.sets_supported:
            return skipped("the repository has no sets")
        _shares(ctx)
        walk: Walk = ctx.cache[f"walk:{verb}"]  # type: ignore[assignment]
        if walk.failure:
            message, evidence = walk.failure
            return failed(f"{verb} broke off: {message}", evidence)
        if walk.tokens:
            return _failures(walk.tokens)
        if walk.empty:
            return skipped(f"{verb} is empty ({walk.empty})")
        if not walk.complete:
            return passed(walk.progress(), partial=True)
        first = [walk.first] if walk.first else []
        return passed(f"{_pages(walk.pages)}; the last one ends the list", *first)

    return run


def _register(name: str) -> list:
    verb = VERBS[name]
    return [
        check(f"lists.{name}.unique", f"{verb}: no item twice", "§3.5")(_unique(name)),
        check(f"lists.{name}.cursor", f"{verb}: cursor counts what came before", "§3.5")(
            _cursor(name)
        ),
        check(
            f"lists.{name}.complete-list-size",
            f"{verb}: completeListSize is the list's size",
            "§3.5",
        )(_size(name)),
        check(f"lists.{name}.tokens", f"{verb}: tokens lead to the end, the last is empty", "§3.5")(
            _tokens(name)
        ),
    ]


@check(
    "lists.records.metadata",
    "ListRecords: live records carry oai_dc, deleted ones none",
    "§2.5.1, §3.4",
)
def records_metadata(ctx: Context) -> Outcome:
    walk = _get(ctx, "records")
    if isinstance(walk, Outcome):
        return walk
    if walk.payload:
        return _failures(walk.payload)
    if not walk.complete:
        return passed(walk.progress() + "; all fine so far", partial=True)
    return passed(f"{plural(len(walk.items), 'record')}, as they should be")


@check("lists.same-items", "ListIdentifiers and ListRecords list the same items", "§4.3, §4.5")
def same_items(ctx: Context) -> Outcome:
    identifiers = _get(ctx, "identifiers")
    records = _get(ctx, "records")
    if isinstance(identifiers, Outcome) or isinstance(records, Outcome):
        return skipped("a list could not be walked")
    if not (identifiers.complete and records.complete):
        return skipped("a walk is partial: the lists cannot be compared whole")
    only_ids = sorted(set(identifiers.items) - set(records.items))
    only_records = sorted(set(records.items) - set(identifiers.items))
    if only_ids or only_records:
        return failed(
            f"only in ListIdentifiers: {only_ids[:3]}; only in ListRecords: {only_records[:3]}"
        )
    return passed(f"the same {plural(len(set(records.items)), 'identifier')} in both")


@check("lists.set-selective", "set= lists only the set and its descendants", "§2.7.2")
def set_selective(ctx: Context) -> Outcome:
    if not ctx.sets_supported or not ctx.set_specs:
        return skipped("the repository has no sets")
    spec = ctx.set_specs[0]
    page = ctx.fetch([("verb", "ListIdentifiers"), ("metadataPrefix", OAI_DC), ("set", spec)])
    if page.ok and page.errors == ["noRecordsMatch"]:
        return passed(f"set {spec} is empty (noRecordsMatch)", page.evidence())
    if not page.ok or page.verb_element("ListIdentifiers") is None:
        return failed(f"set={spec} answered {page.describe()}", page.evidence())
    outside = [
        h.identifier
        for h in page.headers()
        if not any(s == spec or s.startswith(spec + ":") for s in h.sets)
    ]
    if outside:
        return failed(f"set={spec} listed items not in it: {outside[:3]}", page.evidence())
    return passed(
        f"set={spec}: {plural(len(page.headers()), 'header')}, all in the set", page.evidence()
    )


CHECKS = [
    set_selective,
    *_register("sets"),
    *_register("identifiers"),
    *_register("records"),
    records_metadata,
    same_items,
]
