"""Controlled terms shared by the crosswalks (info:eu-repo, COAR)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

EU_REPO_ACCESS = {
    "open": "info:eu-repo/semantics/openAccess",
    "embargoed": "info:eu-repo/semantics/embargoedAccess",
    "restricted": "info:eu-repo/semantics/restrictedAccess",
    "closed": "info:eu-repo/semantics/closedAccess",
}


def effective_access(rights: dict[str, Any], today: date | None = None) -> str:
    """An embargo that has ended counts as open access (record-format.md)."""
    access = str(rights["access"])
    until = rights.get("embargo_until")
    if access == "embargoed" and until:
        today = today or datetime.now(UTC).date()
        if date.fromisoformat(until) <= today:
            return "open"
    return access


def citation_label(record: dict[str, Any]) -> str | None:
    """OJS-style host citation: ``Journal; Vol. 5 No. 4 (2004); 61-70``."""
    journal = (record.get("journal") or {}).get("title")
    if not journal:
        return None
    issue_parts = []
    if record.get("volume"):
        issue_parts.append(f"Vol. {record['volume']}")
    if record.get("issue"):
        issue_parts.append(f"No. {record['issue']}")
    issue_parts.append(f"({record['published'][:4]})")
    parts = [journal, " ".join(issue_parts)]
    if record.get("pages"):
        parts.append(record["pages"])
    return "; ".join(parts)


def copyright_statement(rights: dict[str, Any]) -> str | None:
    """The statement verbatim; composed OJS-style only when just holder and year are known."""
    if rights.get("statement"):
        return str(rights["statement"])
    if rights.get("holder"):
        year = f"{rights['year']} " if rights.get("year") else ""
        return f"Copyright (c) {year}{rights['holder']}"
    return None
