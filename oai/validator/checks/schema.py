"""Summaries over every normal response: XML and OAI-PMH.xsd (§3.2, §3.2.1), payloads
against their own schemas (§3.4, §4.2), and the ``<request>`` echo (§3.2).

The validation itself is in oai/validator/schema.py and runs on each response as it
arrives; these checks only gather what it found.
"""

from __future__ import annotations

from oai.validator.context import Context, Outcome, check, failed, passed, skipped
from oai.validator.model import Evidence


@check(
    "schema.envelope",
    "Responses are UTF-8 XML valid against OAI-PMH.xsd",
    "§3.2, §3.2.1",
    "summary",
)
def envelope(ctx: Context) -> Outcome:
    seen = ctx.seen.schema
    if not seen:
        return skipped("no response was seen")
    bad = [(url, v) for url, v in seen if v.envelope]
    if bad:
        return failed(
            f"{len(bad)} of {len(seen)} responses are invalid: {bad[0][1].envelope[0]}",
            *(Evidence(url, v.envelope[0]) for url, v in bad[:3]),
        )
    return passed(f"{len(seen)} responses, all valid")


@check(
    "schema.payload",
    "Metadata, about and descriptions are valid against their schemas",
    "§3.4, §4.2",
    "summary",
)
def payload(ctx: Context) -> Outcome:
    seen = ctx.seen.schema
    checked: set[str] = set()
    for _, validation in seen:
        checked |= validation.checked
    if not checked:
        return skipped("no payload with a known schema was seen")
    bad = [(url, v) for url, v in seen if v.payload]
    if bad:
        count = sum(len(v.payload) for _, v in bad)
        return failed(
            f"{count} schema errors in {len(bad)} responses: {bad[0][1].payload[0]}",
            *(Evidence(url, v.payload[0]) for url, v in bad[:3]),
        )
    return passed(f"every payload valid; namespaces checked: {', '.join(sorted(checked))}")


@check(
    "schema.not-checked", "Payload namespaces the validator has no schema for", "§3.4", "summary"
)
def not_checked(ctx: Context) -> Outcome:
    unknown: set[str] = set()
    for _, validation in ctx.seen.schema:
        unknown |= validation.not_checked
    if unknown:
        return skipped(f"not checked (no schema offline): {', '.join(sorted(unknown))}")
    return passed("every payload namespace seen has a schema here")


@check("schema.request-echo", "<request> repeats the request's arguments", "§3.2", "summary")
def request_echo(ctx: Context) -> Outcome:
    echoes = ctx.seen.echo
    if not echoes:
        return skipped("no successful response was seen")
    wrong = [(url, sent, got) for url, sent, got in echoes if sent != got]
    if wrong:
        url, sent, got = wrong[0]
        return failed(
            f"{len(wrong)} of {len(echoes)} responses echo other arguments: sent {sent}, "
            f"<request> has {got}",
            *(Evidence(u, f"sent {s}, echoed {g}") for u, s, g in wrong[:3]),
        )
    return passed(f"{len(echoes)} responses echo their arguments exactly")


CHECKS = [envelope, payload, not_checked, request_echo]
