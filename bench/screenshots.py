"""The pictures in docs/screenshots/: the pages of a real ``oaipress serve`` in Chromium.

    python3 bench/screenshots.py                 # writes docs/screenshots/*.png
    python3 bench/screenshots.py --out /tmp/shots

The demo data is the example article (what ``oaipress demo`` serves) plus three fuller
records (tests/formats_fixtures.py RICH and two variants: ORCIDs, a DOI, files, an
embargo, a Russian title) and named sets, imported with past datestamps into a throw-away
SQLite store. Every page is taken at a desktop (1280×900) and a phone (390×844) size with
the browser harness of the tests (tests/browser.py: system Chromium, no download), and
each PNG is then made a 256-colour palette PNG (bench/png_palette.py) to keep docs small.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.png_palette import shrink
from records.validate import format_datestamp
from tests.browser import VIEWPORTS, chromium, missing_browser, new_context
from tests.conftest import example_record
from tests.formats_fixtures import rich_record
from tests.servers import environment, oaipress_command, run, stop, wait_until_ready

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
REPOSITORY = "example.org"  # as ``oaipress demo`` (oai:example.org:article/587)
#: the port ``oaipress demo`` serves on, so the addresses on the pages read as in the README
DEMO_PORT = 8000
SETS = {
    "cac": ("Central Asia and the Caucasus", "The journal's articles, 2000–2021."),
    "cac:ART": ("Central Asia and the Caucasus: research articles", None),
    "reviews": ("Book reviews", None),
}
RICH_ID = "article/9001"


def oai_identifier(local_id: str) -> str:
    return f"oai:{REPOSITORY}:{local_id}"


#: name → (path, full page): each picture, in the order of docs/screenshots/README.md
SHOTS: dict[str, tuple[str, bool]] = {
    "home": ("/", False),
    "landing": ("/records/article/587", True),
    "landing-rich": (f"/records/{RICH_ID}", True),
    "explore-identify": ("/explore?verb=Identify", False),
    "explore-list-records": ("/explore?verb=ListRecords&metadataPrefix=oai_dc", False),
    "explore-get-record-datacite": (
        "/explore?verb=GetRecord&metadataPrefix=datacite&identifier="
        + quote(oai_identifier(RICH_ID), safe=""),
        False,
    ),
    "browse-set": ("/browse/sets/cac", False),
}


def corpus() -> list[dict[str, Any]]:
    """The example article, RICH (Russian, embargoed) and two English variants."""
    start = datetime(2024, 3, 1, 9, 0, 0)
    records = [
        example_record(),
        rich_record(sets=["cac:ART"]),
        rich_record(
            id="article/9002",
            title="Transboundary Rivers and Regional Security in Central Asia",
            language="en",
            abstract="The article compares three river basins shared by the states of the "
            "region and the agreements that govern them.",
            keywords=["water security", "transboundary rivers", "Central Asia"],
            doi="10.5555/cac.2022.0042",
            published="2022-06-30",
            rights={
                "license": "https://creativecommons.org/licenses/by-sa/4.0/",
                "statement": "Copyright (c) 2022 The authors",
                "access": "open",
            },
            sets=["cac:ART"],
        ),
        rich_record(
            id="review/12",
            title="Review of “Rivers of Central Asia” by A. Petrov",
            language="en",
            abstract="A review of Petrov's survey of the region's rivers.",
            keywords=[],
            doi=None,
            published="2020-11-02",
            references=[],
            rights={"statement": "Copyright (c) 2020 John Q. Smith", "access": "restricted"},
            sets=["reviews"],
        ),
    ]
    return [
        dict(record, datestamp=format_datestamp(start + timedelta(days=n)))
        for n, record in enumerate(records)
    ]


def _port() -> int:
    """8000 when it is free (as ``oaipress demo``), else any free loopback port."""
    for port in (DEMO_PORT, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free port")


@contextmanager
def demo_server(home: Path) -> Iterator[str]:
    """The demo data imported into a new SQLite store and served; yields the site's root."""
    env = environment(f"sqlite:///{home / 'demo.sqlite'}")
    env.update(
        OAIPRESS_REPOSITORY_IDENTIFIER=REPOSITORY,
        OAIPRESS_REPOSITORY_NAME="oaipress repository",
        OAIPRESS_LIST_RECORDS_PAGE_SIZE="3",
    )
    data = home / "demo.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in corpus()), encoding="utf-8")
    run(["import", "--keep-datestamps", str(data)], env, home)
    for spec, (name, description) in SETS.items():
        run(
            ["set", spec, name, *(["--description", description] if description else [])], env, home
        )
    port = _port()
    log = home / "serve.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            oaipress_command()
            + ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env,
            cwd=home,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        root = f"http://127.0.0.1:{port}"
        wait_until_ready(process, root + "/oai", log)
        yield root
    finally:
        stop(process)


def take(out: Path) -> list[Path]:
    """Every picture of SHOTS at both sizes, shrunk; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="oaipress-shots-") as home:
        with demo_server(Path(home)) as root, chromium() as browser:
            for viewport in VIEWPORTS:
                context = new_context(browser, viewport)
                page = context.new_page()
                for name, (path, full_page) in SHOTS.items():
                    response = page.goto(root + path)
                    if response is None or response.status != 200:
                        status = response.status if response else "no response"
                        raise RuntimeError(f"{path}: {status}")
                    page.evaluate("document.fonts.ready.then(() => true)")
                    png = page.screenshot(full_page=full_page, animations="disabled")
                    target = out / f"{viewport.name}-{name}.png"
                    target.write_bytes(shrink(png))
                    written.append(target)
                    print(f"{target.relative_to(out.parent)}: {target.stat().st_size // 1024} kB")
                context.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder (default {OUT})")
    arguments = parser.parse_args()
    reason = missing_browser()
    if reason:
        sys.exit(f"cannot take screenshots: {reason}")
    take(arguments.out)


if __name__ == "__main__":
    main()
