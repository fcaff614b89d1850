"""The aggregator sets, computed from each record rather than declared by imports.

* ``driver`` — "Open Access DRIVERset": open-access records whose full text can be
  reached (a file URL); never embargoed, restricted or closed (DRIVER Guidelines 2.0).
* ``openaire`` — what OpenAIRE harvests through oai_dc: open access, or funded research
  (the import format carries no funding yet, so today: open access).

An import may not name them (records.validate refuses it); the writer adds them to the
record's header and set memberships whenever it writes the record, so they stay
current: a record whose embargo ends joins both under the datestamp that opens it
(``oaipress lift-embargoes``). A record that stops qualifying (closed, deleted) leaves
them under its new datestamp; OAI-PMH gives a set harvester no sign of that (README).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

#: spec → (setName, setDescription)
AGGREGATOR_SETS: dict[str, tuple[str, str]] = {
    "driver": (
        "Open Access DRIVERset",
        "Open-access articles whose full text is online; never embargoed, restricted or "
        "closed (DRIVER Guidelines 2.0).",
    ),
    "openaire": (
        "OpenAIRE",
        "Open-access articles, for OpenAIRE (OpenAIRE Guidelines for Literature "
        "Repositories, oai_dc profile).",
    ),
}


def today() -> date:
    """The date embargoes are judged by (UTC), in one place so tests can move it."""
    return datetime.now(UTC).date()


def is_open(rights: dict[str, Any], on: date | None = None) -> bool:
    """Open access on that day: declared open, or an embargo that has ended."""
    access = rights.get("access")
    if access == "open":
        return True
    until = rights.get("embargo_until")
    if access == "embargoed" and until:
        return date.fromisoformat(until) <= (on or today())
    return False


def computed_sets(record: dict[str, Any], on: date | None = None) -> list[str]:
    """The aggregator sets a live record belongs to (today, unless ``on``)."""
    if record.get("deleted") or not is_open(record["rights"], on):
        return []
    return ["driver", "openaire"] if record.get("files") else ["openaire"]


def header_sets(record: dict[str, Any], on: date | None = None) -> list[str]:
    """Every set the record's header names: its own, then the computed ones."""
    own = list(record["sets"])
    return own + [spec for spec in computed_sets(record, on) if spec not in own]
