"""A real browser for the page tests: the system Chromium driven by Playwright, axe-core's
accessibility check, and screenshots at a desktop and a phone size.

Why the system Chromium: nothing may be downloaded here (``playwright install`` fetches a
browser build), and Debian's ``chromium`` package is what CI installs (``.ci/run``).
When it or Playwright is missing the browser tests are skipped with the reason, except
under CI (``CI=true``), where a missing browser must fail the run rather than pass it
silently.

axe-core comes bundled in ``axe_playwright_python`` (its ``axe.min.js``) and is injected
into the page, so the check works offline. It runs axe's standard rules (WCAG 2.0 and 2.1
A and AA, and best practices): a violation of impact "serious" or "critical" fails, the
others are collected and reported (:class:`AxeReport`). WCAG 2.2's target size (2.5.8),
which axe leaves off by default, runs too but is only reported (``ADVISORY_RULES``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = Path(os.environ.get("OAIPRESS_CHROMIUM", "/usr/bin/chromium"))
#: where screenshots go when set (the lead collects them); else the test's tmp_path
SCREENSHOTS_ENV = "OAIPRESS_SCREENSHOTS"
#: impacts that fail the check; "moderate" and "minor" are reported only
FAILING_IMPACTS = frozenset({"serious", "critical"})
#: rules outside axe's default set that run and are reported, never failing a page
ADVISORY_RULES = frozenset({"target-size"})
#: the closed network refuses Chromium's background connections: don't make them
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--font-render-hinting=none",
]


@dataclass(frozen=True)
class Viewport:
    name: str
    width: int
    height: int
    mobile: bool = False


DESKTOP = Viewport("desktop", 1280, 900)
PHONE = Viewport("phone", 390, 844, mobile=True)
VIEWPORTS = (DESKTOP, PHONE)


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    try:
        import axe_playwright_python  # noqa: F401
    except ImportError:
        return "axe-playwright-python is not installed (pip install -e '.[test]')"
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        found = shutil.which("chromium")
        where = f" (there is one at {found}: set OAIPRESS_CHROMIUM)" if found else ""
        return f"no Chromium at {CHROMIUM}{where}: apt-get install chromium"
    return None


def require_browser() -> None:
    """Skip the calling test when there is no browser; fail instead under CI."""
    reason = missing_browser()
    if reason is None:
        return
    if under_ci():
        pytest.fail(f"the browser tests cannot run under CI: {reason}")
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless system Chromium for the block (``--no-sandbox`` as root, which has none)."""
    from playwright.sync_api import sync_playwright

    args = list(CHROMIUM_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=args
        )
        try:
            yield browser
        finally:
            browser.close()


def new_context(browser: Browser, viewport: Viewport, **options: Any) -> BrowserContext:
    """A fresh profile at this size; downloads allowed (the citation files)."""
    return browser.new_context(
        viewport={"width": viewport.width, "height": viewport.height},
        device_scale_factor=1,
        is_mobile=viewport.mobile,
        has_touch=viewport.mobile,
        accept_downloads=True,
        locale="en-GB",
        **options,
    )


# --- accessibility --------------------------------------------------------------------------


@dataclass(frozen=True)
class AxeFinding:
    """One axe-core rule a page breaks, with the elements that break it."""

    page: str
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    @property
    def failing(self) -> bool:
        return self.impact in FAILING_IMPACTS and self.rule not in ADVISORY_RULES

    def line(self) -> str:
        shown = ", ".join(self.targets[:5]) + (" …" if len(self.targets) > 5 else "")
        note = ", advisory" if self.rule in ADVISORY_RULES else ""
        return f"{self.page}: {self.rule} ({self.impact}{note}) {self.help} — {shown}"


@dataclass
class AxeReport:
    """Every finding of a run; :meth:`check` fails a page on a serious or critical one."""

    findings: list[AxeFinding] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)

    def check(self, page: Page, name: str) -> list[AxeFinding]:
        """Run axe-core on the page as it is now; fail on serious/critical, keep the rest."""
        found = axe_findings(page, name)
        self.pages.append(name)
        self.findings.extend(found)
        failing = [f for f in found if f.failing]
        assert not failing, "axe-core finds serious accessibility problems:\n" + "\n".join(
            f.line() for f in failing
        )
        return found

    def text(self) -> str:
        lines = [f"axe-core on {len(self.pages)} pages: {', '.join(self.pages)}"]
        if not self.findings:
            lines.append("no violations")
        lines.extend(f.line() for f in self.findings)
        return "\n".join(lines) + "\n"


def axe_findings(page: Page, name: str) -> list[AxeFinding]:
    """axe-core's violations on the rendered page: its default rules and the advisory ones."""
    from axe_playwright_python.sync_playwright import Axe

    options = {
        "resultTypes": ["violations"],
        "rules": {rule: {"enabled": True} for rule in sorted(ADVISORY_RULES)},
    }
    results = Axe().run(page, options=options)
    return [
        AxeFinding(
            page=name,
            rule=violation["id"],
            impact=violation.get("impact") or "minor",
            help=violation.get("help", ""),
            targets=tuple(
                " ".join(str(t) for t in node.get("target", [])) for node in violation["nodes"]
            ),
        )
        for violation in results.response["violations"]
    ]


# --- screenshots ----------------------------------------------------------------------------


def screenshot_dir(default: Path) -> Path:
    """``$OAIPRESS_SCREENSHOTS`` when set, else ``default``; created."""
    chosen = os.environ.get(SCREENSHOTS_ENV)
    directory = Path(chosen) if chosen else default
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def screenshot(page: Page, directory: Path, name: str, *, full_page: bool = False) -> Path:
    """The page as a PNG named ``<name>.png``; waits for fonts and images to be drawn."""
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready.then(() => true)")
    path = directory / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path
