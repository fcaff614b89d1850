"""Identify (§4.2), ListMetadataFormats (§4.4) and the first ListSets page (§4.6).

These run first: what Identify declares (granularity, earliest datestamp, compression)
is what the later checks hold the repository to.
"""

from __future__ import annotations

from oai.validator.context import (
    DAY,
    NS,
    OAI_DC,
    OAI_DC_NS,
    OAI_DC_XSD,
    SECONDS,
    Context,
    Identity,
    Outcome,
    check,
    failed,
    parse_datestamp,
    passed,
    skipped,
    warned,
)

OAI_ID_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
DELETED_VALUES = ("no", "transient", "persistent")


@check("identify.response", "Identify answers with the required elements", "§4.2")
def response(ctx: Context) -> Outcome:
    page = ctx.fetch([("verb", "Identify")])
    ctx.identify_page = page
    element = page.verb_element("Identify")
    if not page.ok or element is None:
        return failed(f"Identify did not answer: {page.describe()}", page.evidence())
    granularity = page.text("oai:Identify/oai:granularity") or ""
    earliest = page.text("oai:Identify/oai:earliestDatestamp")
    deleted = page.text("oai:Identify/oai:deletedRecord")
    ctx.identity = Identity(
        granularity=granularity if granularity in (DAY, SECONDS) else DAY,
        earliest=earliest,
        compression=tuple(
            (c.text or "").strip().lower() for c in element.findall("oai:compression", NS)
        ),
        deleted_record=deleted,
        base_url=page.text("oai:Identify/oai:baseURL"),
    )
    problems = []
    if page.text("oai:Identify/oai:protocolVersion") != "2.0":
        problems.append("protocolVersion is not 2.0")
    for name in ("repositoryName", "baseURL", "earliestDatestamp", "deletedRecord"):
        if not page.text(f"oai:Identify/oai:{name}"):
            problems.append(f"{name} is missing or empty")
    if not element.findall("oai:adminEmail", NS):
        problems.append("no adminEmail")
    if granularity not in (DAY, SECONDS):
        problems.append(f"granularity {granularity!r} is neither {DAY} nor {SECONDS}")
    if deleted not in DELETED_VALUES:
        problems.append(f"deletedRecord {deleted!r} is not one of {', '.join(DELETED_VALUES)}")
    parsed = parse_datestamp(earliest)
    if earliest and (parsed is None or parsed[1] != ctx.identity.granularity):
        problems.append(
            f"earliestDatestamp {earliest!r} is not at the declared granularity {granularity}"
        )
    if problems:
        return failed("; ".join(problems), page.evidence())
    return passed(
        f"granularity {granularity}, earliest {earliest}, deletedRecord {deleted}, "
        f"compression {', '.join(ctx.identity.compression) or 'none'}",
        page.evidence(),
    )


@check("identify.base-url", "baseURL and <request> name the URL harvested", "§4.2, §3.2")
def base_url(ctx: Context) -> Outcome:
    page = ctx.identify_page
    if page is None or not page.ok:
        return skipped("Identify did not answer")
    declared = ctx.identity.base_url
    echoed = page.text("oai:request")
    expected = ctx.base_url
    odd = [
        f"{what} is {value!r}"
        for what, value in (("baseURL", declared), ("<request>", echoed))
        if value is not None and value.rstrip("/") != expected.rstrip("/")
    ]
    if odd:
        return warned(
            f"validated {expected!r} but {' and '.join(odd)} (fine behind a proxy that "
            "rewrites the URL; harvesters will use baseURL)",
            page.evidence(),
        )
    return passed("baseURL and <request> are the URL validated", page.evidence())


@check("identify.oai-identifier", "The oai-identifier description is consistent", "oai-identifier")
def oai_identifier(ctx: Context) -> Outcome:
    page = ctx.identify_page
    if page is None or not page.ok:
        return skipped("Identify did not answer")
    found = page.root.findall(f".//{{{OAI_ID_NS}}}oai-identifier") if page.root is not None else []
    if not found:
        return skipped("Identify has no oai-identifier description (it is optional)")
    description = found[0]

    def text(name: str) -> str:
        return (description.findtext(f"{{{OAI_ID_NS}}}{name}") or "").strip()

    prefix = f"{text('scheme')}:{text('repositoryIdentifier')}{text('delimiter')}"
    sample = text("sampleIdentifier")
    if not sample.startswith(prefix):
        return failed(
            f"sampleIdentifier {sample!r} does not start with {prefix!r}", page.evidence()
        )
    foreign = [h.identifier for h in ctx.sample() if not h.identifier.startswith(prefix)]
    if foreign:
        return warned(
            f"identifiers outside the declared namespace {prefix!r}: {foreign[:3]}",
            ctx.sample_page().evidence(),
        )
    return passed(f"identifiers are {prefix}…, as declared", page.evidence())


@check(
    "identify.metadata-formats",
    "ListMetadataFormats offers oai_dc as the spec defines",
    "§3.4, §4.4",
)
def metadata_formats(ctx: Context) -> Outcome:
    page = ctx.fetch([("verb", "ListMetadataFormats")])
    if not page.ok or page.verb_element("ListMetadataFormats") is None:
        return failed(f"ListMetadataFormats did not answer: {page.describe()}", page.evidence())
    formats = {}
    for entry in page.findall("oai:ListMetadataFormats/oai:metadataFormat"):
        prefix = (entry.findtext("oai:metadataPrefix", "", NS) or "").strip()
        formats[prefix] = (
            (entry.findtext("oai:schema", "", NS) or "").strip(),
            (entry.findtext("oai:metadataNamespace", "", NS) or "").strip(),
        )
    ctx.formats = formats
    if OAI_DC not in formats:
        return failed("oai_dc is not offered: every repository must (§3.4)", page.evidence())
    if formats[OAI_DC] != (OAI_DC_XSD, OAI_DC_NS):
        return failed(
            f"oai_dc is declared as {formats[OAI_DC]}, not ({OAI_DC_XSD}, {OAI_DC_NS})",
            page.evidence(),
        )
    return passed(f"{len(formats)} formats: {', '.join(sorted(formats))}", page.evidence())


@check("identify.sets", "ListSets answers with sets or noSetHierarchy", "§4.6")
def sets(ctx: Context) -> Outcome:
    page = ctx.fetch([("verb", "ListSets")])
    if page.ok and page.errors == ["noSetHierarchy"]:
        ctx.sets_supported = False
        return passed("the repository has no sets (noSetHierarchy)", page.evidence())
    if not page.ok or page.verb_element("ListSets") is None:
        return failed(f"ListSets did not answer: {page.describe()}", page.evidence())
    ctx.sets_supported = True
    ctx.set_specs = [
        (spec.text or "").strip() for spec in page.findall("oai:ListSets/oai:set/oai:setSpec")
    ]
    return passed(f"sets, first page: {', '.join(ctx.set_specs[:5])}", page.evidence())


CHECKS = [response, base_url, oai_identifier, metadata_formats, sets]
