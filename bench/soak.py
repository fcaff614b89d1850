"""Soak: harvesters and writers together for minutes; every harvester's copy must be exact.

``python bench/soak.py --records 100000 --minutes 5 --backend sqlite|postgresql``

1. builds a store from the synthetic corpus (``bench/generate.py``, ``oaipress import``);
2. serves it with ``oaipress serve`` (2 workers, loopback);
3. runs 8 harvester processes. Each keeps a local copy, identifier → (datestamp,
   deleted?, digest of the metadata), made by a full ListRecords harvest, then loops
   incremental harvests ``from`` the first responseDate of its previous harvest (the
   harvester guidelines), with a full re-harvest now and then;
4. meanwhile a writer imports new records, re-imports existing ones with changed titles
   and deletes some (tombstone lines and ``oaipress delete``), each a real ``oaipress``
   process, for ``--minutes``;
5. then stops the writer, waits until the newest datestamp is listable (writes show in
   lists 1-3 s after their commit, records/stamping.py), lets every harvester run one
   last incremental harvest, and compares each copy with the store read directly
   (identifiers, datestamps, deletions) and with a fresh full harvest (metadata digests).

Records lost, duplicated (one identifier twice in one list walk), stale (older datestamp
or other metadata than the store's), phantom (not in the store) and regressions (an
incremental harvest giving an older datestamp than one already held) must all be 0: the
exit status is 1 otherwise. The figures (requests, records harvested, writes, page
latency p50/p99, server RSS) go to the terminal and to ``bench/out/soak-*.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:  # `python bench/soak.py` puts bench/, not the repo, first
    sys.path.insert(0, str(REPO))

from lxml import etree  # noqa: E402

from bench import client as oai  # noqa: E402
from bench import generate  # noqa: E402
from bench.run import proc_status, process_tree  # noqa: E402
from tests.servers import oaipress_command  # noqa: E402

NS = {"oai": "http://www.openarchives.org/OAI/2.0/"}
REPOSITORY = "soak.example.org"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/oaipress_h_secsoak"
STAMP = "%Y-%m-%dT%H:%M:%SZ"
FINAL_WITHIN = 600.0  # seconds: bound on the end phase of one harvester
RESPONSE_DATE_RE = re.compile(rb"<responseDate>([^<]+)</responseDate>")

Entry = tuple[str, bool, str]  # datestamp, deleted, digest of <metadata> ("" if deleted)


def log(message: str) -> None:
    print(f"{datetime.now(UTC):%H:%M:%S} {message}", file=sys.stderr, flush=True)


# -- the harvesters -----------------------------------------------------------------------


@dataclass
class HarvesterStats:
    requests: int = 0
    records: int = 0
    full_harvests: int = 0
    incremental_harvests: int = 0
    duplicated: int = 0
    regressions: int = 0
    retried_503: int = 0
    latencies: list[float] = field(default_factory=list)


def parse_page(body: bytes) -> tuple[str, list[tuple[str, Entry]], str | None, str | None]:
    """responseDate, the records, the resumptionToken (None at the end) and any error."""
    root = etree.fromstring(body)
    response_date = root.findtext("oai:responseDate", namespaces=NS) or ""
    error = root.find("oai:error", NS)
    if error is not None:
        return response_date, [], None, error.get("code")
    items: list[tuple[str, Entry]] = []
    for record in root.iterfind("oai:ListRecords/oai:record", NS):
        header = record.find("oai:header", NS)
        assert header is not None
        deleted = header.get("status") == "deleted"
        metadata = record.find("oai:metadata", NS)
        digest = ""
        if metadata is not None and len(metadata):
            digest = hashlib.sha1(etree.tostring(metadata[0], method="c14n")).hexdigest()
        items.append(
            (
                header.findtext("oai:identifier", namespaces=NS) or "",
                (header.findtext("oai:datestamp", namespaces=NS) or "", deleted, digest),
            )
        )
    token = root.findtext("oai:ListRecords/oai:resumptionToken", namespaces=NS)
    return response_date, items, token or None, None


def list_walk(
    client: oai.Client, stats: HarvesterStats, params: dict[str, str]
) -> tuple[str, list[tuple[str, Entry]]]:
    """One ListRecords list to its end: the first responseDate and every record, in order.

    Counts an identifier seen twice in the walk as duplicated (the copy keeps the last).
    """
    query = {"verb": "ListRecords", "metadataPrefix": "oai_dc", **params}
    first_date = ""
    seen: set[str] = set()
    items: list[tuple[str, Entry]] = []
    for _ in range(oai.MAX_PAGES):
        body, latency = client.get(query)
        stats.requests += 1
        stats.latencies.append(latency)
        response_date, page, token, error = parse_page(body)
        first_date = first_date or response_date
        if error == "noRecordsMatch":
            break
        if error is not None:
            raise oai.HarvestError(f"OAI-PMH error {error} for {query}")
        for identifier, entry in page:
            if identifier in seen:
                stats.duplicated += 1
            seen.add(identifier)
            items.append((identifier, entry))
        stats.records += len(page)
        if token is None:
            break
        query = {"verb": "ListRecords", "resumptionToken": token}
    return first_date, items


def harvester(
    number: int, base_url: str, deadline: float, go_file: str, seed: int, queue: Any
) -> None:
    """A careful harvester (a process): full harvest, then incremental ones until the end."""
    rng = random.Random(seed * 1000 + number)
    stats = HarvesterStats()
    copy: dict[str, Entry] = {}
    with oai.Client(base_url, timeout=300.0, retries_503=20) as client:
        try:

            def full() -> str:
                nonlocal copy
                date, items = list_walk(client, stats, {})
                copy = dict(items)  # the full list replaces the copy; `from=date` follows
                stats.full_harvests += 1
                return date

            def incremental(since: str) -> str:
                date, items = list_walk(client, stats, {"from": since})
                for identifier, entry in items:
                    held = copy.get(identifier)
                    if held is not None and entry[0] < held[0]:
                        stats.regressions += 1
                    copy[identifier] = entry
                stats.incremental_harvests += 1
                return date

            since = full()
            while time.time() < deadline:
                time.sleep(rng.uniform(0.5, 3.0))
                if rng.random() < 0.1:
                    since = full()
                else:
                    since = incremental(since)
            give_up = time.monotonic() + FINAL_WITHIN
            while not os.path.exists(go_file):
                if time.monotonic() > give_up:
                    raise oai.HarvestError("the end of the writes never came")
                time.sleep(0.2)
            since = incremental(since)
            stats.retried_503 = client.retried_503
            queue.put((number, None, stats, copy))
        except Exception as exc:  # noqa: BLE001 - reported by the parent, which fails the run
            queue.put((number, f"{type(exc).__name__}: {exc}", stats, copy))


# -- the writer ---------------------------------------------------------------------------


@dataclass
class WriterStats:
    commands: int = 0
    imported_new: int = 0
    reimported: int = 0
    deleted: int = 0
    deletes_by_command: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Writer(threading.Thread):
    """Imports, re-imports and deletions, each a real ``oaipress`` process, until stopped."""

    def __init__(self, env: dict[str, str], home: Path, first_new: int, seed: int) -> None:
        super().__init__(name="writer", daemon=True)
        self.env = env
        self.home = home
        self.next_id = first_new
        self.rng = random.Random(seed)
        self.generator = generate.Generator(100_000, seed + 1)
        self.stop = threading.Event()
        self.stats = WriterStats()
        self.revision = 0

    def run(self) -> None:
        started = time.monotonic()
        while not self.stop.is_set():
            kind = self.rng.choices(["new", "reimport", "delete", "command"], [3, 4, 2, 1])[0]
            try:
                getattr(self, f"write_{kind}")()
            except Exception as exc:  # noqa: BLE001 - counted; the run then fails
                self.stats.failures.append(f"{kind}: {exc}")
            self.stop.wait(self.rng.uniform(0.2, 1.0))
        self.stats.seconds = time.monotonic() - started

    def _existing(self, count: int) -> list[int]:
        return self.rng.sample(range(1, self.next_id), min(count, self.next_id - 1))

    def _record(self, i: int) -> dict[str, Any]:
        record = self.generator.record(i)
        while record.get("deleted"):  # a tombstone line: draw a live record instead
            record = self.generator.record(i)
        record.pop("datestamp", None)
        record["id"] = f"article/{i}"
        return record

    def _import(self, lines: list[dict[str, Any]]) -> None:
        path = self.home / "write.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        self._oaipress(["import", "--jobs", "1", str(path)])

    def _oaipress(self, args: list[str]) -> None:
        done = subprocess.run(
            oaipress_command() + args,
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=600,
        )
        self.stats.commands += 1
        if done.returncode != 0:
            raise RuntimeError(
                f"oaipress {args[0]} exited {done.returncode}: {done.stderr.strip()[-2000:]}"
            )

    def write_new(self) -> None:
        count = self.rng.randint(50, 300)
        ids = range(self.next_id, self.next_id + count)
        self._import([self._record(i) for i in ids])
        self.next_id += count
        self.stats.imported_new += count

    def write_reimport(self) -> None:
        self.revision += 1
        lines = []
        for i in self._existing(self.rng.randint(50, 300)):
            record = self._record(i)
            record["title"] = f"{record['title']} (revision {self.revision})"
            lines.append(record)
        self._import(lines)
        self.stats.reimported += len(lines)

    def write_delete(self) -> None:
        ids = self._existing(self.rng.randint(10, 80))
        self._import([{"id": f"article/{i}", "deleted": True} for i in ids])
        self.stats.deleted += len(ids)

    def write_command(self) -> None:
        (i,) = self._existing(1)
        self._oaipress(["delete", f"article/{i}"])
        self.stats.deletes_by_command += 1


# -- the store and the server -------------------------------------------------------------


def environment(database_url: str, formats: str, page_size: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAIPRESS_")}
    env.update(
        OAIPRESS_DATABASE_URL=database_url,
        OAIPRESS_SECRET_KEY="soak-secret",
        OAIPRESS_REPOSITORY_IDENTIFIER=REPOSITORY,
        OAIPRESS_FORMATS=formats,
        OAIPRESS_LIST_RECORDS_PAGE_SIZE=str(page_size),
    )
    return env


def fresh_store(database_url: str) -> None:
    from records.db import drop_schema, make_engine

    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    engine = make_engine(database_url)
    drop_schema(engine)
    engine.dispose()


def store_state(database_url: str) -> tuple[dict[str, tuple[str, bool]], str]:
    """Every record's (datestamp, deleted) read directly from the store, and the newest."""
    from sqlalchemy import text

    from records.db import make_engine

    engine = make_engine(database_url)
    state: dict[str, tuple[str, bool]] = {}
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT local_id, datestamp, deleted FROM records"))
        for local_id, datestamp, deleted in rows:
            if isinstance(datestamp, str):
                datestamp = datetime.fromisoformat(datestamp)
            state[f"oai:{REPOSITORY}:{local_id}"] = (datestamp.strftime(STAMP), bool(deleted))
    engine.dispose()
    newest = max((entry[0] for entry in state.values()), default="")
    return state, newest


def server_date(base_url: str) -> str:
    body = oai.fetch(base_url, {"verb": "Identify"}, timeout=60.0)
    match = RESPONSE_DATE_RE.search(body)
    assert match, body[:300]
    return match.group(1).decode()


def wait_until_listed(base_url: str, datestamp: str) -> float:
    """Lists show a write once its datestamp (set in the future at commit) has passed."""
    started = time.monotonic()
    while server_date(base_url) <= datestamp:
        if time.monotonic() - started > FINAL_WITHIN:
            raise oai.HarvestError(f"the server clock never passed {datestamp}")
        time.sleep(0.2)
    return time.monotonic() - started


def rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants (gunicorn master and workers), KiB."""
    return sum(proc_status(p).get("VmRSS", 0) for p in process_tree(pid))


class RSSSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(name="rss", daemon=True)
        self.pid = pid
        self.samples: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(2.0):
            self.samples.append(rss_kib(self.pid))


# -- the comparison -----------------------------------------------------------------------


@dataclass
class Comparison:
    lost: int = 0
    stale: int = 0
    phantom: int = 0
    examples: list[str] = field(default_factory=list)


def compare(
    copy: dict[str, Entry], truth: dict[str, tuple[str, bool]], digests: dict[str, str]
) -> Comparison:
    result = Comparison()
    for identifier, (datestamp, deleted) in truth.items():
        held = copy.get(identifier)
        if held is None:
            result.lost += 1
            problem = "lost"
        elif held != (datestamp, deleted, digests.get(identifier, "")):
            result.stale += 1
            problem = f"stale {held[:2]} != {(datestamp, deleted)}"
        else:
            continue
        if len(result.examples) < 5:
            result.examples.append(f"{identifier}: {problem}")
    result.phantom = len(copy.keys() - truth.keys())
    return result


# -- the run ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--database-url", help=f"PostgreSQL store (default {PG_DEFAULT})")
    parser.add_argument("--harvesters", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument(
        "--formats", default="oai_dc", help="OAIPRESS_FORMATS of the store (default oai_dc)"
    )
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=BENCH / "out")
    parser.add_argument(
        "--self-check",
        action="store_true",
        help="spoil harvester 0's copy (one record dropped, one made stale, one "
        "repeated in a list walk) to show that the comparison catches it: exits 1",
    )
    options = parser.parse_args(argv)
    if options.records < 10 or options.minutes <= 0 or options.harvesters < 1:
        parser.error("--records must be at least 10, --minutes and --harvesters positive")

    options.out.mkdir(parents=True, exist_ok=True)
    home = options.out / f"soak-{options.backend}-{options.records}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    if options.backend == "sqlite":
        database_url = f"sqlite:///{home / 'store.sqlite'}"
    else:
        database_url = options.database_url or PG_DEFAULT
    env = environment(database_url, options.formats, options.page_size)
    figures: dict[str, Any] = {
        "started": f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}",
        "records": options.records,
        "minutes": options.minutes,
        "backend": options.backend,
        "harvesters": options.harvesters,
        "workers": options.workers,
        "formats": options.formats,
        "load_start": os.getloadavg(),
    }

    corpus = options.out / f"corpus-{options.records}.jsonl"
    if not corpus.exists():
        log(f"generating {corpus.name}")
        generate.generate(options.records, str(corpus), options.seed)
    fresh_store(database_url)
    log(f"importing {options.records} records into {options.backend}")
    started = time.monotonic()
    done = subprocess.run(
        oaipress_command() + ["import", str(corpus)], env=env, cwd=home, capture_output=True
    )
    if done.returncode != 0:
        log(f"import failed: {done.stderr.decode()[-500:]}")
        return 2
    figures["import_seconds"] = round(time.monotonic() - started, 1)
    log(f"imported in {figures['import_seconds']} s")

    port = oai.free_port()
    base_url = f"http://127.0.0.1:{port}/oai"
    server_log = (home / "server.log").open("wb")
    server = subprocess.Popen(
        oaipress_command()
        + ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(options.workers)],
        env=env,
        cwd=home,
        stdout=server_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        oai.wait_until_up(base_url, 120.0, alive=lambda: server.poll() is None)
        return soak(options, env, home, base_url, server, database_url, figures)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        server_log.close()


def soak(
    options: argparse.Namespace,
    env: dict[str, str],
    home: Path,
    base_url: str,
    server: subprocess.Popen[bytes],
    database_url: str,
    figures: dict[str, Any],
) -> int:
    _, newest = store_state(database_url)
    wait_until_listed(base_url, newest)
    sampler = RSSSampler(server.pid)
    sampler.start()
    go_file = home / "writes-done"
    deadline = time.time() + options.minutes * 60
    context = multiprocessing.get_context("fork")  # before any thread of ours but the sampler
    queue = context.Queue()
    processes = [
        context.Process(
            target=harvester,
            args=(n, base_url, deadline, str(go_file), options.seed, queue),
            name=f"harvester-{n}",
        )
        for n in range(options.harvesters)
    ]
    started = time.monotonic()
    for process in processes:
        process.start()
    writer = Writer(env, home, options.records + 1, options.seed)
    writer.start()
    log(f"soaking: {options.harvesters} harvesters and a writer for {options.minutes} min")
    while time.time() < deadline:
        time.sleep(min(10.0, max(0.0, deadline - time.time())))
    writer.stop.set()
    writer.join()
    log(f"writer stopped after {writer.stats.commands} commands")
    truth, newest = store_state(database_url)
    figures["visibility_wait_seconds"] = round(wait_until_listed(base_url, newest), 1)
    go_file.touch()
    results: dict[int, tuple[str | None, HarvesterStats, dict[str, Entry]]] = {}
    while len(results) < len(processes):
        number, error, stats, copy = queue.get(timeout=FINAL_WITHIN + 600)
        results[number] = (error, stats, copy)
    for process in processes:
        process.join(timeout=60)
    figures["soak_seconds"] = round(time.monotonic() - started, 1)
    sampler.stop.set()
    sampler.join()

    log("final check: a fresh full harvest and the store read directly")
    check_stats = HarvesterStats()
    with oai.Client(base_url, timeout=300.0) as client:
        _, fresh_items = list_walk(client, check_stats, {})
    fresh = dict(fresh_items)
    digests = {identifier: entry[2] for identifier, entry in fresh.items()}
    fresh_vs_store = compare(fresh, truth, digests)

    all_stats = [stats for _, stats, _ in results.values()]
    latencies = [x for stats in all_stats for x in stats.latencies]
    per_harvester = []
    totals = {"lost": 0, "duplicated": 0, "stale": 0, "phantom": 0, "regressions": 0}
    errors = []
    if options.self_check:
        _, stats, copy = results[0]
        dropped, spoiled = sorted(copy)[:2]
        del copy[dropped]
        copy[spoiled] = ("1999-01-01T00:00:00Z", *copy[spoiled][1:])
        stats.duplicated += 1
    for number in sorted(results):
        error, stats, copy = results[number]
        result = compare(copy, truth, digests)
        if error:
            errors.append(f"harvester {number}: {error}")
        row = {
            "harvester": number,
            "records_held": len(copy),
            "requests": stats.requests,
            "records_harvested": stats.records,
            "full_harvests": stats.full_harvests,
            "incremental_harvests": stats.incremental_harvests,
            "lost": result.lost,
            "duplicated": stats.duplicated,
            "stale": result.stale,
            "phantom": result.phantom,
            "regressions": stats.regressions,
            "retried_503": stats.retried_503,
            "examples": result.examples,
        }
        per_harvester.append(row)
        for key in totals:
            totals[key] += row[key]
    totals["duplicated"] += check_stats.duplicated
    store_counts = {
        "records": len(truth),
        "deleted": sum(1 for _, deleted in truth.values() if deleted),
    }
    figures.update(
        {
            "load_end": os.getloadavg(),
            "store": store_counts,
            "writes": asdict(writer.stats),
            "requests": sum(s.requests for s in all_stats),
            "records_harvested": sum(s.records for s in all_stats),
            "full_harvests": sum(s.full_harvests for s in all_stats),
            "incremental_harvests": sum(s.incremental_harvests for s in all_stats),
            "page_latency_p50_ms": round(oai.percentile(latencies, 50) * 1000, 1),
            "page_latency_p99_ms": round(oai.percentile(latencies, 99) * 1000, 1),
            "page_latency_max_ms": round(max(latencies) * 1000, 1),
            "server_rss_mib_max": round(max(sampler.samples or [0]) / 1024, 1),
            "server_rss_mib_first": round((sampler.samples or [0])[0] / 1024, 1),
            "server_rss_mib_last": round((sampler.samples or [0])[-1] / 1024, 1),
            "fresh_harvest_vs_store": asdict(fresh_vs_store),
            "harvesters_detail": per_harvester,
            "totals": totals,
            "errors": errors,
        }
    )
    report = home.parent / f"soak-{options.backend}-{options.records}-{int(time.time())}.json"
    report.write_text(json.dumps(figures, indent=2))
    print_summary(figures, report)
    failed = (
        any(totals.values())
        or errors
        or writer.stats.failures
        or fresh_vs_store.lost
        or fresh_vs_store.stale
        or fresh_vs_store.phantom
    )
    return 1 if failed else 0


def print_summary(figures: dict[str, Any], report: Path) -> None:
    writes = figures["writes"]
    lines = [
        f"soak {figures['backend']}, {figures['records']} records, {figures['minutes']} min, "
        f"{figures['harvesters']} harvesters, {figures['workers']} workers, "
        f"formats {figures['formats']}",
        f"load average start {figures['load_start'][0]:.2f}, end {figures['load_end'][0]:.2f}",
        f"import {figures['import_seconds']} s; soak {figures['soak_seconds']} s; "
        f"visibility wait {figures['visibility_wait_seconds']} s",
        f"writes: {writes['commands']} commands ({writes['imported_new']} new, "
        f"{writes['reimported']} re-imported, {writes['deleted']} deleted by import, "
        f"{writes['deletes_by_command']} by `oaipress delete`), failures {len(writes['failures'])}",
        f"store at the end: {figures['store']['records']} records, "
        f"{figures['store']['deleted']} deleted",
        f"harvests: {figures['full_harvests']} full, {figures['incremental_harvests']} "
        f"incremental; {figures['requests']} requests, {figures['records_harvested']} records",
        f"page latency p50 {figures['page_latency_p50_ms']} ms, "
        f"p99 {figures['page_latency_p99_ms']} ms, max {figures['page_latency_max_ms']} ms",
        f"server RSS (master + workers) first {figures['server_rss_mib_first']} MiB, "
        f"max {figures['server_rss_mib_max']} MiB, last {figures['server_rss_mib_last']} MiB",
        f"fresh full harvest against the store: {figures['fresh_harvest_vs_store']}",
        "totals over all harvesters: "
        + ", ".join(f"{key} {value}" for key, value in figures["totals"].items()),
    ]
    for row in figures["harvesters_detail"]:
        lines.append(
            f"  harvester {row['harvester']}: holds {row['records_held']}, "
            f"{row['full_harvests']} full + {row['incremental_harvests']} incremental, "
            f"lost {row['lost']} dup {row['duplicated']} stale {row['stale']} "
            f"phantom {row['phantom']} regressions {row['regressions']} {row['examples']}"
        )
    detail = figures["harvesters_detail"]
    short = [row["harvester"] for row in detail if row["incremental_harvests"] < 3]
    if short:
        lines.append(
            f"note: harvesters {short} made fewer than 3 incremental harvests (the last one "
            "included): on this machine a full harvest takes most of --minutes; raise it"
        )
    lines.extend(figures["errors"])
    lines.extend(f"writer failure: {failure}" for failure in figures["writes"]["failures"])
    lines.append(f"figures: {report}")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
