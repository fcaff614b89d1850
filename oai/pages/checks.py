"""``/explore/checks``: the findings of the last ``oaipress check`` run over the store, and
the "checked" badge of each landing page.

Without arguments the page says when the last check ran and what it found: counts by
severity, by rule (every rule, with its group, severity and source) and by set. With
``rule``, ``set``, ``record`` or ``severity`` (any combination) it lists those findings,
100 a page, keyset-paged by the finding's id (``after``); each links the record's landing
page and its raw ``oai_dc`` XML. The totals are read from one row saved with the run
(records.findings), so the overview costs the same for 10 or 10 million findings.

The badge (templates/check_badge.html) has four states: no check has run ("Not checked
yet"), the record changed after the run started ("Changed since the last check"), the run
found nothing ("no problems"), or it found something (the counts, linking the record's
findings). The landing page's validators include the run's time (``CheckBadge.variant``),
so a new run is never answered with a stale 304.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Response, current_app, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from oai.checks.rules import BY_ID, GROUPS, RECORD_RULES
from oai.checks.rules import CROSS_RULES as CROSS
from oai.pages import bp
from oai.pages.article import Article
from oai.protocol.rendering import oai_identifier
from oai.store import Store
from records import findings as stored
from records.models import OAISet
from records.validate import LOCAL_ID_RE, SET_SPEC_RE

PAGE_SIZE = 100
RULE_ID_RE = re.compile(r"[a-z0-9_-]+\.[a-z0-9_.-]+")
FILTERS = ("rule", "set", "record", "severity")
CACHE_CONTROL = "no-cache"


def plausible_id(local_id: str) -> bool:
    """Could this be a stored id? (As oai.pages.landing, which imports this module.)"""
    return len(local_id) <= 512 and LOCAL_ID_RE.fullmatch(local_id) is not None


def shown_id(local_id: str) -> str:
    """An id as a page may echo it: printable characters only, and not 10 kB of it."""
    text = "".join(c if c.isprintable() else "\ufffd" for c in local_id[:200])
    return text + ("\u2026" if len(local_id) > 200 else "")


def _store() -> Store:
    return current_app.extensions["oaipress.store"]


def counted(counts: dict[str, int]) -> str:
    """``1 error, 2 warnings, 3 info`` (only the severities found)."""
    parts = []
    for severity in stored.SEVERITIES:
        n = counts.get(severity, 0)
        if n:
            word = severity if severity == "info" or n == 1 else f"{severity}s"
            parts.append(f"{n:,} {word}")
    return ", ".join(parts) or "no problems"


def _worst(counts: dict[str, int]) -> str | None:
    return next((s for s in stored.SEVERITIES if counts.get(s)), None)


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


# --- the badge on each landing page ----------------------------------------------------------


@dataclass(frozen=True)
class CheckBadge:
    state: str  #: unchecked, changed, clean, findings
    ran_at: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)
    link: str | None = None

    @property
    def text(self) -> str:
        return counted(self.counts)

    @property
    def worst(self) -> str | None:
        return _worst(self.counts)

    @property
    def day(self) -> str:
        return _day(self.ran_at) if self.ran_at else ""

    @property
    def iso(self) -> str:
        return self.ran_at.strftime("%Y-%m-%dT%H:%M:%SZ") if self.ran_at else ""

    @property
    def variant(self) -> str:
        """Part of the landing page's ETag: the badge changes with each run."""
        return f"c{int(self.ran_at.replace(tzinfo=UTC).timestamp())}" if self.ran_at else ""

    def modified(self, datestamp: datetime) -> datetime:
        """The page's Last-Modified: the record's datestamp, or the run's time when later."""
        return max(datestamp, self.ran_at.replace(microsecond=0)) if self.ran_at else datestamp


def check_badge(article: Article) -> CheckBadge:
    """The landing page's badge for this record (one row and one index range read)."""
    with _store().read_connection() as connection:
        run = stored.last_run(connection)
        if run is None:
            return CheckBadge("unchecked")
        if article.datestamp > run.ran_at:
            return CheckBadge("changed", run.ran_at)
        counts = stored.record_counts(connection, article.local_id)
    if not counts:
        return CheckBadge("clean", run.ran_at)
    link = url_for("pages.checks", record=article.local_id)
    return CheckBadge("findings", run.ran_at, counts, link)


# --- the page --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleRow:
    id: str
    group: str
    severity: str
    source: str
    summary: str
    count: int


def _rule_rows(run: stored.CheckRun) -> list[RuleRow]:
    """Every rule, those that fired first (most severe, then most frequent)."""
    rows = []
    for rule in [*RECORD_RULES, *CROSS]:
        count = sum(run.by_rule.get(rule.id, {}).values())
        rows.append(RuleRow(rule.id, rule.group, rule.severity, rule.source, rule.summary, count))
    known = {row.id for row in rows}
    for rule_id, counts in run.by_rule.items():  # rules of an older release
        if rule_id not in known:
            rows.append(RuleRow(rule_id, "", _worst(counts) or "", "", "", sum(counts.values())))
    order = {s: i for i, s in enumerate(stored.SEVERITIES)}
    return sorted(rows, key=lambda r: (r.count == 0, order.get(r.severity, 3), -r.count, r.id))


def _bad_request(message: str) -> Response:
    body = render_template("checks_bad.html", message=message)
    return _page(body, 400)


def _page(html: str, status: int = 200) -> Response:
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def _filters() -> dict[str, str] | str:
    """The page's filters, or the message that says which one is wrong."""
    chosen = {name: request.args.get(name, "") for name in FILTERS}
    chosen = {name: value for name, value in chosen.items() if value}
    if "rule" in chosen and not (
        len(chosen["rule"]) <= 64 and RULE_ID_RE.fullmatch(chosen["rule"])
    ):
        return "rule: not a rule id (such as quality.doi-form)"
    if "set" in chosen and not (len(chosen["set"]) <= 255 and SET_SPEC_RE.fullmatch(chosen["set"])):
        return "set: not a setSpec (such as cac or cac:ART)"
    if "record" in chosen and not plausible_id(chosen["record"]):
        return f"record: {shown_id(chosen['record'])!r} is not a record id"
    if "severity" in chosen and chosen["severity"] not in stored.SEVERITIES:
        return "severity: one of error, warning, info"
    return chosen


def _after() -> int | None | str:
    value = request.args.get("after", "")
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        return "after: not a position in the list"
    return int(value)


def _set_names(connection: Any, specs: list[str]) -> dict[str, str]:
    if not specs:
        return {}
    rows = connection.execute(select(OAISet.spec, OAISet.name).where(OAISet.spec.in_(specs)))
    return dict(rows.all())


def _raw_xml(local_id: str) -> str:
    identifier = oai_identifier(current_app.config["OAIPRESS_REPOSITORY_IDENTIFIER"], local_id)
    return url_for("oai.endpoint", verb="GetRecord", metadataPrefix="oai_dc", identifier=identifier)


def _list_title(chosen: dict[str, str]) -> str:
    """``Warnings of rule quality.doi-form in set cac`` and the like."""
    head = {"error": "Errors", "warning": "Warnings", "info": "Information"}
    parts = [head.get(chosen.get("severity", ""), "Findings")]
    if "rule" in chosen:
        parts.append(f"of rule {chosen['rule']}")
    if "record" in chosen:
        parts.append(f"for {shown_id(chosen['record'])}")
    if "set" in chosen:
        parts.append(f"in set {chosen['set']}")
    return " ".join(parts)


@bp.route("/explore/checks")
def checks() -> Response:
    chosen = _filters()
    if isinstance(chosen, str):
        return _bad_request(chosen)
    after = _after()
    if isinstance(after, str):
        return _bad_request(after)
    try:
        with _store().read_connection() as connection:
            run = stored.last_run(connection)
            if not chosen:
                sets = sorted(run.by_set.items()) if run else []
                names = _set_names(connection, [spec for spec, _ in sets])
                body = render_template(
                    "checks.html",
                    run=run,
                    rules=_rule_rows(run) if run else [],
                    groups=GROUPS,
                    sets=[(spec, names.get(spec, spec), counts) for spec, counts in sets],
                    counted=counted,
                    day=_day,
                )
                return _page(body)
            where = stored.FindingFilter(
                rule=chosen.get("rule"),
                set_spec=chosen.get("set"),
                local_id=chosen.get("record"),
                severity=chosen.get("severity"),
            )
            rows = (
                stored.list_findings(connection, where, after=after, limit=PAGE_SIZE + 1)
                if run is not None
                else []
            )
    except DBAPIError:
        body = render_template("checks_bad.html", message="The database is unavailable.")
        response = _page(body, 503)
        response.headers["Retry-After"] = str(current_app.config["OAIPRESS_RETRY_AFTER"])
        return response
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_url = url_for("pages.checks", **chosen, after=rows[-1].id) if more else None
    body = render_template(
        "checks_list.html",
        run=run,
        title=_list_title(chosen),
        chosen=chosen,
        rule=BY_ID.get(chosen.get("rule", "")),
        rows=rows,
        raw_xml=_raw_xml,
        next_url=next_url,
        first_url=url_for("pages.checks", **chosen) if after is not None else None,
        day=_day,
    )
    return _page(body)
