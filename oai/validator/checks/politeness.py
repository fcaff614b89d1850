"""HTTP as a harvester meets it: status codes (§3.1.2.2), Content-Type (§3.1.2.1),
compression (§3.1.3) and Retry-After on 503 (§3.1.2.2, RFC 9110 §10.2.3).

Only the requests a harvester normally makes are judged here; the deliberately wrong
requests of checks/errors.py judge their own answers.
"""

from __future__ import annotations

from oai.validator.context import Context, Outcome, check, failed, passed, skipped, warned
from oai.validator.model import Evidence, clip

MAX_RETRY_AFTER = 24 * 3600.0  # seconds: a server that wants a longer pause is not "busy"
ENCODINGS = ("gzip", "deflate")


def _evidence(response) -> Evidence:
    note = response.error or f"HTTP {response.status}, {response.content_type or 'no type'}"
    return Evidence(response.url, clip(note))


@check("politeness.compression-declared", "Every compression Identify declares is served", "§3.1.3")
def compression_declared(ctx: Context) -> Outcome:
    declared = [c for c in ctx.identity.compression if c != "identity"]
    if not declared:
        return skipped("Identify declares no compression (it is optional)")
    problems, evidence = [], []
    for encoding in declared:
        if encoding not in ENCODINGS:
            problems.append(f"{encoding!r} is declared; the validator can only test gzip, deflate")
            continue
        page = ctx.fetch([("verb", "Identify")], accept_encoding=encoding)
        served = page.response.content_encoding
        evidence.append(_evidence(page.response))
        if served != encoding:
            problems.append(f"Accept-Encoding: {encoding} got Content-Encoding {served or 'none'}")
        elif not page.ok:
            problems.append(f"the {encoding} answer did not decode to XML: {page.describe()}")
    if any("got" in p or "decode" in p for p in problems):
        return failed(
            "Identify declares " + ", ".join(declared) + ": " + "; ".join(problems), *evidence
        )
    if problems:
        return warned("; ".join(problems), *evidence)
    return passed(f"{', '.join(declared)} served as declared", *evidence)


@check("politeness.identity", "An uncompressed response is served on request", "§3.1.3")
def identity(ctx: Context) -> Outcome:
    page = ctx.fetch([("verb", "Identify")], accept_encoding="identity")
    served = page.response.content_encoding
    if served not in (None, "identity"):
        return failed(
            f"Accept-Encoding: identity got Content-Encoding {served}", _evidence(page.response)
        )
    if not page.ok:
        return failed(f"Identify without compression: {page.describe()}", page.evidence())
    return passed("Accept-Encoding: identity is answered uncompressed", _evidence(page.response))


@check(
    "politeness.compression-undeclared",
    "Compression served is declared in Identify",
    "§3.1.3",
    phase="summary",
)
def compression_undeclared(ctx: Context) -> Outcome:
    served = {r.content_encoding for r in ctx.seen.responses if r.content_encoding}
    served.discard("identity")
    hidden = sorted(served - set(ctx.identity.compression))
    if hidden:
        example = next(r for r in ctx.seen.responses if r.content_encoding in hidden)
        return warned(
            f"served {', '.join(hidden)} without declaring it in Identify (§3.1.3: should)",
            _evidence(example),
        )
    return passed(f"served {', '.join(sorted(served)) or 'no compression'}, as declared")


@check("politeness.http-status", "Requests are answered with HTTP 200", "§3.1.2.2", "summary")
def http_status(ctx: Context) -> Outcome:
    responses = ctx.seen.responses
    if not responses:
        return skipped("nothing was requested")
    bad = [r for r in responses if r.status != 200 or r.error]
    if bad:
        return failed(
            f"{len(bad)} of {len(responses)} requests were not answered 200 OK: "
            + "; ".join(r.error or f"HTTP {r.status}" for r in bad[:3]),
            *(_evidence(r) for r in bad[:3]),
        )
    return passed(f"{len(responses)} requests, all 200 OK")


@check("politeness.content-type", "Content-Type is text/xml in UTF-8", "§3.1.2.1, §3.2", "summary")
def content_type(ctx: Context) -> Outcome:
    answered = [r for r in ctx.seen.responses if r.status == 200]
    if not answered:
        return skipped("no response to judge")
    wrong, no_charset = [], []
    for response in answered:
        media, _, rest = response.content_type.partition(";")
        params = dict(
            (k.strip().lower(), v.strip().strip('"').lower())
            for k, _, v in (p.partition("=") for p in rest.split(";"))
            if k.strip()
        )
        if media.strip().lower() != "text/xml":
            wrong.append(response)
        elif "charset" not in params:
            no_charset.append(response)
        elif params["charset"] not in ("utf-8", "utf8"):
            wrong.append(response)
    if wrong:
        return failed(
            f"{len(wrong)} responses are not text/xml in UTF-8: "
            + ", ".join(repr(r.content_type) for r in wrong[:3]),
            *(_evidence(r) for r in wrong[:3]),
        )
    if no_charset:
        return warned(
            f"{len(no_charset)} responses are text/xml without charset=UTF-8 (RFC 7303 §3.2 "
            "asks for it; the XML declaration still says UTF-8)",
            _evidence(no_charset[0]),
        )
    return passed(f"{len(answered)} responses, all text/xml; charset=UTF-8")


@check("politeness.retry-after", "A 503 gives a sane Retry-After", "§3.1.2.2", "summary")
def retry_after(ctx: Context) -> Outcome:
    notes = ctx.client.retries
    if not notes:
        return skipped("the server never answered 503")
    bad = [n for n in notes if n.seconds is None or not 0 < n.seconds <= MAX_RETRY_AFTER]
    if bad:
        return failed(
            "503 with Retry-After "
            + ", ".join(repr(n.value) if n.value is not None else "missing" for n in bad[:3])
            + f": it must be a number of seconds or an HTTP-date, 1 s to {MAX_RETRY_AFTER:.0f} s"
            " ahead (RFC 9110 §10.2.3)",
            *(Evidence(n.url, f"Retry-After: {n.value}") for n in bad[:3]),
        )
    return passed(
        f"{len(notes)} 503s, each with a usable Retry-After; waited as asked",
        *(Evidence(n.url, f"Retry-After: {n.value}") for n in notes[:3]),
    )


CHECKS = [
    compression_declared,
    identity,
    compression_undeclared,
    http_status,
    content_type,
    retry_after,
]
