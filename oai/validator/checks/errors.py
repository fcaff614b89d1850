"""Every error condition of §3.6, provoked on purpose, one request each.

Each answer must be HTTP 200 (§3.1.2.2: OAI-PMH errors are not HTTP errors), a valid
OAI-PMH document with the expected ``<error code>``, and for badVerb and badArgument a
``<request>`` without attributes (§3.2). None of these requests can change anything:
they are GETs that a correct server refuses.
"""

from __future__ import annotations

from collections.abc import Callable

from oai.validator.context import (
    OAI_DC,
    Check,
    Context,
    Outcome,
    check,
    expect_error,
    skipped,
)
from oai.validator.http import Params

NO_SUCH_PREFIX = "oaipress-validator-no-such-format"
NO_SUCH_ID = "oai:validator.invalid:no-such-item"
NO_SUCH_SET = "oaipress-validator-no-such-set"
BAD_TOKEN = "oaipress-validator-not-a-token"


def _case(
    id: str,
    title: str,
    section: str,
    params: Callable[[Context], Params | None],
    codes: tuple[str, ...],
    *,
    echo: bool = True,
) -> Check:
    """A check that sends ``params(ctx)`` (None: not applicable) and expects ``codes``."""

    def run(ctx: Context) -> Outcome:
        sent = params(ctx)
        if sent is None:
            return skipped("not applicable to this repository")
        page = ctx.fetch(sent, purpose="error")
        return expect_error(page, codes, echo=echo)

    return check(id, title, section)(run)


def _fixed(params: Params) -> Callable[[Context], Params]:
    return lambda ctx: params


def _sampled(build: Callable[[str], Params]) -> Callable[[Context], Params | None]:
    """Params that need a real identifier: the first one listed (None if none is)."""

    def params(ctx: Context) -> Params | None:
        sample = ctx.sample()
        return build(sample[0].identifier) if sample else None

    return params


def _list(**extra: str) -> Params:
    return [("verb", "ListIdentifiers"), ("metadataPrefix", OAI_DC), *extra.items()]


def _future(ctx: Context) -> Params:
    return _list(**{"from": ctx.future()})


def _unknown_set(ctx: Context) -> Params | None:
    return _list(set=NO_SUCH_SET) if ctx.sets_supported else None


def _set_without_sets(ctx: Context) -> Params | None:
    return _list(set=NO_SUCH_SET) if ctx.sets_supported is False else None


BAD_VERB = ("badVerb",)
BAD_ARGUMENT = ("badArgument",)

CHECKS = [
    _case(
        "errors.badVerb.illegal",
        "An unknown verb is badVerb",
        "§3.6",
        _fixed([("verb", "NastyVerb")]),
        BAD_VERB,
        echo=False,
    ),
    _case(
        "errors.badVerb.missing",
        "A request without verb is badVerb",
        "§3.6",
        _fixed([]),
        BAD_VERB,
        echo=False,
    ),
    _case(
        "errors.badVerb.repeated",
        "A repeated verb is badVerb",
        "§3.6",
        _fixed([("verb", "Identify"), ("verb", "Identify")]),
        BAD_VERB,
        echo=False,
    ),
    _case(
        "errors.badArgument.illegal",
        "An argument the verb does not take is badArgument",
        "§3.6, §4.2",
        _fixed([("verb", "Identify"), ("validator", "1")]),
        BAD_ARGUMENT,
        echo=False,
    ),
    _case(
        "errors.badArgument.missing",
        "A missing required argument is badArgument",
        "§3.6, §4.5",
        _fixed([("verb", "ListRecords")]),
        BAD_ARGUMENT,
        echo=False,
    ),
    _case(
        "errors.badArgument.repeated",
        "A repeated argument is badArgument",
        "§3.6",
        _fixed([*_list(), ("metadataPrefix", OAI_DC)]),
        BAD_ARGUMENT,
        echo=False,
    ),
    _case(
        "errors.badArgument.date",
        "A from that is not a UTCdatetime is badArgument",
        "§3.3.1, §3.6",
        _fixed(_list(**{"from": "2002-13-45"})),
        BAD_ARGUMENT,
        echo=False,
    ),
    _case(
        "errors.badArgument.granularities",
        "from and until of different granularities are badArgument",
        "§3.3.1",
        _fixed(_list(**{"from": "2002-01-01", "until": "2002-01-02T00:00:00Z"})),
        BAD_ARGUMENT,
        echo=False,
    ),
    _case(
        "errors.badArgument.from-after-until",
        "from later than until is badArgument",
        "§2.7.1",
        _fixed(_list(**{"from": "2002-01-02", "until": "2002-01-01"})),
        BAD_ARGUMENT,
        echo=False,
    ),
    _case(
        "errors.badArgument.exclusive",
        "resumptionToken with other arguments is badArgument",
        "§3.6, §4.3",
        _fixed([*_list(), ("resumptionToken", BAD_TOKEN)]),
        BAD_ARGUMENT,
        echo=False,
    ),
    _case(
        "errors.cannotDisseminateFormat.list",
        "A list in an unknown format is cannotDisseminateFormat",
        "§3.6, §4.3",
        _fixed([("verb", "ListIdentifiers"), ("metadataPrefix", NO_SUCH_PREFIX)]),
        ("cannotDisseminateFormat",),
    ),
    _case(
        "errors.cannotDisseminateFormat.record",
        "GetRecord in an unknown format is cannotDisseminateFormat",
        "§3.6, §4.1",
        _sampled(
            lambda i: [("verb", "GetRecord"), ("identifier", i), ("metadataPrefix", NO_SUCH_PREFIX)]
        ),
        ("cannotDisseminateFormat",),
    ),
    _case(
        "errors.idDoesNotExist.record",
        "GetRecord of an unknown identifier is idDoesNotExist",
        "§3.6, §4.1",
        _fixed([("verb", "GetRecord"), ("identifier", NO_SUCH_ID), ("metadataPrefix", OAI_DC)]),
        ("idDoesNotExist",),
    ),
    _case(
        "errors.idDoesNotExist.formats",
        "ListMetadataFormats of an unknown identifier is idDoesNotExist",
        "§3.6, §4.4",
        _fixed([("verb", "ListMetadataFormats"), ("identifier", NO_SUCH_ID)]),
        ("idDoesNotExist",),
    ),
    _case(
        "errors.badResumptionToken",
        "An invalid resumptionToken is badResumptionToken",
        "§3.5, §3.6",
        _fixed([("verb", "ListRecords"), ("resumptionToken", BAD_TOKEN)]),
        ("badResumptionToken",),
    ),
    _case(
        "errors.noRecordsMatch",
        "A from in the future is noRecordsMatch",
        "§3.6, §2.7.1",
        _future,
        ("noRecordsMatch",),
    ),
    _case(
        "errors.set-unknown",
        "A set that does not exist lists nothing",
        "§2.7.2, §3.6",
        _unknown_set,
        ("noRecordsMatch", "badArgument"),
    ),
    _case(
        "errors.noSetHierarchy",
        "set= without sets is noSetHierarchy",
        "§3.6, §4.3",
        _set_without_sets,
        ("noSetHierarchy",),
    ),
]
