"""Dates: selective harvesting by from/until (§2.7.1, §3.3.1), datestamps at the declared
granularity (§3.3.2), the earliest datestamp (§4.2) and responseDate (§3.2, §3.3.2).

The probes ask for windows around a datestamp the repository listed itself, so they
need no knowledge of its content; the summaries look at every header and responseDate
the whole run saw.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from oai.validator.context import (
    DAY,
    OAI_DC,
    SECONDS,
    SECONDS_RE,
    Context,
    Header,
    Outcome,
    check,
    failed,
    format_datestamp,
    parse_datestamp,
    passed,
    skipped,
    warned,
)
from oai.validator.model import Evidence, plural

CLOCK_TOLERANCE = timedelta(days=1)  # responseDate this far from our clock: a warning


def _truncate(value: datetime, granularity: str) -> datetime:
    return value.replace(hour=0, minute=0, second=0) if granularity == DAY else value


def _middle(ctx: Context) -> Header | None:
    datable = [h for h in ctx.sample() if parse_datestamp(h.datestamp)]
    return datable[len(datable) // 2] if datable else None


def _window(ctx: Context, item: Header, granularity: str) -> Outcome:
    """ListIdentifiers from=until=the item's datestamp: everything inside, the item too."""
    moment = _truncate(parse_datestamp(item.datestamp)[0], granularity)  # type: ignore[index]
    bound = format_datestamp(moment, granularity)
    page = ctx.fetch(
        [
            ("verb", "ListIdentifiers"),
            ("metadataPrefix", OAI_DC),
            ("from", bound),
            ("until", bound),
        ]
    )
    if not page.ok or page.verb_element("ListIdentifiers") is None:
        return failed(
            f"from=until={bound} must list {item.identifier} (datestamp {item.datestamp}), "
            f"got {page.describe()}",
            page.evidence(),
        )
    outside = []
    for header in page.headers():
        parsed = parse_datestamp(header.datestamp)
        if parsed is None or _truncate(parsed[0], granularity) != moment:
            outside.append(f"{header.identifier} {header.datestamp}")
    if outside:
        return failed(
            f"from=until={bound} listed records outside the window: {outside[:3]}",
            page.evidence(),
        )
    listed = {h.identifier for h in page.headers()}
    if item.identifier not in listed and page.token("ListIdentifiers") is None:
        return failed(
            f"from=until={bound} left out {item.identifier}, whose datestamp is "
            f"{item.datestamp} (bounds are inclusive, §2.7.1)",
            page.evidence(),
        )
    return passed(
        f"from=until={bound}: {plural(len(listed), 'header')}, all inside", page.evidence()
    )


@check("dates.from-until", "from/until select datestamps inclusively", "§2.7.1, §3.3.1")
def from_until(ctx: Context) -> Outcome:
    item = _middle(ctx)
    if item is None:
        return skipped("no datestamp listed to select by")
    return _window(ctx, item, ctx.identity.granularity)


@check("dates.day-granularity", "Day granularity is supported", "§3.3.1")
def day_granularity(ctx: Context) -> Outcome:
    if ctx.identity.granularity == DAY:
        return skipped("the repository's granularity is days: dates.from-until covers it")
    item = _middle(ctx)
    if item is None:
        return skipped("no datestamp listed to select by")
    return _window(ctx, item, DAY)


@check(
    "dates.finer-granularity",
    "A request finer than the declared granularity is refused",
    "§3.3.1",
)
def finer_granularity(ctx: Context) -> Outcome:
    if ctx.identity.granularity != DAY:
        return skipped("the repository supports seconds: nothing is finer")
    item = _middle(ctx)
    day = item.datestamp[:10] if item else "2000-01-01"
    page = ctx.fetch(
        [("verb", "ListIdentifiers"), ("metadataPrefix", OAI_DC), ("from", f"{day}T00:00:00Z")],
        purpose="error",
    )
    if page.ok and "badArgument" in page.errors:
        return passed("from with seconds: badArgument", page.evidence())
    return failed(
        f"the granularity is {DAY} but from={day}T00:00:00Z was answered with "
        f"{page.describe()}, not badArgument",
        page.evidence(),
    )


@check("dates.before-earliest", "Nothing is listed before earliestDatestamp", "§4.2")
def before_earliest(ctx: Context) -> Outcome:
    parsed = parse_datestamp(ctx.identity.earliest)
    if parsed is None:
        return skipped("Identify gave no usable earliestDatestamp")
    granularity = ctx.identity.granularity
    step = timedelta(days=1) if granularity == DAY else timedelta(seconds=1)
    until = format_datestamp(_truncate(parsed[0], granularity) - step, granularity)
    page = ctx.fetch(
        [("verb", "ListIdentifiers"), ("metadataPrefix", OAI_DC), ("until", until)],
        purpose="error",
    )
    if page.ok and page.errors == ["noRecordsMatch"]:
        return passed(f"until={until}: noRecordsMatch", page.evidence())
    return failed(
        f"earliestDatestamp is {ctx.identity.earliest}, but until={until} answered "
        f"{page.describe()} instead of noRecordsMatch",
        page.evidence(),
    )


@check(
    "dates.header-granularity",
    "Every datestamp is at the declared granularity",
    "§3.3.2",
    phase="summary",
)
def header_granularity(ctx: Context) -> Outcome:
    headers = ctx.seen.headers
    if not headers:
        return skipped("no header was seen")
    granularity = ctx.identity.granularity
    wrong = [h for h in headers if (parse_datestamp(h.datestamp) or (None, None))[1] != granularity]
    if wrong:
        shown = wrong[:3]
        return failed(
            f"{len(wrong)} of {len(headers)} datestamps are not {granularity}: "
            + ", ".join(f"{h.identifier} {h.datestamp!r}" for h in shown),
            *(Evidence(h.url, f"{h.identifier}: {h.datestamp}") for h in shown),
        )
    return passed(f"{len(headers)} datestamps, all {granularity}")


@check(
    "dates.earliest",
    "No datestamp is earlier than earliestDatestamp",
    "§4.2",
    phase="summary",
)
def earliest(ctx: Context) -> Outcome:
    parsed = parse_datestamp(ctx.identity.earliest)
    if parsed is None:
        return skipped("Identify gave no usable earliestDatestamp")
    floor, granularity = parsed
    early = []
    for header in ctx.seen.headers:
        value = parse_datestamp(header.datestamp)
        if value is not None and _truncate(value[0], granularity) < floor:
            early.append(header)
    if early:
        return failed(
            f"{len(early)} datestamps before earliestDatestamp {ctx.identity.earliest}: "
            + ", ".join(f"{h.identifier} {h.datestamp}" for h in early[:3]),
            *(Evidence(h.url, f"{h.identifier}: {h.datestamp}") for h in early[:3]),
        )
    return passed(f"{len(ctx.seen.headers)} datestamps, none before {ctx.identity.earliest}")


@check(
    "dates.response-date",
    "responseDate is YYYY-MM-DDThh:mm:ssZ, in UTC",
    "§3.2, §3.3.2",
    phase="summary",
)
def response_date(ctx: Context) -> Outcome:
    dates = ctx.seen.response_dates
    if not dates:
        return skipped("no response was seen")
    wrong = [(url, text) for url, text in dates if not SECONDS_RE.fullmatch(text)]
    if wrong:
        return failed(
            f"{len(wrong)} of {len(dates)} responseDates are not {SECONDS}: "
            + ", ".join(repr(text) for _, text in wrong[:3]),
            *(Evidence(url, text) for url, text in wrong[:3]),
        )
    now = ctx.now()
    off = [
        (url, text)
        for url, text in dates
        if abs(parse_datestamp(text)[0] - now) > CLOCK_TOLERANCE  # type: ignore[index]
    ]
    if off:
        return warned(
            f"responseDate {off[0][1]} is more than a day from this machine's UTC clock "
            f"({format_datestamp(now, SECONDS)}): is the server's clock or zone wrong?",
            *(Evidence(url, text) for url, text in off[:3]),
        )
    return passed(f"{len(dates)} responseDates, all {SECONDS} and close to UTC now")


CHECKS = [
    from_until,
    day_granularity,
    finer_granularity,
    before_earliest,
    header_granularity,
    earliest,
    response_date,
]
