"""Slow, idle and half-finished clients against candidate server setups (issue #10).

For each ``--server`` setup, on a loopback port and one small generated store:

1. latency (p50/p99) of normal requests — Identify, GetRecord, a ListRecords page — from
   one client, unloaded;
2. the same while ``--hostile`` connections are held open by another process, a quarter
   of each kind: a request line sent one byte a second, full headers promising a body
   that never comes, idle after one keep-alive request, half a request line then
   silence. A connection the server closes is opened again, so the load stays;
3. how many hostile connections the server closed, and after how long (per kind);
4. harvest throughput: records/s of full ListRecords harvests (oai_dc), unloaded,
   repeated for ``--harvest-seconds``: the median and the best, and the workers' CPU
   time per 10,000 records (Linux /proc), which other load on the machine barely moves.

    python bench/slow_clients.py --server front,sync,gthread --records 2000

Setups (``name`` or ``name:threads``): ``front`` is ``oaipress serve`` (oai.serving's
worker); ``sync`` is gunicorn's sync worker as ``oaipress serve`` ran it before
(``wsgi:app``, timeout 120 s); ``gthread`` is gunicorn's threaded worker. The report
goes to the terminal and, as JSON, to ``bench/out/slow-clients-<time>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `python bench/slow_clients.py` puts bench/ first
    sys.path.insert(0, str(REPO))

from bench import client as oai  # noqa: E402
from bench import generate  # noqa: E402
from tests.servers import oaipress_command  # noqa: E402

LOOPBACK = "127.0.0.1"
KINDS = ("trickle", "no-body", "idle-keepalive", "half-line")
REQUEST_TIMEOUT = 10.0  # seconds: a normal request slower than this counts as failed


def server_command(setup: str, port: int, workers: int, threads: int) -> list[str]:
    """``setup`` is front, sync or gthread, optionally with its threads: ``front:1``."""
    setup, _, own_threads = setup.partition(":")
    threads = int(own_threads) if own_threads else threads
    if setup == "front":
        return oaipress_command() + [
            "serve",
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
        ]
    gunicorn = [sys.executable, "-m", "gunicorn", "--chdir", str(REPO), "--timeout", "120"]
    gunicorn += ["-w", str(workers), "-b", f"{LOOPBACK}:{port}", "--forwarded-allow-ips", ""]
    if setup == "sync":
        return gunicorn + ["-k", "sync", "wsgi:app"]
    if setup == "gthread":
        return gunicorn + ["-k", "gthread", "--threads", str(threads), "wsgi:app"]
    raise SystemExit(f"unknown --server {setup!r} (front, sync, gthread)")


# --------------------------------------------------------------------------- hostile clients


def _requests(port: int) -> dict[str, bytes]:
    host = f"Host: {LOOPBACK}:{port}\r\n".encode()
    return {
        "trickle": b"GET /oai?verb=Identify HTTP/1.1\r\n" + host + b"\r\n",
        "no-body": b"POST /oai HTTP/1.1\r\n"
        + host
        + b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n",
        "idle-keepalive": b"GET /oai?verb=Identify HTTP/1.1\r\n" + host + b"\r\n",
        "half-line": b"GET /oai?verb=Identify HTTP/1.1\r\nHost: x\r\n",
    }


async def _hostile(port: int, count: int, seconds: float, ready: Any, out: Any) -> None:
    payloads = _requests(port)
    lifetimes: dict[str, list[float]] = {kind: [] for kind in KINDS}
    open_since: dict[int, tuple[str, float]] = {}
    errors = 0
    stopping = asyncio.Event()

    async def act(kind: str, writer: asyncio.StreamWriter) -> None:
        payload = payloads[kind]
        if kind == "trickle":
            for byte in payload:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(1.0)
        else:
            writer.write(payload)
            await writer.drain()
        await stopping.wait()

    async def keep(kind: str, slot: int) -> None:
        nonlocal errors
        while not stopping.is_set():
            try:
                reader, writer = await asyncio.open_connection(LOOPBACK, port)
            except OSError:
                errors += 1
                await asyncio.sleep(0.5)
                continue
            opened = time.monotonic()
            open_since[slot] = (kind, opened)
            acting = asyncio.create_task(act(kind, writer))
            try:
                while await reader.read(65536):
                    pass
            except OSError:
                pass
            finally:
                acting.cancel()
                writer.close()
            open_since.pop(slot, None)
            if not stopping.is_set():
                lifetimes[kind].append(time.monotonic() - opened)
                await asyncio.sleep(1.0)  # the load is connections held, not a flood

    tasks = []
    for slot in range(count):
        tasks.append(asyncio.create_task(keep(KINDS[slot % len(KINDS)], slot)))
        if slot % 50 == 49:
            await asyncio.sleep(0.05)
    while len(open_since) < count * 0.95:
        await asyncio.sleep(0.1)
    ready.set()
    await asyncio.sleep(seconds)
    now = time.monotonic()
    still_open = {kind: [] for kind in KINDS}
    for kind, opened in open_since.values():
        still_open[kind].append(now - opened)
    stopping.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    out.put({"closed": lifetimes, "still_open": still_open, "connect_errors": errors})


def _hostile_process(port: int, count: int, seconds: float, ready: Any, out: Any) -> None:
    raise_fd_limit(count + 256)
    asyncio.run(_hostile(port, count, seconds, ready, out))


def raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


# --------------------------------------------------------------------------- normal clients


@dataclass
class Latencies:
    seconds: list[float] = field(default_factory=list)
    failed: int = 0

    def summary(self) -> dict[str, Any]:
        if not self.seconds:
            return {"answered": 0, "failed": self.failed}
        return {
            "answered": len(self.seconds),
            "failed": self.failed,
            "p50_ms": round(oai.percentile(self.seconds, 50) * 1000, 1),
            "p99_ms": round(oai.percentile(self.seconds, 99) * 1000, 1),
        }


def normal_requests(base_url: str, identifiers: list[str], count: int, budget: float) -> Latencies:
    """``count`` requests in turn (Identify, GetRecord, a ListRecords page), within ``budget``."""
    rng = random.Random(7)
    result = Latencies()
    started = time.monotonic()
    client = oai.Client(base_url, timeout=REQUEST_TIMEOUT, retries_503=0)
    try:
        for i in range(count):
            if time.monotonic() - started > budget:
                break
            params = [
                {"verb": "Identify"},
                {
                    "verb": "GetRecord",
                    "metadataPrefix": "oai_dc",
                    "identifier": rng.choice(identifiers),
                },
                {"verb": "ListRecords", "metadataPrefix": "oai_dc"},
            ][i % 3]
            begun = time.perf_counter()
            try:
                client.get(params)
                result.seconds.append(time.perf_counter() - begun)
            except (OSError, oai.HarvestError, http.client.HTTPException):
                result.failed += 1
                client.close()
    finally:
        client.close()
    return result


# --------------------------------------------------------------------------- one setup


def measure(setup: str, args: argparse.Namespace, env: dict[str, str], home: Path) -> dict:
    port = oai.free_port()
    base_url = f"http://{LOOPBACK}:{port}/oai"
    log_path = home / f"{setup}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            server_command(setup, port, args.workers, args.threads),
            env=env,
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    report: dict[str, Any] = {"server": setup}
    try:
        oai.wait_until_up(base_url, 120, alive=lambda: process.poll() is None)
        identifiers = [
            f"oai:{args.repository}:article/{i}"
            for i in random.Random(1).sample(range(1, args.records + 1), 50)
        ]
        normal_requests(base_url, identifiers, 30, 60)  # warm up
        report["unloaded"] = normal_requests(base_url, identifiers, args.requests, 120).summary()
        print(f"  {setup}: unloaded {report['unloaded']}", flush=True)

        context = multiprocessing.get_context("fork")
        ready, out = context.Event(), context.Queue()
        hostile = context.Process(
            target=_hostile_process,
            args=(port, args.hostile, args.hostile_seconds, ready, out),
        )
        hostile.start()
        if not ready.wait(120):
            report["error"] = "hostile connections could not be opened"
        started = time.monotonic()
        loaded = normal_requests(base_url, identifiers, args.requests, args.hostile_seconds - 2)
        report["loaded"] = loaded.summary()
        report["loaded_seconds"] = round(time.monotonic() - started, 1)
        print(f"  {setup}: with {args.hostile} hostile {report['loaded']}", flush=True)
        hostile_report = out.get(timeout=args.hostile_seconds + 180)
        hostile.join(30)
        report["hostile"] = _hostile_summary(hostile_report)
        print(f"  {setup}: hostile {report['hostile']}", flush=True)
        time.sleep(2)
        rates = []
        harvest_started = time.monotonic()
        cpu_before = workers_cpu(process.pid)
        while not rates or time.monotonic() - harvest_started < args.harvest_seconds:
            records, seconds, _ = oai.harvest(base_url, "oai_dc", timeout=120)
            rates.append(records / seconds)
        cpu = workers_cpu(process.pid) - cpu_before
        report["harvest"] = {
            "records": records,
            "harvests": len(rates),
            "records_per_s_median": round(sorted(rates)[len(rates) // 2]),
            "records_per_s_best": round(max(rates)),
            "worker_cpu_s_per_10k_records": round(cpu / (records * len(rates)) * 10_000, 3),
        }
        print(f"  {setup}: harvest {report['harvest']}", flush=True)
    except Exception as exc:  # noqa: BLE001 - reported, the next setup still runs
        report["error"] = f"{type(exc).__name__}: {exc}"
        print(f"  {setup}: FAILED {report['error']}", flush=True)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(30)
    return report


def workers_cpu(master: int) -> float:
    """CPU seconds (user + system) used so far by the children of ``master`` (the
    workers), from /proc: unlike wall time, barely moved by other load on the machine."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _hostile_summary(raw: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {"connect_errors": raw["connect_errors"]}
    for kind in KINDS:
        closed = sorted(raw["closed"][kind])
        still = sorted(raw["still_open"][kind])
        summary[kind] = {
            "closed_by_server": len(closed),
            "closed_after_s_median": round(closed[len(closed) // 2], 1) if closed else None,
            "closed_after_s_max": round(closed[-1], 1) if closed else None,
            "open_at_end": len(still),
            "oldest_open_s": round(still[-1], 1) if still else None,
        }
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--server", default="front,sync,gthread", help="setups, comma-separated")
    parser.add_argument("--records", type=int, default=2000, help="records in the store")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="for front and gthread")
    parser.add_argument("--hostile", type=int, default=500, help="hostile connections")
    parser.add_argument(
        "--hostile-seconds", type=float, default=40.0, help="how long they are held"
    )
    parser.add_argument(
        "--harvest-seconds", type=float, default=10.0, help="repeat full harvests this long"
    )
    parser.add_argument("--requests", type=int, default=300, help="normal requests per phase")
    parser.add_argument("--out-dir", default=str(REPO / "bench" / "out"))
    args = parser.parse_args(argv)
    args.repository = "bench.example.org"
    raise_fd_limit(args.hostile + 1024)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="oaipress-slow-") as tmp:
        home = Path(tmp)
        corpus = home / "corpus.jsonl"
        generate.generate(args.records, str(corpus))
        env = {k: v for k, v in os.environ.items() if not k.startswith("OAIPRESS_")}
        env.update(
            OAIPRESS_DATABASE_URL=f"sqlite:///{home / 'store.sqlite'}",
            OAIPRESS_SECRET_KEY="bench-secret",
            OAIPRESS_REPOSITORY_IDENTIFIER=args.repository,
        )
        subprocess.run(
            oaipress_command() + ["import", "--keep-datestamps", str(corpus)],
            env=env,
            cwd=home,
            check=True,
            capture_output=True,
            timeout=1800,
        )
        load = os.getloadavg()
        print(f"{args.records} records; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
        reports = []
        for setup in args.server.split(","):
            print(f"{setup} ...", flush=True)
            reports.append(measure(setup.strip(), args, env, home))
    result = {
        "arguments": {k: v for k, v in vars(args).items() if k != "out_dir"},
        "load_before": load,
        "load_after": os.getloadavg(),
        "cpus": os.cpu_count(),
        "reports": reports,
    }
    path = out_dir / f"slow-clients-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
