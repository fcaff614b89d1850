"""Hypothesis profiles and strategies for the fuzz tests (test_fuzz_protocol, test_fuzz_import).

Two profiles (docs/fuzzing.md):

* ``ci`` (the default): few examples, derandomized, so the fuzz files cost the suite well
  under a minute on SQLite and PostgreSQL and never flake;
* ``long`` (``OAIPRESS_FUZZ_PROFILE=long``): thousands of examples with a random seed, to
  run by hand; what it found is recorded in docs/fuzzing.md.

The strategies build requests as **bytes**: a harvester's query string or POST body can
hold anything (invalid UTF-8, NUL, UTF-8-encoded surrogates, ``+``, ``;``), and only bytes
reach the app the way a real server passes them (WSGI ``QUERY_STRING`` is those bytes
read as Latin-1).
"""

from __future__ import annotations

import base64
import json
import os
import string
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote_from_bytes

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from oai.protocol.tokens import TokenCodec

# --- profiles --------------------------------------------------------------------------

#: every fuzz test runs on the function-scoped ``app`` fixture: its store is made once per
#: test and shared by that test's examples, which is what we want (requests only read).
_SUPPRESSED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=_SUPPRESSED,
)
settings.register_profile(
    "long",
    max_examples=3000,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SUPPRESSED,
)
PROFILE = os.environ.get("OAIPRESS_FUZZ_PROFILE", "ci")
if PROFILE not in ("ci", "long"):
    raise RuntimeError(f"OAIPRESS_FUZZ_PROFILE must be ci or long, not {PROFILE!r}")


#: overrides the profile's examples per test (a long run cut to the time at hand)
EXAMPLES = os.environ.get("OAIPRESS_FUZZ_EXAMPLES")


def fuzz_settings(scale: float = 1.0) -> settings:
    """The selected profile, with ``scale`` times its examples (expensive tests use less)."""
    base = settings.get_profile(PROFILE)
    examples = int(EXAMPLES) if EXAMPLES else base.max_examples
    return settings(base, max_examples=max(5, int(examples * scale)))


# --- OAI-PMH vocabulary ----------------------------------------------------------------

VERBS = (
    "Identify",
    "ListMetadataFormats",
    "ListSets",
    "ListIdentifiers",
    "ListRecords",
    "GetRecord",
)
ARGUMENT_NAMES = ("verb", "identifier", "metadataPrefix", "from", "until", "set", "resumptionToken")
#: §3.6: every error code OAI-PMH defines
ERROR_CODES = frozenset(
    {
        "badArgument",
        "badResumptionToken",
        "badVerb",
        "cannotDisseminateFormat",
        "idDoesNotExist",
        "noRecordsMatch",
        "noMetadataFormats",
        "noSetHierarchy",
    }
)
#: §4: the errors each verb may answer (badVerb aside, which any request may get)
VERB_ERRORS = {
    "Identify": frozenset({"badArgument"}),
    "ListMetadataFormats": frozenset({"badArgument", "idDoesNotExist", "noMetadataFormats"}),
    "ListSets": frozenset({"badArgument", "badResumptionToken", "noSetHierarchy"}),
    "ListIdentifiers": frozenset(
        {
            "badArgument",
            "badResumptionToken",
            "cannotDisseminateFormat",
            "noRecordsMatch",
            "noSetHierarchy",
        }
    ),
    "GetRecord": frozenset({"badArgument", "cannotDisseminateFormat", "idDoesNotExist"}),
}
VERB_ERRORS["ListRecords"] = VERB_ERRORS["ListIdentifiers"]
PREFIXES = ("oai_dc", "marcxml", "mods", "datacite", "oai_openaire", "jats")
REPOSITORY = "repo.example.org"  # tests/conftest.py settings
SECRET = "test-secret"  # tests/conftest.py settings

# --- text ------------------------------------------------------------------------------

#: characters that break naive code: controls, NUL, XML-illegal, bidi, combining marks,
#: non-ASCII digits, full-width forms, astral characters, BOM, noncharacters
NASTY = (
    "\x00\x01\x08\x0b\x0c\x1b\x7f\x85\xa0\u00ad\u0300\u0301\u0660\u0669\u200b\u200d\u200e"
    "\u200f\u202a\u202e\u2028\u2029\u2066\ufeff\ufffd\ufffe\uffff\uff10\uff21"
    "\U0001f600\U00010000\U0010fffd\U0010ffff"
)
LONE_SURROGATES = "\ud800\udbff\udc00\udfff"


def nasty_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Any Unicode, lone surrogates included, weighted towards characters that break code."""
    return st.text(
        st.one_of(
            st.characters(codec=None),  # every code point, surrogates too
            st.sampled_from(NASTY + LONE_SURROGATES),
            st.sampled_from(string.printable),
        ),
        max_size=max_size,
    )


def long_text(alphabet: str = "a", sizes: tuple[int, ...] = (0, 1, 255, 256, 4096, 4097)) -> Any:
    return st.builds(lambda n, c: c * n, st.sampled_from(sizes), st.sampled_from(alphabet))


# --- argument values -------------------------------------------------------------------


def _date_text(y: int, m: int, d: int) -> str:
    return f"{y:04d}-{m:02d}-{d:02d}"


def second_text(t: datetime) -> str:
    """strftime's %Y drops the zeros of years before 1000 on glibc: write them out."""
    return f"{_date_text(t.year, t.month, t.day)}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z"


def dates() -> st.SearchStrategy[str]:
    """UTCdatetime values (§3.3.1) at both granularities, valid and not."""
    valid_day = st.dates().map(lambda d: d.isoformat())
    valid_second = st.datetimes().map(second_text)
    raw_day = st.builds(
        _date_text, st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99)
    )  # month 13, 30 February, year 0000
    raw_second = st.builds(
        lambda day, h, mi, s, z: f"{day}T{h:02d}:{mi:02d}:{s:02d}{z}",
        raw_day,
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.sampled_from(["Z", "", "z", "+00:00", ".5Z", "Z "]),
    )
    odd = st.sampled_from(
        [
            "2004",
            "2004-01",
            "2004-1-1",
            " 2004-01-01",
            "2004-01-01 ",
            "2004-01-01T",
            "2004-01-01T00:00Z",
            "٢٠٠٤-٠١-٠١",
            "２００４-０１-０１",
            "9999-12-31T23:59:59Z",
            "0001-01-01",
            "0000-01-01",
            "1969-12-31T23:59:59Z",
            "2004-02-29",
            "2003-02-29",
            "-2004-01-01",
            "+2004-01-01",
            "20040101",
        ]
    )
    return st.one_of(valid_day, valid_second, raw_day, raw_second, odd)


def prefixes() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(PREFIXES),
        st.sampled_from(["OAI_DC", "oai_dc ", "dc", "marc21", "jats!", "oai%5Fdc", "oai_dc\x00"]),
        st.text(string.ascii_letters + "-_.!~*'()", min_size=1, max_size=12),
        nasty_text(12),
    )


def set_specs(known: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(known),
        st.sampled_from(["driver", "openaire", "nope", "a:", ":a", "a::b", "a b", "A", "cac:"]),
        st.lists(st.text(string.ascii_letters + "-_.", min_size=1, max_size=5), min_size=1).map(
            ":".join
        ),
        nasty_text(12),
    )


def identifiers(local_ids: tuple[str, ...]) -> st.SearchStrategy[str]:
    """OAI identifiers: stored ones, near misses, URIs of every shape, any text at all."""
    ours = st.sampled_from(local_ids).map(lambda i: f"oai:{REPOSITORY}:{i}")
    near = st.builds(
        lambda i, f: f(f"oai:{REPOSITORY}:{i}"),
        st.sampled_from(local_ids),
        st.sampled_from(
            [
                str.upper,
                lambda s: s + "/",
                lambda s: s[:-1],
                lambda s: s.replace("/", "%2F"),
                lambda s: s.replace("oai:", "OAI:"),
                lambda s: s + "#x",
                lambda s: s + "?q=1",
                lambda s: s.replace(REPOSITORY, "other.example.org"),
            ]
        ),
    )
    shapes = st.sampled_from(
        [
            "oai:",
            f"oai:{REPOSITORY}:",
            "urn:x",
            "http://[::1]/",
            "http://a:/",
            "x:%zz",
            "x:%",
            "a:]]>",
            "a:b c",
            "1a:b",
            "a:\u00e9",
            "a:\ufffe",
            "a:\U0001f600",
            "a://@/",
        ]
    )
    return st.one_of(
        ours,
        near,
        shapes,
        st.builds(lambda t: f"oai:{REPOSITORY}:{t}", nasty_text(30)),
        long_text("x", (4070, 4096, 5000)).map(lambda s: f"oai:{REPOSITORY}:{s}"),
        nasty_text(),
    )


# --- resumption tokens -----------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _payload(token: str) -> list[Any]:
    body = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def signed(payload: Any, secret: str = SECRET, issued: int | None = None) -> str:
    """A token with ``payload``, signed with ``secret`` as the app signs, issued then."""
    import time

    codec = TokenCodec(secret, 3600)
    body = _b64(json.dumps(payload).encode("utf-8")).encode("ascii")
    when = int(time.time()) if issued is None else issued
    signed_part = body + b"." + str(when).encode("ascii")
    return (signed_part + b"." + codec._signature(signed_part)).decode("ascii")


def _flip(token: str, at: int, by: int) -> str:
    if not token:
        return token
    at %= len(token)
    return token[:at] + chr((ord(token[at]) ^ (1 << (by % 7))) or 65) + token[at + 1 :]


_PAYLOAD_EDITS: list[Callable[[list[Any]], Any]] = [
    lambda p: ["ListRecords" if p[0] != "ListRecords" else "ListIdentifiers", *p[1:]],
    lambda p: ["Identify", *p[1:]],
    lambda p: [p[0], "nope", *p[2:]],
    lambda p: [p[0], 5, *p[2:]],
    lambda p: [p[0], p[1], "no:such:set", *p[3:]],
    lambda p: [p[0], p[1], ["x"], *p[3:]],
    lambda p: [*p[:3], "x", *p[4:]],
    lambda p: [*p[:3], 10**20, *p[4:]],
    lambda p: [*p[:4], -(10**12), *p[5:]],
    lambda p: [*p[:5], [0, 5], *p[6:]],
    lambda p: [*p[:5], ["x", "y"], *p[6:]],
    lambda p: [*p[:5], [10**19, "a"], *p[6:]],
    lambda p: [*p[:5], [0], *p[6:]],
    lambda p: [*p[:5], "after", *p[6:]],
    lambda p: [*p[:6], -1, *p[7:]],
    lambda p: [*p[:6], "3", *p[7:]],
    lambda p: [*p[:6], 1.5, *p[7:]],
    lambda p: [*p[:7], 0],
    lambda p: [*p[:7], -5],
    lambda p: [*p[:7], 10**30],
    lambda p: [*p[:7], None],
    lambda p: p[:7],
    lambda p: [*p, "0/0", "extra"],
    lambda p: [*p, 7],
    lambda p: {"verb": p[0]},
    lambda p: None,
    lambda p: "ListRecords",
    lambda p: [],
]


def tokens(real: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Resumption tokens: real ones and every way of spoiling them (§3.5, badResumptionToken).

    ``real`` are tokens the app issued for lists of every verb, prefix and set.
    """
    base = st.sampled_from(real)
    truncated = st.builds(lambda t, n: t[: n % (len(t) + 1)], base, st.integers(0, 400))
    flipped = st.builds(_flip, base, st.integers(0, 400), st.integers(0, 6))
    wrong_key = st.builds(lambda t: signed(_payload(t), secret="another-secret"), base)
    expired = st.builds(lambda t: signed(_payload(t), issued=0), base)
    future = st.builds(lambda t: signed(_payload(t), issued=10**12), base)
    edited = st.builds(
        lambda t, edit: signed(edit(_payload(t))), base, st.sampled_from(_PAYLOAD_EDITS)
    )
    reordered = st.builds(lambda t: ".".join(reversed(t.split("."))), base)
    garbage = st.one_of(
        st.binary(max_size=120).map(_b64),
        st.builds(
            lambda a, b, c: f"{_b64(a)}.{b}.{_b64(c)}",
            st.binary(max_size=60),
            st.integers(-5, 10**12),
            st.binary(max_size=40),
        ),
        st.sampled_from(["", ".", "..", "...", "a.b.c", "0", "null", "=" * 8, "%00"]),
        nasty_text(),
    )
    return st.one_of(
        base, truncated, flipped, wrong_key, expired, future, edited, reordered, garbage
    )


# --- requests as bytes -----------------------------------------------------------------


def encoded(text: str, how: str) -> bytes:
    """``text`` as it could appear in a query string: raw, percent-encoded, or '+' for spaces."""
    data = text.encode("utf-8", "surrogatepass")  # lone surrogates: invalid UTF-8 (CESU)
    if how == "raw":
        return data
    if how == "plus":
        return quote_from_bytes(data, safe=" ").replace(" ", "+").encode("ascii")
    if how == "all":
        return "".join(f"%{b:02X}" for b in data).encode("ascii")
    if how == "lower":
        return "".join(f"%{b:02x}" for b in data).encode("ascii")
    return quote_from_bytes(data, safe="").encode("ascii")


ENCODINGS = st.sampled_from(["quote", "quote", "quote", "raw", "plus", "all", "lower"])


@st.composite
def pairs(
    draw: st.DrawFn,
    local_ids: tuple[str, ...],
    sets: tuple[str, ...],
    real_tokens: tuple[str, ...],
) -> list[tuple[str, str]]:
    """An argument list: usually a verb with plausible arguments, sometimes anything."""
    verb = draw(
        st.one_of(
            st.sampled_from(VERBS),
            st.sampled_from(["identify", "ListRecord", "Identify ", "GETRECORD", "", "\x00"]),
            nasty_text(10),
        )
    )
    values: dict[str, st.SearchStrategy[str]] = {
        "identifier": identifiers(local_ids),
        "metadataPrefix": prefixes(),
        "from": dates(),
        "until": dates(),
        "set": set_specs(sets),
        "resumptionToken": tokens(real_tokens),
        "verb": st.sampled_from(VERBS),
    }
    names = st.one_of(
        st.sampled_from(ARGUMENT_NAMES[1:]),
        st.sampled_from(["Verb", "metadataprefix", "foo", "", "verb[]", "from ", "set\x00"]),
        nasty_text(8),
    )
    chosen = draw(st.lists(names, max_size=5))
    result: list[tuple[str, str]] = [] if draw(st.booleans()) and not chosen else [("verb", verb)]
    for name in chosen:
        value = draw(st.one_of(values.get(name, nasty_text()), st.just(""), nasty_text()))
        result.append((name, value))
    if draw(st.integers(0, 9)) == 0 and result:  # a repeat of an argument already given
        result.append(draw(st.sampled_from(result)))
    return draw(st.permutations(result))


@st.composite
def valid_pairs(
    draw: st.DrawFn,
    local_ids: tuple[str, ...],
    sets: tuple[str, ...],
) -> list[tuple[str, str]]:
    """Arguments that are legal for their verb (§4): never badVerb or badArgument."""
    verb = draw(st.sampled_from(VERBS))
    result = [("verb", verb)]
    day = st.dates().map(lambda d: d.isoformat())
    second = st.datetimes().map(second_text)
    if verb == "GetRecord" or (verb == "ListMetadataFormats" and draw(st.booleans())):
        ident = draw(
            st.one_of(
                st.sampled_from(local_ids).map(lambda i: f"oai:{REPOSITORY}:{i}"),
                st.sampled_from(["oai:other.example.org:x", "urn:isbn:0451450523", "http://a/b"]),
            )
        )
        result.append(("identifier", ident))
    if verb in ("GetRecord", "ListIdentifiers", "ListRecords"):
        prefix = draw(st.one_of(st.sampled_from(PREFIXES), st.sampled_from(["nope", "dc"])))
        result.append(("metadataPrefix", prefix))
    if verb in ("ListIdentifiers", "ListRecords"):
        granularity = draw(st.sampled_from([day, second]))
        bounds = draw(st.lists(granularity, min_size=2, max_size=2, unique=True).map(sorted))
        if draw(st.booleans()):
            result.append(("from", bounds[0]))
        if draw(st.booleans()):
            result.append(("until", bounds[1]))
        if draw(st.booleans()):
            result.append(("set", draw(st.sampled_from(sets + ("nope", "x:y")))))
    return draw(st.permutations(result))


@st.composite
def query_bytes(draw: st.DrawFn, arguments: list[tuple[str, str]]) -> bytes:
    """``arguments`` as a raw query string, each part encoded its own way, odd separators."""
    parts = []
    for name, value in arguments:
        key = encoded(name, draw(ENCODINGS))
        form = draw(st.sampled_from(["pair", "pair", "pair", "pair", "bare", "double"]))
        if form == "bare" and not value:
            parts.append(key)
        elif form == "double":
            parts.append(key + b"=" + encoded(value, draw(ENCODINGS)) + b"=")
        else:
            parts.append(key + b"=" + encoded(value, draw(ENCODINGS)))
    separator = draw(st.sampled_from([b"&", b"&", b"&", b"&&", b";", b"&amp;"]))
    query = separator.join(parts)
    if draw(st.integers(0, 9)) == 0:  # stray bytes: %, half escapes, raw high bytes
        junk = draw(st.sampled_from([b"%", b"%2", b"%zz", b"\xff", b"\xc3", b"&", b"=", b"#"]))
        at = draw(st.integers(0, len(query)))
        query = query[:at] + junk + query[at:]
    return query


FORM = "application/x-www-form-urlencoded"
CONTENT_TYPES = st.sampled_from(
    [
        FORM,
        FORM,
        FORM,
        f"{FORM}; charset=utf-8",
        f"{FORM}; charset=ISO-8859-1",
        f"{FORM}; charset=utf-16",
        "APPLICATION/X-WWW-FORM-URLENCODED",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
        "text/plain",
        "application/json",
        "text/xml; charset=utf-8",
        "",
        None,
    ]
)
ACCEPT_ENCODINGS = st.sampled_from([None, "gzip", "deflate", "gzip;q=0", "identity", "br", "*"])
