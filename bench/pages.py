"""Pages benchmark: a landing page's latency beside GetRecord's, on one store.

Issue 8 asks that a landing page cost one query plus rendering; this prints the p50/p99
of ``/records/<id>`` (HTML, as a browser or crawler asks for it), of a citation download,
and of ``GetRecord`` for the same identifiers, from one running ``oaipress serve``, and
the ratios landing ÷ GetRecord. It also times the sitemap index and one sitemap child.

    python bench/pages.py --size 100000 --backend sqlite --requests 1000

The corpus and the import are the harvest benchmark's (bench/run.py): a cached corpus
is reused; ``--database URL`` reuses an imported store instead of importing again.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import quote

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import client as oai
from bench import generate
from bench.run import (
    BENCH,
    empty_store_url,
    ensure_corpus,
    log,
    oaipress_command,
    run_bounded,
    start_server,
)


def timed_paths(base: str, paths: list[str]) -> list[float]:
    """Latency of a GET of each path, on one kept-alive connection.

    The corpus holds tombstones: their pages answer 410, which is a right answer too.
    """
    latencies = []
    with oai.Client(base + "/oai") as connection:
        for path in paths:
            started = time.perf_counter()
            status, _, body = connection._roundtrip(path)
            latencies.append(time.perf_counter() - started)
            if status not in (200, 410):
                raise oai.HarvestError(f"HTTP {status} for {path}: {body[:200]!r}")
    return latencies


def summary(name: str, latencies: list[float]) -> tuple[str, float, float]:
    return name, 1000 * oai.percentile(latencies, 50), 1000 * oai.percentile(latencies, 99)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--database", help="an imported store to reuse (no import)")
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--oaipress-cmd", default="auto")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--out-dir", default=str(BENCH / "out"))
    args = parser.parse_args(argv)
    out = Path(args.out_dir)
    (out / "logs").mkdir(parents=True, exist_ok=True)
    command = oaipress_command(args.oaipress_cmd)
    env = {**os.environ, "OAIPRESS_REPOSITORY_IDENTIFIER": "example.org"}

    url = args.database
    if url is None:
        corpus, _ = ensure_corpus(args.size, args.seed, out)
        name = (
            f"pages-{args.size}"
            if args.backend == "sqlite"
            else f"oaipress_bench_pages_{args.size}"
        )
        url = empty_store_url(args.backend, name, out, args.pg_admin_url)
        env["OAIPRESS_DATABASE_URL"] = url
        log(f"importing {corpus.name} into {url} ...")
        seconds = run_bounded(
            [*command, "import", str(corpus)], env, out / "logs" / "pages-import.log", 7200
        )
        log(f"imported in {seconds:.0f} s")
    env["OAIPRESS_DATABASE_URL"] = url
    port = oai.free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(
        "oaipress",
        [
            *command,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        env,
        f"{base}/oai",
        out / "logs" / "pages-server.log",
        120,
    )
    try:
        rng = random.Random(args.seed)
        numbers = rng.sample(range(1, args.size + 1), min(args.size, args.requests))
        local_ids = [f"article/{i}" for i in numbers]
        rows = []
        # warm both paths alike (templates, styles, connections) before timing
        timed_paths(base, [f"/records/{quote(i)}" for i in local_ids[:20]])
        oai.get_records(f"{base}/oai", [f"oai:example.org:{i}" for i in local_ids[:20]])
        get_l = oai.get_records(f"{base}/oai", [f"oai:example.org:{i}" for i in local_ids])
        rows.append(summary("GetRecord oai_dc", get_l))
        landing_l = timed_paths(base, [f"/records/{quote(i)}" for i in local_ids])
        rows.append(summary("landing page /records/<id>", landing_l))
        styled = timed_paths(base, [f"/records/{quote(i)}?style=ieee" for i in local_ids])
        rows.append(summary("landing page, IEEE style", styled))
        bib_l = timed_paths(base, [f"/cite/bib/{quote(i)}" for i in local_ids])
        rows.append(summary("BibTeX download", bib_l))
        index_l = timed_paths(base, ["/sitemap.xml"] * 5)
        rows.append(summary("sitemap index", index_l))
        child_l = timed_paths(base, ["/sitemap-0.xml"] * 3)
        rows.append(summary("sitemap child 0 (≤ 50,000 URLs)", child_l))
    finally:
        server.stop()
    load = os.getloadavg()
    print(
        f"\npages benchmark: {args.size:,} records, {args.backend}, {args.requests} ids,"
        f" {args.workers} workers; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print(f"{'request':<36} {'p50 ms':>8} {'p99 ms':>8}")
    for name, p50, p99 in rows:
        print(f"{name:<36} {p50:>8.2f} {p99:>8.2f}")
    get_p50, get_p99 = rows[0][1], rows[0][2]
    print(f"landing ÷ GetRecord: p50 {rows[1][1] / get_p50:.2f}×, p99 {rows[1][2] / get_p99:.2f}×")
    print(f"server peak RSS {server.sampler.peak_sum_rss_kb / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
