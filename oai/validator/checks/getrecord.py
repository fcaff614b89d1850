"""GetRecord (§4.1) and ListMetadataFormats for one item (§4.4), on an item from a list.

The item is the first header of the first ListIdentifiers page in oai_dc, so the record
must exist in oai_dc (or be a deleted record's header) and agree with that header.
"""

from __future__ import annotations

from lxml import etree

from oai.validator.context import (
    NS,
    OAI_DC,
    OAI_DC_NS,
    OAI_DC_XSD,
    XSI_SCHEMA_LOCATION,
    Context,
    Outcome,
    check,
    failed,
    passed,
    skipped,
)


@check("getrecord.oai_dc", "GetRecord returns the listed item in oai_dc", "§4.1, §3.4, §2.5.1")
def get_record(ctx: Context) -> Outcome:
    sample = ctx.sample()
    if not sample:
        return skipped("ListIdentifiers in oai_dc listed nothing to ask for")
    item = sample[0]
    page = ctx.fetch(
        [("verb", "GetRecord"), ("identifier", item.identifier), ("metadataPrefix", OAI_DC)]
    )
    record = page.find("oai:GetRecord/oai:record")
    if not page.ok or record is None:
        return failed(f"GetRecord did not return the record: {page.describe()}", page.evidence())
    header = page.headers()[0] if page.headers() else None
    problems = []
    if header is None or header.identifier != item.identifier:
        problems.append(f"the header names {header and header.identifier!r}")
    elif header.datestamp != item.datestamp:
        problems.append(f"datestamp {header.datestamp} here, {item.datestamp} in ListIdentifiers")
    metadata = record.find("oai:metadata", NS)
    payload = None if metadata is None else next(iter(metadata.iterchildren(etree.Element)), None)
    if header is not None and header.deleted:
        if metadata is not None:
            problems.append("a deleted record carries metadata (§2.5.1)")
    elif payload is None:
        problems.append("a live record without metadata")
    else:
        namespace = etree.QName(payload).namespace
        hints = (payload.get(XSI_SCHEMA_LOCATION) or "").split()
        if namespace != OAI_DC_NS:
            problems.append(f"the metadata is in {namespace!r}, not {OAI_DC_NS} (§3.4)")
        elif OAI_DC_XSD not in hints[1::2]:
            problems.append(f"the metadata's xsi:schemaLocation does not name {OAI_DC_XSD} (§3.4)")
    if problems:
        return failed("; ".join(problems), page.evidence())
    state = "deleted" if header and header.deleted else "live"
    return passed(f"{item.identifier} ({state}) as listed", page.evidence())


@check("getrecord.metadata-formats", "ListMetadataFormats for the item includes oai_dc", "§4.4")
def item_formats(ctx: Context) -> Outcome:
    sample = ctx.sample()
    if not sample:
        return skipped("ListIdentifiers in oai_dc listed nothing to ask for")
    item = sample[0]
    page = ctx.fetch([("verb", "ListMetadataFormats"), ("identifier", item.identifier)])
    prefixes = [
        (p.text or "").strip()
        for p in page.findall("oai:ListMetadataFormats/oai:metadataFormat/oai:metadataPrefix")
    ]
    if page.ok and OAI_DC in prefixes:
        return passed(f"{item.identifier}: {', '.join(prefixes)}", page.evidence())
    if page.ok and item.deleted and page.errors == ["noMetadataFormats"]:
        return passed(f"{item.identifier} is deleted: noMetadataFormats", page.evidence())
    return failed(
        f"{item.identifier} was listed in oai_dc but ListMetadataFormats answered "
        f"{page.describe() if not prefixes else ', '.join(prefixes)}",
        page.evidence(),
    )


CHECKS = [get_record, item_formats]
