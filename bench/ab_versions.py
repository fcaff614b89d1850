"""Two versions of oaipress and the baseline, served from one store and harvested in turn.

A figure that moved between two runs of ``bench/run.py`` may be the code or the machine:
on a shared 2-core machine one harvester's records/s moves by ±25 % from one minute to
the next. This serves this checkout and ``--other`` (another checkout, e.g. made with
``git worktree add /tmp/before <rev>``) from the same store, with the baseline beside
them, and measures them round after round in alternating order: one full harvest each,
then ``--concurrency`` harvesters at once. Only ratios within a round mean much.

    git worktree add /tmp/before fe3ace5
    python bench/ab_versions.py --other /tmp/before --size 100000 --backend sqlite

The store is imported by this checkout (``--keep-datestamps``, ``oai_dc``): both versions
must read the same schema.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import client as oai
from bench.run import (
    BENCH,
    LOOPBACK,
    REPO,
    BenchError,
    Server,
    concurrent_harvest,
    empty_store_url,
    ensure_corpus,
    log,
    pg_admin,
    remove_sqlite,
    run_timed,
    start_server,
)


def _servers(args: argparse.Namespace, store_url: str, baseline_db: Path) -> dict[str, Server]:
    logs = args.out_dir / "logs"
    servers: dict[str, Server] = {}
    try:
        for name, checkout in (("other", args.other), ("this", REPO)):
            port = oai.free_port()
            url = f"http://{LOOPBACK}:{port}/oai"
            env = dict(
                os.environ,
                PYTHONPATH=str(checkout),
                OAIPRESS_DATABASE_URL=store_url,
                OAIPRESS_SECRET_KEY="bench",
                OAIPRESS_FORMATS="oai_dc",
                OAIPRESS_BASE_URL=url,
            )
            command = [sys.executable, "-m", "oai.cli", "serve", "--host", LOOPBACK]
            command += ["--port", str(port), "--workers", str(args.workers)]
            servers[name] = start_server(
                name, command, env, url, logs / f"ab-{name}.log", 120, cwd=checkout
            )
        port = oai.free_port()
        url = f"http://{LOOPBACK}:{port}/oai"
        app = f"bench.baseline:make_app({str(baseline_db)!r}, {url!r})"
        command = [sys.executable, "-m", "gunicorn", "-w", str(args.workers)]
        command += ["-b", f"{LOOPBACK}:{port}", "--chdir", str(REPO), app]
        servers["baseline"] = start_server(
            "baseline", command, dict(os.environ), url, logs / "ab-baseline.log", 120
        )
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    return servers


def _measure(args: argparse.Namespace, servers: dict[str, Server]) -> dict[str, dict]:
    tokens: dict[str, list[str]] = {}
    for name, server in servers.items():  # a first harvest: warms the caches, keeps tokens
        tokens[name] = []
        records, seconds, _ = oai.harvest(server.base_url, tokens=tokens[name], time_limit=900)
        log(f"{name}: first full harvest {records / seconds:,.0f} records/s")
    figures: dict[str, dict] = {name: {"one": [], "many": []} for name in servers}
    for round_ in range(1, args.rounds + 1):
        names = list(servers) if round_ % 2 else list(reversed(servers))
        for name in names:
            url = servers[name].base_url
            records, seconds, _ = oai.harvest(url, time_limit=900)
            figures[name]["one"].append(records / seconds)
            pages = len(tokens[name]) + 1
            records, seconds = concurrent_harvest(
                url, tokens[name], pages, args.concurrency, args.concurrent_pages, 900
            )
            figures[name]["many"].append(records / seconds)
            log(
                f"round {round_} {name}: {figures[name]['one'][-1]:,.0f} records/s alone, "
                f"{figures[name]['many'][-1]:,.0f} with {args.concurrency} (load "
                f"{os.getloadavg()[0]:.1f})"
            )
    return figures


def _report(args: argparse.Namespace, figures: dict[str, dict]) -> str:
    lines = [
        f"{args.size:,} records, {args.backend}, {args.workers} workers, "
        f"{args.concurrency} concurrent harvesters; other = {args.other}",
        "",
        "| harvest | round | other | this | baseline | other ÷ baseline | this ÷ baseline |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, label in (("one", "one harvester"), ("many", f"{args.concurrency} harvesters")):
        rows = zip(*(figures[name][kind] for name in ("other", "this", "baseline")), strict=True)
        for round_, (other, this, baseline) in enumerate(rows, 1):
            lines.append(
                f"| {label} | {round_} | {other:,.0f} | {this:,.0f} | {baseline:,.0f} | "
                f"{other / baseline:.2f} | {this / baseline:.2f} |"
            )
        medians = [statistics.median(figures[n][kind]) for n in ("other", "this", "baseline")]
        lines.append(
            f"| {label} | median | {medians[0]:,.0f} | {medians[1]:,.0f} | {medians[2]:,.0f} "
            f"| {medians[0] / medians[2]:.2f} | {medians[1] / medians[2]:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--other", type=Path, required=True, help="another oaipress checkout")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--concurrent-pages", type=int, default=300)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--out-dir", type=Path, default=BENCH / "out")
    parser.add_argument("--keep", action="store_true", help="keep the two stores afterwards")
    args = parser.parse_args(argv)
    if not (args.other / "oai" / "cli.py").is_file():
        parser.error(f"{args.other} is not an oaipress checkout (no oai/cli.py)")
    if args.rounds < 1 or args.concurrency < 1:
        parser.error("--rounds and --concurrency must be positive")
    (args.out_dir / "logs").mkdir(parents=True, exist_ok=True)
    store = f"oaipress_bench_ab_{args.size}"
    baseline_db = args.out_dir / f"baseline-ab-{args.size}.sqlite"
    try:
        store_url = empty_store_url(args.backend, store, args.out_dir, args.pg_admin_url)
        _run(args, store_url, baseline_db)
    except (BenchError, oai.HarvestError) as error:
        log(f"stopped: {error}")
        return 1
    finally:
        if not args.keep:  # a 100k store is hundreds of MB; two of them, per run
            remove_sqlite(baseline_db)
            if args.backend == "sqlite":
                remove_sqlite(args.out_dir / f"{store}.db")
            else:
                pg_admin(args.pg_admin_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)", store)
    return 0


def _run(args: argparse.Namespace, store_url: str, baseline_db: Path) -> None:
    corpus, _ = ensure_corpus(args.size, args.seed, args.out_dir)
    env = dict(os.environ, OAIPRESS_DATABASE_URL=store_url, OAIPRESS_FORMATS="oai_dc")
    env["OAIPRESS_SECRET_KEY"] = "bench"
    importing = [sys.executable, "-m", "oai.cli", "import", "--keep-datestamps", str(corpus)]
    seconds, _ = run_timed(importing, env, args.out_dir / "logs" / "ab-import.log", 7200)
    log(f"imported {args.size:,} records in {seconds:.0f} s")
    remove_sqlite(baseline_db)
    loading = [sys.executable, str(BENCH / "baseline.py"), "load", str(corpus), str(baseline_db)]
    run_timed(loading, dict(os.environ), args.out_dir / "logs" / "ab-baseline-load.log", 7200)

    servers = _servers(args, store_url, baseline_db)
    started = time.perf_counter()
    try:
        figures = _measure(args, servers)
    finally:
        for server in servers.values():
            server.stop()
    print(_report(args, figures))
    log(f"measured in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
