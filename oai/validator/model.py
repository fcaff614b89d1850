"""What a check produces: a result with its spec section, status and evidence."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["pass", "fail", "warn", "skip"]
STATUSES: tuple[Status, ...] = ("fail", "warn", "pass", "skip")
EXCERPT = 300  # characters of a response kept as evidence

#: the report's groups, in the order a harvester meets them
AREAS = {
    "identify": "Identify and the repository's description",
    "getrecord": "GetRecord and ListMetadataFormats for one item",
    "dates": "Dates and granularity",
    "errors": "Errors and exceptions",
    "lists": "Lists and resumption tokens",
    "schema": "XML and the official schemas",
    "politeness": "HTTP: content type, compression, Retry-After",
}


@dataclass(frozen=True)
class Evidence:
    """A request that shows the result, and a short excerpt of what came back."""

    url: str
    excerpt: str = ""


@dataclass
class Result:
    id: str  # "area.rule[.case]", stable: documented in docs/validate.md
    title: str
    section: str  # of the OAI-PMH 2.0 specification, e.g. "§3.5"
    status: Status
    message: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    #: the check ran out of budget before it saw everything it wanted: what it saw was fine
    partial: bool = False

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["area"] = self.area
        return data


def clip(text: str, limit: int = EXCERPT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plural(count: int, noun: str) -> str:
    """``1 header``, ``2 headers``: messages read as sentences."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def summary(results: list[Result]) -> dict[str, int]:
    counts = {status: 0 for status in STATUSES}
    for result in results:
        counts[result.status] += 1
    return counts


def exit_status(results: list[Result]) -> int:
    """0: everything passed (or was skipped); 1: warnings only; 2: at least one failure."""
    counts = summary(results)
    if counts["fail"]:
        return 2
    return 1 if counts["warn"] else 0
