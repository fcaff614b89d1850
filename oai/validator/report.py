"""The report three ways: the terminal (grouped, coloured only on a tty), JSON and HTML.

The HTML page is self-contained (its CSS inline, no script, no external asset) and
rendered by an autoescaping Jinja2 template: evidence is whatever a server sent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from oai.validator.model import STATUSES
from oai.validator.runner import Report

TEMPLATES = Path(__file__).resolve().parent / "templates"
COLOURS = {"pass": "32", "fail": "31", "warn": "33", "skip": "2"}  # ANSI SGR codes
EXIT_MEANINGS = {0: "every check passed", 1: "warnings, no failure", 2: "failures"}


def _paint(text: str, status: str, colour: bool) -> str:
    return f"\x1b[{COLOURS[status]}m{text}\x1b[0m" if colour else text


def summary_line(report: Report) -> str:
    counts = report.counts
    parts = ", ".join(f"{counts[s]} {s}" for s in STATUSES)
    status = report.exit_status
    meaning = EXIT_MEANINGS[status]
    return f"Summary: {parts} — {report.requests} requests — exit {status} ({meaning})"


def terminal(report: Report, *, colour: bool = False) -> str:
    """Checks grouped by area; the evidence of failures and warnings under them."""
    lines = [
        f"OAI-PMH 2.0 validation of {report.base_url}",
        f"started {report.started}; budget {report.max_requests} requests, "
        f"delay {report.delay:g} s",
    ]
    for _, title, results in report.by_area():
        lines += ["", title]
        width = max(len(r.id) for r in results)
        for result in results:
            label = _paint(f"{result.status.upper():4}", result.status, colour)
            partial = " (partial)" if result.partial else ""
            lines.append(f"  {label}  {result.id:{width}}  {result.title} ({result.section})")
            if result.message:
                lines.append(f"        {result.message}{partial}")
            if result.status in ("fail", "warn"):
                for evidence in result.evidence[:2]:
                    lines.append(f"        GET {evidence.url}")
                    if evidence.excerpt:
                        lines.append(f"            {evidence.excerpt}")
    lines += ["", summary_line(report)]
    return "\n".join(lines) + "\n"


def as_json(report: Report) -> dict[str, Any]:
    return {
        "base_url": report.base_url,
        "started": report.started,
        "max_requests": report.max_requests,
        "delay": report.delay,
        "requests": report.requests,
        "summary": report.counts,
        "exit_status": report.exit_status,
        "results": [result.to_json() for result in report.results],
    }


def write_json(report: Report, path: Path) -> None:
    text = json.dumps(as_json(report), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def html(report: Report) -> str:
    environment = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = environment.get_template("report.html")
    return template.render(
        report=report,
        counts=report.counts,
        statuses=STATUSES,
        summary=summary_line(report),
    )


def write_html(report: Report, path: Path) -> None:
    path.write_text(html(report), encoding="utf-8")
