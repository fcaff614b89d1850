"""A harvest of a store whose records all carry one datestamp: what a first import makes.

``bench/run.py`` imports with ``--keep-datestamps``, so its records spread over twenty
years and a page boundary rarely falls inside a second. A repository's first import
stamps every record with the moment it commits: then every page of a list lies inside
one second, and a list that seeks its index on the datestamp alone walks, for each page,
every row before it. This prints, in-process (no HTTP, so only the app and the database
count), the first page, pages at 50 % and 90 %, and a full ListRecords harvest.

    python bench/one_datestamp.py --database sqlite:////tmp/store.sqlite
    python bench/one_datestamp.py --size 100000 --backend sqlite   # imports a corpus first

To compare two versions of the code, run it twice on the same store, once with
``PYTHONPATH`` pointing at the other checkout.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import BENCH, empty_store_url, ensure_corpus, log, oaipress_command

TOKEN = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")


def _import(args: argparse.Namespace) -> str:
    corpus, _ = ensure_corpus(args.size, args.seed, BENCH / "out")
    name = f"oaipress_bench_one_{args.size}"
    url = empty_store_url(args.backend, name, BENCH / "out", args.pg_admin_url)
    env = dict(os.environ, OAIPRESS_DATABASE_URL=url, OAIPRESS_FORMATS="oai_dc")
    started = time.perf_counter()
    subprocess.run([*oaipress_command("auto"), "import", str(corpus)], env=env, check=True)
    log(f"imported {args.size} records (one datestamp) in {time.perf_counter() - started:.1f} s")
    return url


def _timed(client, url: str, repeats: int) -> tuple[float, bytes]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        body = client.get(url).get_data()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="an imported store's URL (else --size is imported)")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--repeats", type=int, default=15, help="timings per page (median)")
    args = parser.parse_args(argv)
    url = args.database or _import(args)
    os.environ.update(
        OAIPRESS_DATABASE_URL=url,
        OAIPRESS_FORMATS="oai_dc",
        OAIPRESS_REPOSITORY_IDENTIFIER=os.environ.get("OAIPRESS_REPOSITORY_IDENTIFIER", "x.org"),
        OAIPRESS_SECRET_KEY=os.environ.get("OAIPRESS_SECRET_KEY", "bench"),
    )
    from sqlalchemy.exc import SQLAlchemyError

    from oai import create_app
    from oai.config import ConfigError

    try:
        client = create_app().test_client()
    except (ConfigError, SQLAlchemyError) as error:
        parser.error(f"cannot open the store {url}: {getattr(error, 'orig', None) or error}")
    first_url = "/oai?verb=ListRecords&metadataPrefix=oai_dc"
    # A write enters the lists a second or two after its commit (the README's
    # "Incremental harvesting and long writes"): wait for a fresh import to show.
    deadline = time.monotonic() + 10
    while b"<record>" not in client.get(first_url).get_data() and time.monotonic() < deadline:
        time.sleep(0.5)
    tokens: list[str] = []
    records = 0
    started = time.perf_counter()
    page_url = first_url
    while True:
        body = client.get(page_url).get_data()
        records += body.count(b"<record>")
        found = TOKEN.search(body)
        if found is None:
            break
        tokens.append(found.group(1).decode("ascii"))
        page_url = f"/oai?verb=ListRecords&resumptionToken={tokens[-1]}"
    seconds = time.perf_counter() - started
    if len(tokens) < 2:
        parser.error(f"{url} lists {records} records in {len(tokens) + 1} page(s): too few")
    first, _ = _timed(client, first_url, args.repeats)
    figures = {"first page": first}
    for share in (0.5, 0.9):
        token = tokens[int(len(tokens) * share)]
        figures[f"page {share:.0%} in"], _ = _timed(
            client, f"/oai?verb=ListRecords&resumptionToken={token}", args.repeats
        )
    print(f"store: {url}; {records} records in {len(tokens) + 1} pages")
    print(f"full harvest: {seconds:.1f} s, {records / seconds:,.0f} records/s (in-process)")
    for name, ms in figures.items():
        print(f"{name}: {ms:.2f} ms (median of {args.repeats})")
    print(f"page 90% in ÷ first page: {figures['page 90% in'] / first:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
