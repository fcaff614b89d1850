"""Request arguments (§3.1.1, §4): the per-verb table and everything decided before a query.

Everything a request can get wrong is found here, so the verbs only see checked values.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from oai.protocol.errors import BadArgument, BadVerb

MAX_VALUE_LENGTH = 4096
SECOND_GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
DAY_GRANULARITY = "YYYY-MM-DD"

PREFIX_RE = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")  # OAI-PMH.xsd metadataPrefixType
SET_SPEC_RE = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")  # setSpecType
# [0-9], not \d: \d and strptime accept any Unicode digit, which xs:date does not,
# so an echoed from="٢٠٢٠-01-01" would make the response invalid.
DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
SECOND_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
# An absolute URI (RFC 3986, IRI characters allowed, no IP literals): identifiers are
# URIs (§2.4) and the echoed identifier attribute is an xs:anyURI, which rejects e.g.
# "]]>", "%zz" or an empty port. Conservative: what this accepts, schema validators do.
_IRI = "\u00a0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff"
_PCT = "%[0-9A-Fa-f]{2}"
_SUB = "A-Za-z0-9\\-._~!$&'()*+,;=" + _IRI
_PCHAR = f"(?:[{_SUB}:@]|{_PCT})"
IDENTIFIER_RE = re.compile(
    "[A-Za-z][A-Za-z0-9+.\\-]*:"
    f"(?://(?:(?:[{_SUB}:]|{_PCT})*@)?(?:[{_SUB}]|{_PCT})*(?::[0-9]+)?(?:/{_PCHAR}*)*"
    f"|/?(?:{_PCHAR}+(?:/{_PCHAR}*)*)?)"
    f"(?:\\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"
)
# Text that can be echoed in <request>: XML 1.0 characters, no whitespace or controls.
ECHOABLE_RE = re.compile("[\x21-\x7e\u00a0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]+")


@dataclass(frozen=True)
class VerbArguments:
    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    exclusive: str | None = None


_LIST = VerbArguments(
    frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}), "resumptionToken"
)
VERBS: dict[str, VerbArguments] = {
    "GetRecord": VerbArguments(frozenset({"identifier", "metadataPrefix"})),
    "Identify": VerbArguments(),
    "ListIdentifiers": _LIST,
    "ListMetadataFormats": VerbArguments(optional=frozenset({"identifier"})),
    "ListRecords": _LIST,
    "ListSets": VerbArguments(exclusive="resumptionToken"),
}


@dataclass(frozen=True)
class OAIRequest:
    verb: str
    arguments: dict[str, str] = field(default_factory=dict)
    from_: datetime | None = None
    until: datetime | None = None

    def get(self, name: str) -> str | None:
        return self.arguments.get(name)


def parse_utc(value: str, name: str, *, end_of_day: bool) -> tuple[datetime, str]:
    """A UTCdatetime argument (§3.3.1) at either granularity; day values cover the whole day."""
    try:
        if SECOND_RE.fullmatch(value):
            return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ"), SECOND_GRANULARITY
        if DAY_RE.fullmatch(value):
            day = datetime.strptime(value, "%Y-%m-%d")
            if end_of_day:
                day += timedelta(days=1, seconds=-1)
            return day, DAY_GRANULARITY
    except (ValueError, OverflowError):
        raise BadArgument(f"{name} {value!r} is not a valid date") from None
    raise BadArgument(
        f"{name} {value!r} is not a UTCdatetime: use YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ"
    )


def parse_request(pairs: Iterable[tuple[str, str]]) -> OAIRequest:
    """Check a request against §3.1.1 and §4; raise badVerb or badArgument on any fault."""
    pairs = list(pairs)
    verbs = [value for key, value in pairs if key == "verb"]
    if not verbs:
        raise BadVerb("the verb argument is missing")
    if len(verbs) > 1:
        raise BadVerb("the verb argument is repeated")
    verb = verbs[0]
    if verb not in VERBS:
        shown = verb[:40] if ECHOABLE_RE.fullmatch(verb[:40] or "-") else "(unprintable)"
        raise BadVerb(f"{shown!r} is not an OAI-PMH verb")
    spec = VERBS[verb]
    counts = Counter(key for key, _ in pairs if key != "verb")
    allowed = spec.required | spec.optional | ({spec.exclusive} if spec.exclusive else set())
    for key, count in counts.items():
        if key not in allowed:
            shown = key[:40] if ECHOABLE_RE.fullmatch(key[:40] or "-") else "(unprintable)"
            raise BadArgument(f"{shown!r} is not an argument of {verb}")
        if count > 1:
            raise BadArgument(f"the {key} argument is repeated")
    arguments = {key: value for key, value in pairs if key != "verb"}
    for key, value in arguments.items():
        if not value:
            raise BadArgument(f"the {key} argument is empty")
        if len(value) > MAX_VALUE_LENGTH or not ECHOABLE_RE.fullmatch(value):
            raise BadArgument(f"the {key} argument has illegal characters or length")
    if spec.exclusive and spec.exclusive in arguments:
        if len(arguments) > 1:
            raise BadArgument(f"{spec.exclusive} is an exclusive argument")
        return OAIRequest(verb, arguments)
    missing = sorted(spec.required - arguments.keys())
    if missing:
        raise BadArgument(f"{verb} requires the {', '.join(missing)} argument")
    prefix = arguments.get("metadataPrefix")
    if prefix is not None and not PREFIX_RE.fullmatch(prefix):
        raise BadArgument(f"metadataPrefix {prefix!r} has illegal syntax")
    identifier = arguments.get("identifier")
    if identifier is not None and not IDENTIFIER_RE.fullmatch(identifier):
        raise BadArgument(f"identifier {identifier!r} is not a URI")
    set_spec = arguments.get("set")
    if set_spec is not None and not SET_SPEC_RE.fullmatch(set_spec):
        raise BadArgument(f"set {set_spec!r} has illegal syntax")
    from_ = until = None
    granularities = set()
    if "from" in arguments:
        from_, granularity = parse_utc(arguments["from"], "from", end_of_day=False)
        granularities.add(granularity)
    if "until" in arguments:
        until, granularity = parse_utc(arguments["until"], "until", end_of_day=True)
        granularities.add(granularity)
    if len(granularities) > 1:
        raise BadArgument("from and until must have the same granularity")
    if from_ is not None and until is not None and from_ > until:
        raise BadArgument("from must not be later than until")
    return OAIRequest(verb, arguments, from_, until)
