"""Run every check against one base URL and collect the report.

Probes run in module order, then the summaries. If Identify gets no HTTP answer at all
(refused, timeout, not http), nothing else is tried: the remaining checks are skipped
rather than spending the budget on a server that is not there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from oai.validator.checks import ALL
from oai.validator.context import Context
from oai.validator.http import Client
from oai.validator.model import AREAS, Result, exit_status, summary


@dataclass
class Report:
    base_url: str
    started: str
    max_requests: int
    delay: float
    requests: int = 0
    results: list[Result] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return summary(self.results)

    @property
    def exit_status(self) -> int:
        return exit_status(self.results)

    def by_area(self) -> list[tuple[str, str, list[Result]]]:
        return [
            (area, title, [r for r in self.results if r.area == area])
            for area, title in AREAS.items()
            if any(r.area == area for r in self.results)
        ]


def validate_endpoint(
    base_url: str,
    *,
    max_requests: int = 200,
    delay: float = 1.0,
    timeout: float = 30.0,
    sleep: Callable[[float], None] | None = None,
) -> Report:
    """Validate ``base_url``; raises ValueError only for a URL that is not http(s)."""
    client = Client(
        base_url,
        max_requests=max_requests,
        delay=delay,
        timeout=timeout,
        **({"sleep": sleep} if sleep else {}),
    )
    ctx = Context(client)
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    report = Report(base_url, started, max_requests, delay)
    order = {check.id: n for n, check in enumerate(ALL)}
    results: list[Result] = []
    for phase in ("probe", "summary"):
        for check in ALL:
            if check.phase != phase:
                continue
            if _unreachable(ctx):
                results.append(
                    Result(
                        check.id,
                        check.title,
                        check.section,
                        "skip",
                        "not run: the endpoint gave no HTTP answer",
                    )
                )
                continue
            results.append(check(ctx))
    results.sort(key=lambda r: (list(AREAS).index(r.area), order[r.id]))
    report.results = results
    report.requests = client.sent
    return report


def _unreachable(ctx: Context) -> bool:
    page = ctx.identify_page
    return page is not None and page.response.status == 0
