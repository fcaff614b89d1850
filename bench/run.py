"""Harvest benchmark of oaipress against the minimal baseline, in one invocation.

    python bench/run.py --sizes 10000,100000 --backends sqlite,postgresql --runs 3

For each size N: generate (or reuse) the synthetic corpus in bench/out/, load it into
the baseline (bench/baseline.py) and import it into oaipress on each backend (timed),
with every metadata format and, into a second database, with ``OAIPRESS_FORMATS=oai_dc``
alone (timed too: issue #7 compares the two), start every server (gunicorn, loopback,
``--workers`` workers each), then for each of ``--runs`` rounds measure every server in
turn (the order rotates each round): a full ListRecords harvest, the first page and the
page 90% into the list, GetRecord over random identifiers, and concurrent harvesters.
Servers are stopped at the end of the size, their peak RSS read, and a table of medians
and ratios to the baseline is printed and written to bench/out/results-<timestamp>.md (and .json).

``--import-only`` stops after the timed loads and imports (issue #9's import targets:
nothing is served); ``--formats oai_dc --no-oai-dc-import`` times the configuration the
issue measured, with the baseline loader in the same run.

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:  # `python bench/run.py` puts bench/, not the repo, first
    sys.path.insert(0, str(REPO))

from bench import client as oai  # noqa: E402
from bench import generate  # noqa: E402

BASELINE = "baseline"
LOOPBACK = "127.0.0.1"

# -- the targets (from the issue) ---------------------------------------------------------
HARVEST_MIN_RATIO = 0.7
DEEP_MAX_RATIO = 1.2
GETRECORD_P99_MAX_RATIO = 3.0
CONCURRENT_MIN_RATIO = 0.6
RSS_MAX_GROWTH = 1.2
IMPORT_1M_MAX_SECONDS = 600.0
#: issue #7: importing with every format costs at most this many oai_dc-only imports
IMPORT_FORMATS_MAX_RATIO = 1.5
#: issue #9: the import costs at most this many baseline loads of the same corpus
IMPORT_BASELINE_MAX_RATIO = 2.5


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    """A step failed in a way that is reported, not a bug of the benchmark."""


# -- processes -----------------------------------------------------------------------------


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of ``pid`` in kB (empty if the process is gone)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return out


def children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                kids.extend(int(k) for k in fh.read().split())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return kids


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (e.g. a gunicorn master and its workers)."""
    seen, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.append(p)
            todo.extend(children(p))
    return seen


class RssSampler(threading.Thread):
    """Samples the memory of a server's process tree until stopped.

    Keeps the last VmHWM (peak RSS) seen of every process that was ever in the tree,
    so that a worker that exits (max_requests, a crash) still counts, and the peak of
    the sampled sum of VmRSS over the tree.
    """

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.hwm_kb: dict[int, int] = {}
        self.peak_sum_rss_kb = 0
        self._stop_event = threading.Event()

    def sample(self) -> None:
        total = 0
        for p in process_tree(self.pid):
            status = proc_status(p)
            if status:
                total += status.get("VmRSS", 0)
                self.hwm_kb[p] = max(self.hwm_kb.get(p, 0), status.get("VmHWM", 0))
        self.peak_sum_rss_kb = max(self.peak_sum_rss_kb, total)

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self.sample()
        self._stop_event.set()

    @property
    def sum_hwm_mb(self) -> float:
        return sum(self.hwm_kb.values()) / 1024

    @property
    def peak_rss_mb(self) -> float:
        return self.peak_sum_rss_kb / 1024


def kill_group(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM the process group we started (it is its own session), then SIGKILL."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def spawn(
    cmd: list[str], env: dict[str, str], log_path: Path, cwd: Path = REPO
) -> subprocess.Popen:
    """Start ``cmd`` in its own process group, appending its output to ``log_path``.

    ``python -m`` imports from ``cwd`` first: another checkout runs from its own.
    """
    with open(log_path, "ab") as logf:  # the child keeps its own descriptor
        logf.write(f"$ {shlex.join(cmd)}\n".encode())
        logf.flush()
        return subprocess.Popen(
            cmd,
            env=env,
            stdout=logf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            start_new_session=True,
        )


def run_bounded(cmd: list[str], env: dict[str, str], log_path: Path, timeout: float) -> float:
    """Run ``cmd`` to completion within ``timeout`` seconds; returns its wall time."""
    return run_timed(cmd, env, log_path, timeout)[0]


def run_timed(
    cmd: list[str], env: dict[str, str], log_path: Path, timeout: float
) -> tuple[float, float]:
    """Like :func:`run_bounded`; returns (wall time, CPU time of it and its children).

    The CPU time (user + system, from this process's RUSAGE_CHILDREN) hardly depends on
    what else the machine is doing, where the wall time does; it is exact only while no
    other child of this process ends meanwhile (imports run before any server starts).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = spawn(cmd, env, log_path)
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{shlex.join(cmd)} did not finish in {timeout:.0f} s") from exc
    finally:
        kill_group(proc, grace=5.0)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if rc != 0:
        raise BenchError(
            f"{shlex.join(cmd)} exited with {rc}; last lines of {log_path}:\n" + tail(log_path)
        )
    return elapsed, cpu


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


@dataclass
class Server:
    name: str
    base_url: str
    proc: subprocess.Popen
    log_path: Path
    sampler: RssSampler
    stopped: bool = False

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.sampler.stop()
        kill_group(self.proc, grace=20.0)


def start_server(
    name: str,
    cmd: list[str],
    env: dict[str, str],
    base_url: str,
    log_path: Path,
    startup_timeout: float,
    cwd: Path = REPO,
) -> Server:
    proc = spawn(cmd, env, log_path, cwd)
    sampler = RssSampler(proc.pid)
    sampler.start()
    server = Server(name, base_url, proc, log_path, sampler)
    try:
        waited = oai.wait_until_up(base_url, startup_timeout, alive=lambda: proc.poll() is None)
    except BaseException as exc:
        server.stop()
        if isinstance(exc, oai.HarvestError):
            raise BenchError(
                f"{name} did not start: {exc}; last lines of {log_path}:\n" + tail(log_path)
            ) from exc
        raise
    log(f"{name} is up at {base_url} (pid {proc.pid}, {waited:.1f} s)")
    return server


# -- measures ------------------------------------------------------------------------------


def concurrent_harvest(
    base_url: str, tokens: list[str], pages: int, harvesters: int, max_pages: int, time_limit: float
) -> tuple[int, float]:
    """``harvesters`` threads, each from its own point of the list, ``max_pages`` pages.

    Harvester j starts j/harvesters of the way into the list and follows tokens for
    min(pages, max_pages) pages, starting over at the end of the list: every harvester
    reads as much as a full harvest (up to the cap), each from a different place, so
    that they do not all read the same pages at the same time.
    Returns ``(records, wall seconds)``.
    """
    per = min(pages, max_pages)
    starts: list[str | None] = []
    for j in range(harvesters):
        k = j * pages // harvesters
        starts.append(tokens[k - 1] if k > 0 else None)
    results: list[object] = [None] * harvesters
    barrier = threading.Barrier(harvesters + 1, timeout=60)

    def worker(j: int) -> None:
        try:
            barrier.wait()
            results[j] = oai.harvest(
                base_url, start_token=starts[j], max_pages=per, wrap=True, time_limit=time_limit
            )
        except BaseException as exc:  # reported below
            results[j] = exc

    threads = [threading.Thread(target=worker, args=(j,), daemon=True) for j in range(harvesters)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    deadline = started + time_limit + 180  # + socket timeouts
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.perf_counter()))
    elapsed = time.perf_counter() - started
    if any(t.is_alive() for t in threads):
        raise BenchError(f"concurrent harvesters still running after {elapsed:.0f} s")
    for r in results:
        if isinstance(r, BaseException):
            raise BenchError(f"a concurrent harvester failed: {r}") from r
    return sum(r[0] for r in results), elapsed  # type: ignore[index]


def measure(server: Server, n: int, run: int, args: argparse.Namespace) -> dict:
    url = server.base_url
    fig: dict = {}
    # Full harvests, repeated until --min-harvest-seconds have passed (a 10k harvest
    # of the baseline takes a fraction of a second: too short to time alone).
    tokens: list[str] = []
    records, seconds, latencies = oai.harvest(url, tokens=tokens, time_limit=args.harvest_timeout)
    pages = len(latencies)
    total_records, total_seconds, repeats = records, seconds, 1
    while total_seconds < args.min_harvest_seconds and repeats < 50:
        r, s, more = oai.harvest(url, time_limit=args.harvest_timeout)
        total_records, total_seconds, repeats = total_records + r, total_seconds + s, repeats + 1
        latencies += more
    fig.update(
        records=records,
        pages=pages,
        harvest_s=seconds,
        harvest_repeats=repeats,
        harvest_rps=total_records / total_seconds,
        page_p50_ms=1000 * oai.percentile(latencies, 50),
    )
    if records != n:
        fig["count_mismatch"] = f"harvested {records} records, corpus has {n}"
    if len(tokens) != pages - 1:
        raise BenchError(f"{pages} pages but {len(tokens)} tokens")

    if pages >= 2:
        # The first page may do work the others do not (e.g. count the list for
        # completeListSize), so page 2, the first one asked for by token, is timed too.
        deep = max(1, int(0.9 * pages))  # 0-based index of the page 90% into the list
        first_l, second_l, deep_l = oai.time_pages(
            url, [None, tokens[0], tokens[deep - 1]], args.page_repeats
        )
        fig.update(
            first_page_ms=1000 * statistics.median(first_l),
            second_page_ms=1000 * statistics.median(second_l),
            deep_page_ms=1000 * statistics.median(deep_l),
            deep_page_index=deep,
        )
        fig["deep_ratio"] = fig["deep_page_ms"] / fig["first_page_ms"]
        fig["deep_second_ratio"] = fig["deep_page_ms"] / fig["second_page_ms"]

    rng = random.Random(args.seed * 1000 + run)  # same identifiers for every server
    repo_id = os.environ.get("OAIPRESS_REPOSITORY_IDENTIFIER", "example.org")
    ids = [
        f"oai:{repo_id}:article/{i}"
        for i in rng.sample(range(1, n + 1), min(n, args.getrecord_count))
    ]
    errors: dict[str, int] = {}
    get_l = oai.get_records(url, ids, errors=errors, time_limit=args.harvest_timeout)
    fig.update(
        get_p50_ms=1000 * oai.percentile(get_l, 50),
        get_p99_ms=1000 * oai.percentile(get_l, 99),
        get_errors=errors,
    )

    c_records, c_seconds, bursts = 0, 0.0, 0
    while bursts < 1 or (c_seconds < args.min_harvest_seconds and bursts < 20):
        r, s = concurrent_harvest(
            url, tokens, pages, args.concurrency, args.concurrent_pages, args.harvest_timeout
        )
        c_records, c_seconds, bursts = c_records + r, c_seconds + s, bursts + 1
    fig.update(
        concurrent_records=c_records,
        concurrent_s=c_seconds,
        concurrent_bursts=bursts,
        concurrent_rps=c_records / c_seconds,
    )
    return fig


def check_server(server: Server) -> None:
    """The first page must be well-formed XML with records in the OAI namespace."""
    from lxml import etree

    body = oai.fetch(
        server.base_url, {"verb": "ListRecords", "metadataPrefix": "oai_dc"}, timeout=120
    )
    try:
        root = etree.fromstring(body)
    except etree.XMLSyntaxError as exc:
        raise BenchError(
            f"{server.name}: first ListRecords page is not well-formed: {exc}"
        ) from exc
    ns = "{http://www.openarchives.org/OAI/2.0/}"
    if root.tag != ns + "OAI-PMH" or not root.findall(f"{ns}ListRecords/{ns}record"):
        raise BenchError(
            f"{server.name}: first ListRecords page has no OAI records: {body[:300]!r}"
        )
    regex_count = oai.parse_list_page(body)[0]
    if regex_count != len(root.findall(f"{ns}ListRecords/{ns}record")):
        raise BenchError(f"{server.name}: the client's record count disagrees with lxml")


# -- preparing data --------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ensure_corpus(n: int, seed: int, out_dir: Path) -> tuple[Path, float | None]:
    """The corpus file for ``n`` (generated unless a matching cached one exists)."""
    suffix = "" if seed == generate.DEFAULT_SEED else f"-seed{seed}"
    path = out_dir / f"corpus-{n}{suffix}.jsonl"
    meta_path = path.with_suffix(".meta.json")
    meta = {"n": n, "seed": seed, "generator": file_sha256(Path(generate.__file__))}
    if path.exists() and meta_path.exists():
        try:
            if json.loads(meta_path.read_text()) == meta:
                log(f"corpus {path.name}: cached")
                return path, None
        except ValueError:
            pass
    need = n * 6000 * 3  # corpus + two databases, roughly
    free = shutil.disk_usage(out_dir).free
    if free < need:
        raise BenchError(f"need ~{need / 1e9:.1f} GB free in {out_dir}, have {free / 1e9:.1f} GB")
    log(f"corpus {path.name}: generating {n} records ...")
    started = time.perf_counter()
    generate.generate(n, str(path), seed)
    elapsed = time.perf_counter() - started
    meta_path.write_text(json.dumps(meta))
    log(f"corpus {path.name}: {path.stat().st_size / 1e6:.0f} MB in {elapsed:.1f} s")
    return path, elapsed


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def pg_admin(admin_url: str, statement: str, dbname: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(dbname)))


def pg_url_for(admin_url: str, dbname: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit(("postgresql+psycopg", parts.netloc, "/" + dbname, "", ""))


def empty_store_url(backend: str, name: str, out_dir: Path, pg_admin_url: str) -> str:
    """The URL of an empty store called ``name``: a new SQLite file, or a new database."""
    if backend == "sqlite":
        path = out_dir / f"{name}.db"
        remove_sqlite(path)
        return f"sqlite:///{path}"
    pg_admin(pg_admin_url, "DROP DATABASE IF EXISTS {}", name)
    pg_admin(pg_admin_url, "CREATE DATABASE {}", name)
    return pg_url_for(pg_admin_url, name)


def oaipress_command(spec: str) -> list[str]:
    if spec != "auto":
        return shlex.split(spec)
    if shutil.which("oaipress") is None and (REPO / "oai" / "cli.py").exists():
        return [sys.executable, "-m", "oai.cli"]  # not installed: run it from the checkout
    return ["oaipress"]


def check_oaipress(cmd: list[str]) -> str | None:
    """None if the oaipress CLI runs and has import and serve; else why not."""
    if not cmd or shutil.which(cmd[0]) is None:
        return (
            f"oaipress is not installed: {cmd[0] if cmd else '(empty)'!r} is not on "
            "PATH (install the application, e.g. `pip install -e .`, or pass "
            "--oaipress-cmd); run with --only baseline to measure the baseline alone"
        )
    try:
        proc = subprocess.run(
            [*cmd, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`{shlex.join(cmd)} --help` failed: {exc}"
    if proc.returncode != 0:
        last = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        return (
            f"`{shlex.join(cmd)} --help` exited with {proc.returncode}: the application "
            f"is not importable yet?\n{last}"
        )
    missing = [c for c in ("import", "serve") if c not in proc.stdout]
    if missing:
        return f"`{shlex.join(cmd)} --help` lists no {' / '.join(missing)} command"
    return None


# -- one size ----------------------------------------------------------------------------------


@dataclass
class SystemResult:
    name: str
    runs: list[dict] = field(default_factory=list)
    import_s: float | None = None
    #: the same import with OAIPRESS_FORMATS=oai_dc, into a database of its own
    import_dc_s: float | None = None
    #: CPU seconds (user + system) of the two imports, workers included
    import_cpu_s: float | None = None
    import_dc_cpu_s: float | None = None
    rss_hwm_mb: float | None = None
    rss_sampled_mb: float | None = None
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def import_ratio(self) -> float | None:
        """The import with every format ÷ the oai_dc-only import, both of this run."""
        if self.import_s is None or not self.import_dc_s:
            return None
        return self.import_s / self.import_dc_s

    @property
    def import_cpu_ratio(self) -> float | None:
        """The same ratio in CPU time: what the machine's load changes much less."""
        if self.import_cpu_s is None or not self.import_dc_cpu_s:
            return None
        return self.import_cpu_s / self.import_dc_cpu_s

    def median(self, key: str) -> float | None:
        values = [r[key] for r in self.runs if r.get(key) is not None]
        return statistics.median(values) if values else None


def bench_size(
    n: int,
    args: argparse.Namespace,
    oaipress_cmd: list[str] | None,
    out_dir: Path,
    results: dict[str, SystemResult],
) -> None:
    """Measure every system at size ``n`` into ``results`` (partial if interrupted)."""
    corpus, gen_s = ensure_corpus(n, args.seed, out_dir)
    servers: list[Server] = []
    cleanup: list = []
    workers = str(args.workers)
    ports: set[int] = set()

    def new_port() -> int:  # distinct for each server of this size
        for _ in range(100):
            port = oai.free_port()
            if port not in ports:
                ports.add(port)
                return port
        raise BenchError("no free loopback port")

    try:
        # -- load / import, each timed ------------------------------------------------------
        plans = []  # (name, command, env, base_url)
        if args.only in (None, "baseline"):
            res = results[BASELINE] = SystemResult(BASELINE)
            db = out_dir / f"baseline-{n}.sqlite"
            remove_sqlite(db)
            if not args.keep:
                cleanup.append(lambda db=db: remove_sqlite(db))
            port = new_port()
            base_url = f"http://{LOOPBACK}:{port}/oai"
            log(f"baseline: loading {corpus.name} ...")
            try:
                res.import_s, res.import_cpu_s = run_timed(
                    [sys.executable, str(BENCH / "baseline.py"), "load", str(corpus), str(db)],
                    dict(os.environ),
                    out_dir / "logs" / f"baseline-{n}-load.log",
                    args.import_timeout,
                )
                log(f"baseline: loaded in {res.import_s:.1f} s")
                app_spec = f"bench.baseline:make_app({str(db)!r}, {base_url!r})"
                cmd = [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-w",
                    workers,
                    "-b",
                    f"{LOOPBACK}:{port}",
                    "--chdir",
                    str(REPO),
                    "--graceful-timeout",
                    "10",
                    *shlex.split(args.baseline_gunicorn_args),
                    app_spec,
                ]
                plans.append((BASELINE, cmd, dict(os.environ), base_url))
            except BenchError as exc:
                res.errors.append(str(exc))

        if oaipress_cmd is not None:
            for backend in args.backends:
                name = f"oaipress-{backend}"
                res = results[name] = SystemResult(name)
                port = new_port()
                base_url = f"http://{LOOPBACK}:{port}/oai"
                if backend == "sqlite":
                    db = out_dir / f"oaipress-{n}.sqlite"
                    remove_sqlite(db)
                    db_url = f"sqlite:///{db}"
                    if not args.keep:
                        cleanup.append(lambda db=db: remove_sqlite(db))
                else:
                    dbname = f"{args.pg_database_prefix}_{n}"
                    db_url = pg_url_for(args.pg_admin_url, dbname)
                env = dict(
                    os.environ,
                    **({"OAIPRESS_FORMATS": args.formats} if args.formats else {}),
                    OAIPRESS_DATABASE_URL=db_url,
                    OAIPRESS_SECRET_KEY="bench",
                    OAIPRESS_BASE_URL=base_url,
                    OAIPRESS_LIST_RECORDS_PAGE_SIZE=str(args.page_size),
                )
                logfile = out_dir / "logs" / f"{name}-{n}-import.log"
                try:
                    if backend == "postgresql":
                        pg_admin(
                            args.pg_admin_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)", dbname
                        )
                        pg_admin(args.pg_admin_url, "CREATE DATABASE {}", dbname)
                        if not args.keep:
                            cleanup.append(
                                lambda d=dbname: pg_admin(
                                    args.pg_admin_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)", d
                                )
                            )
                    if args.oaipress_setup:
                        run_bounded(shlex.split(args.oaipress_setup), env, logfile, 600)
                    log(f"{name}: importing {corpus.name} ...")
                    res.import_s, res.import_cpu_s = run_timed(
                        [*oaipress_cmd, "import", "--keep-datestamps", str(corpus)],
                        env,
                        logfile,
                        args.import_timeout,
                    )
                    log(f"{name}: imported in {res.import_s:.1f} s ({res.import_cpu_s:.0f} s CPU)")
                    if args.oai_dc_import:
                        res.import_dc_s, res.import_dc_cpu_s = import_oai_dc_only(
                            n, backend, corpus, oaipress_cmd, env, args, out_dir
                        )
                        log(
                            f"{name}: oai_dc only: imported in {res.import_dc_s:.1f} s "
                            f"({res.import_dc_cpu_s:.0f} s CPU); all formats ÷ oai_dc only = "
                            f"{res.import_ratio:.2f} (CPU: {res.import_cpu_ratio:.2f})"
                        )
                    cmd = [
                        *oaipress_cmd,
                        "serve",
                        "--host",
                        LOOPBACK,
                        "--port",
                        str(port),
                        "--workers",
                        workers,
                    ]
                    plans.append((name, cmd, env, base_url))
                except Exception as exc:  # psycopg errors too: report, go on
                    res.errors.append(f"import: {exc}")
                    log(f"{name}: import FAILED: {exc}")

        # -- serve -------------------------------------------------------------------------
        if args.import_only:
            plans = []
        for name, cmd, env, base_url in plans:
            try:
                server = start_server(
                    name,
                    cmd,
                    env,
                    base_url,
                    out_dir / "logs" / f"{name}-{n}-serve.log",
                    args.startup_timeout,
                )
                servers.append(server)
                check_server(server)
            except (BenchError, oai.HarvestError, OSError) as exc:
                results[name].errors.append(f"serve: {exc}")
                log(f"{name}: FAILED: {exc}")
                if servers and servers[-1].name == name:
                    servers.pop().stop()

        # -- measure, rotating the order each round -----------------------------------------
        live = list(servers)
        for run in range(args.runs):
            order = live[run % len(live) :] + live[: run % len(live)] if live else []
            for server in order:
                res = results[server.name]
                log(f"N={n} run {run + 1}/{args.runs}: {server.name} ...")
                try:
                    fig = measure(server, n, run, args)
                except (BenchError, oai.HarvestError, OSError) as exc:
                    res.errors.append(f"run {run + 1}: {exc}")
                    log(f"{server.name}: measure FAILED: {exc}")
                    live.remove(server)
                    continue
                res.runs.append(fig)
                if fig.get("count_mismatch"):
                    res.notes.append(fig["count_mismatch"])
                if fig.get("get_errors"):
                    res.notes.append(f"GetRecord errors: {fig['get_errors']}")
                log(
                    f"  {fig['harvest_rps']:.0f} rec/s, first {fig.get('first_page_ms', 0):.1f}"
                    f" ms, deep {fig.get('deep_page_ms', 0):.1f} ms, GetRecord p99 "
                    f"{fig['get_p99_ms']:.1f} ms, {args.concurrency}x "
                    f"{fig['concurrent_rps']:.0f} rec/s"
                )
    finally:
        for server in servers:
            server.stop()
            res = results[server.name]
            res.rss_hwm_mb = server.sampler.sum_hwm_mb
            res.rss_sampled_mb = server.sampler.peak_rss_mb
        for step in cleanup:
            try:
                step()
            except Exception as exc:  # cleanup is best effort; say so
                log(f"cleanup: {exc}")
    for res in results.values():
        res.notes = sorted(set(res.notes))
    if gen_s is not None:
        for res in results.values():
            res.notes.append(f"corpus generated in {gen_s:.1f} s")
            break


def import_oai_dc_only(
    n: int,
    backend: str,
    corpus: Path,
    oaipress_cmd: list[str],
    env: dict[str, str],
    args: argparse.Namespace,
    out_dir: Path,
) -> tuple[float, float]:
    """Time the import of ``corpus`` with ``OAIPRESS_FORMATS=oai_dc`` into a fresh store.

    The store is only imported into, never served, and is removed afterwards.
    """
    logfile = out_dir / "logs" / f"oaipress-{backend}-{n}-import-oai_dc.log"
    if backend == "sqlite":
        db = out_dir / f"oaipress-{n}-oai_dc.sqlite"
        remove_sqlite(db)
        url = f"sqlite:///{db}"
        drop = lambda: remove_sqlite(db)  # noqa: E731
    else:
        dbname = f"{args.pg_database_prefix}_{n}_oai_dc"
        url = pg_url_for(args.pg_admin_url, dbname)
        drop_sql = "DROP DATABASE IF EXISTS {} WITH (FORCE)"
        pg_admin(args.pg_admin_url, drop_sql, dbname)
        pg_admin(args.pg_admin_url, "CREATE DATABASE {}", dbname)
        drop = lambda: pg_admin(args.pg_admin_url, drop_sql, dbname)  # noqa: E731
    dc_env = dict(env, OAIPRESS_DATABASE_URL=url, OAIPRESS_FORMATS="oai_dc")
    try:
        if args.oaipress_setup:
            run_bounded(shlex.split(args.oaipress_setup), dc_env, logfile, 600)
        log(f"oaipress-{backend}: importing {corpus.name} with oai_dc only ...")
        return run_timed(
            [*oaipress_cmd, "import", "--keep-datestamps", str(corpus)],
            dc_env,
            logfile,
            args.import_timeout,
        )
    finally:
        drop()


# -- report ------------------------------------------------------------------------------------

# (key, label, format, higher is better)
FIGURES = [
    ("import_s", "import / load (s)", "{:.1f}", False),
    ("import_dc_s", "import, oai_dc only (s)", "{:.1f}", False),
    ("import_ratio", "import ÷ oai_dc-only import", "{:.2f}", False),
    ("import_cpu_s", "import CPU, workers included (s)", "{:.0f}", False),
    ("import_dc_cpu_s", "import CPU, oai_dc only (s)", "{:.0f}", False),
    ("import_cpu_ratio", "import CPU ÷ oai_dc-only import CPU", "{:.2f}", False),
    ("harvest_rps", "full harvest (records/s)", "{:.0f}", True),
    ("first_page_ms", "first page (ms)", "{:.2f}", False),
    ("deep_page_ms", "page 90% in (ms)", "{:.2f}", False),
    ("deep_ratio", "page 90% in ÷ first page", "{:.2f}", False),
    ("second_page_ms", "page 2 (ms)", "{:.2f}", False),
    ("deep_second_ratio", "page 90% in ÷ page 2", "{:.2f}", False),
    ("get_p50_ms", "GetRecord p50 (ms)", "{:.2f}", False),
    ("get_p99_ms", "GetRecord p99 (ms)", "{:.2f}", False),
    ("concurrent_rps", "{c} harvesters (records/s)", "{:.0f}", True),
    ("rss_hwm_mb", "peak RSS, Σ VmHWM (MB)", "{:.0f}", False),
    ("rss_sampled_mb", "peak RSS, sampled Σ VmRSS (MB)", "{:.0f}", False),
    ("records", "records per harvest", "{:.0f}", True),
]


def value(res: SystemResult | None, key: str) -> float | None:
    if res is None:
        return None
    if key.startswith("import_") or key in ("rss_hwm_mb", "rss_sampled_mb"):
        return getattr(res, key)
    return res.median(key)


def fmt(fmt_str: str, v: float | None) -> str:
    return "n/a" if v is None else fmt_str.format(v)


def verdicts(
    all_results: dict[int, dict[str, SystemResult]],
    sizes: list[int],
    backends: list[str],
    args_import_only: bool = False,
) -> list[str]:
    lines = []

    def line(ok: bool | None, text: str) -> None:
        mark = "n/a " if ok is None else ("PASS" if ok else "FAIL")
        lines.append(f"- **{mark}** {text}")

    for backend in backends:
        name = f"oaipress-{backend}"
        for n in sizes:
            res = all_results[n].get(name)
            base = all_results[n].get(BASELINE)
            if res is None or not res.runs:
                if not args_import_only:
                    line(None, f"{name} N={n}: not measured")
                continue
            for key, target, higher, label in (
                ("harvest_rps", HARVEST_MIN_RATIO, True, "full harvest ≥ {t}× baseline"),
                ("get_p99_ms", GETRECORD_P99_MAX_RATIO, False, "GetRecord p99 ≤ {t}× baseline p99"),
                (
                    "concurrent_rps",
                    CONCURRENT_MIN_RATIO,
                    True,
                    "concurrent harvesters ≥ {t}× baseline aggregate",
                ),
            ):
                a, b = value(res, key), value(base, key)
                text = f"{name} N={n}: {label.format(t=target)}"
                if a is None or b is None:
                    line(None, text + " (no baseline figure)")
                else:
                    r = a / b
                    line(r >= target if higher else r <= target, f"{text}: {r:.2f}×")
            deep = value(res, "deep_ratio")
            line(
                None if deep is None else deep <= DEEP_MAX_RATIO,
                f"{name} N={n}: page 90% in ÷ first page ≤ {DEEP_MAX_RATIO}: "
                + fmt("{:.2f}", deep)
                + f" (÷ page 2: {fmt('{:.2f}', value(res, 'deep_second_ratio'))})",
            )
        # memory growth and import time, across sizes
        measured = [n for n in sizes if (r := all_results[n].get(name)) and r.rss_hwm_mb]
        if len(measured) >= 2:
            lo, hi = min(measured), max(measured)
            growth = all_results[hi][name].rss_hwm_mb / all_results[lo][name].rss_hwm_mb
            note = "" if (lo, hi) == (10_000, 1_000_000) else " (the target compares 1M with 10k)"
            line(
                growth <= RSS_MAX_GROWTH,
                f"{name}: peak RSS at N={hi} ≤ {RSS_MAX_GROWTH}× at N={lo}: {growth:.2f}×{note}",
            )
        elif not args_import_only:
            line(None, f"{name}: peak RSS growth needs two sizes (10k and 1M)")
        for n in sizes:
            res = all_results[n].get(name)
            ratio = res.import_ratio if res else None
            if ratio is not None:
                line(
                    ratio <= IMPORT_FORMATS_MAX_RATIO,
                    f"{name} N={n}: import with every format ≤ {IMPORT_FORMATS_MAX_RATIO}× "
                    f"the oai_dc-only import: {res.import_s:.1f} s ÷ {res.import_dc_s:.1f} s "
                    f"= {ratio:.2f}× (in CPU time: {fmt('{:.2f}', res.import_cpu_ratio)}×)",
                )
        for n in sizes:
            res, base = all_results[n].get(name), all_results[n].get(BASELINE)
            if res and res.import_s and base and base.import_s:
                ratio = res.import_s / base.import_s
                cpu = (
                    f"; CPU {res.import_cpu_s:.0f} s ÷ {base.import_cpu_s:.0f} s = "
                    f"{res.import_cpu_s / base.import_cpu_s:.2f}×"
                    if res.import_cpu_s and base.import_cpu_s
                    else ""
                )
                line(
                    ratio <= IMPORT_BASELINE_MAX_RATIO,
                    f"{name} N={n}: import ≤ {IMPORT_BASELINE_MAX_RATIO}× the baseline load: "
                    f"{res.import_s:.1f} s ÷ {base.import_s:.1f} s = {ratio:.2f}×{cpu}",
                )
        imported = [n for n in sizes if (r := all_results[n].get(name)) and r.import_s]
        if imported:
            n = max(imported)
            secs = all_results[n][name].import_s
            if n >= 1_000_000:
                line(
                    secs * 1_000_000 / n < IMPORT_1M_MAX_SECONDS,
                    f"{name}: import of 1M < {IMPORT_1M_MAX_SECONDS:.0f} s: {secs:.0f} s",
                )
            else:
                est = secs * 1_000_000 / n
                line(
                    None,
                    f"{name}: import of 1M < {IMPORT_1M_MAX_SECONDS:.0f} s: not measured;"
                    f" linear estimate from N={n}: {est:.0f} s",
                )
        else:
            line(None, f"{name}: import of 1M: not measured")
    return lines


def report(
    all_results: dict[int, dict[str, SystemResult]],
    args: argparse.Namespace,
    problems: list[str],
    started: float,
    load_start: tuple,
) -> str:
    out = ["# oaipress harvest benchmark", ""]
    out.append(
        f"- date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; total "
        f"{(time.perf_counter() - started) / 60:.1f} min"
    )
    out.append(f"- command: `{shlex.join(['python', 'bench/run.py', *sys.argv[1:]])}`")
    out.append(
        f"- machine: {platform.node()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; load average at start "
        f"{' '.join(f'{x:.2f}' for x in load_start)}, at end "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        commit = ""
    out.append(
        f"- git: {commit or '(no commit)'}; runs: {args.runs} (medians); "
        f"workers: {args.workers} each; page size {args.page_size}; "
        f"{args.concurrency} concurrent harvesters, ≤ {args.concurrent_pages} pages each"
    )
    out.append(
        "- ratio = oaipress ÷ baseline (throughput: higher is better; times and "
        "memory: lower is better)"
    )
    for p in problems:
        out += ["", "**ERROR:** " + p.replace("\n", "  \n")]
    for n, results in all_results.items():
        names = [BASELINE] if BASELINE in results else []
        names += [k for k in results if k != BASELINE]
        cols = ["figure"]
        for name in names:
            cols.append(name)
            if name != BASELINE and BASELINE in results:
                cols.append("ratio")
        out += ["", f"## N = {n:,}", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        base = results.get(BASELINE)
        for key, label, f, _higher in FIGURES:
            if args.import_only and not key.startswith("import_"):
                continue
            row = [label.format(c=args.concurrency)]
            for name in names:
                v = value(results[name], key)
                row.append(fmt(f, v))
                if name != BASELINE and BASELINE in results:
                    b = value(base, key)
                    if key in ("records", "import_ratio", "import_cpu_ratio"):
                        row.append("")
                    else:
                        row.append(fmt("{:.2f}", None if v is None or not b else v / b))
            out.append("| " + " | ".join(row) + " |")
        for name in names:
            for e in results[name].errors:
                out.append(f"\n**{name} error:** " + e.replace("\n", "  \n"))
            for note in results[name].notes:
                out.append(f"\n*{name}:* {note}")
    if args.only != "baseline":
        out += ["", "## Targets", ""]
        out += verdicts(all_results, list(all_results), args.backends, args.import_only)
    return "\n".join(out) + "\n"


def to_json(all_results: dict[int, dict[str, SystemResult]]) -> dict:
    return {
        str(n): {
            name: {
                **vars(res),
                "import_ratio": res.import_ratio,
                "import_cpu_ratio": res.import_cpu_ratio,
            }
            for name, res in results.items()
        }
        for n, results in all_results.items()
    }


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="oaipress vs baseline harvest benchmark",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--sizes", default="10000", help="comma-separated corpus sizes")
    p.add_argument(
        "--backends", default="sqlite,postgresql", help="oaipress backends: sqlite, postgresql"
    )
    p.add_argument("--runs", type=int, default=3, help="measurement rounds (medians)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    p.add_argument("--only", choices=["oaipress", "baseline"], help="measure one side")
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep the databases (corpora in bench/out/ are always kept)",
    )
    p.add_argument("--out-dir", default=str(BENCH / "out"))
    p.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    p.add_argument(
        "--oaipress-cmd",
        default="auto",
        help="how to run the oaipress CLI; auto: `oaipress` if it is on PATH, "
        "else `python -m oai.cli` from the checkout",
    )
    p.add_argument(
        "--oaipress-setup",
        default="",
        help="command run (untimed, same env) before each import, e.g. a schema migration",
    )
    p.add_argument(
        "--pg-admin-url",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="where to create and drop the <prefix>_<N> databases",
    )
    p.add_argument(
        "--pg-database-prefix",
        default="oaipress_bench",
        help="names of the PostgreSQL databases made (and dropped): <prefix>_<N>[_oai_dc]",
    )
    p.add_argument(
        "--page-size",
        type=int,
        default=100,
        help="OAIPRESS_LIST_RECORDS_PAGE_SIZE (the baseline's is 100)",
    )
    p.add_argument(
        "--min-harvest-seconds",
        type=float,
        default=3.0,
        help="repeat the full harvest (and the concurrent burst) within a run until this long",
    )
    p.add_argument("--getrecord-count", type=int, default=1000)
    p.add_argument(
        "--page-repeats",
        type=int,
        default=25,
        help="timings of the first and the 90%% page (medians)",
    )
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument(
        "--concurrent-pages", type=int, default=300, help="page limit per concurrent harvester"
    )
    p.add_argument(
        "--baseline-gunicorn-args",
        default="",
        help="extra gunicorn options for the baseline, e.g. to match the worker "
        "class of `oaipress serve`",
    )
    p.add_argument(
        "--harvest-timeout",
        type=float,
        default=3600,
        help="time limit of one harvest / GetRecord loop (s)",
    )
    p.add_argument("--import-timeout", type=float, default=7200)
    p.add_argument(
        "--no-oai-dc-import",
        dest="oai_dc_import",
        action="store_false",
        help="skip the second, oai_dc-only import (OAIPRESS_FORMATS=oai_dc) of each backend",
    )
    p.add_argument(
        "--import-only",
        action="store_true",
        help="time the loads and imports only: start no server, measure no harvest",
    )
    p.add_argument(
        "--formats",
        default="",
        help="OAIPRESS_FORMATS of the main import (default: the environment's, else all six)",
    )
    p.add_argument("--startup-timeout", type=float, default=120)
    args = p.parse_args(argv)
    try:
        args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        p.error("--sizes: comma-separated integers")
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not args.sizes or min(args.sizes) < 1:
        p.error("--sizes: positive integers")
    if bad := [b for b in args.backends if b not in ("sqlite", "postgresql")]:
        p.error(f"--backends: unknown {bad}")
    if args.runs < 1 or args.workers < 1 or args.concurrency < 1:
        p.error("--runs, --workers and --concurrency must be positive")
    admin = urlsplit(args.pg_admin_url)
    if admin.hostname not in ("127.0.0.1", "localhost", "::1"):
        p.error("--pg-admin-url must point to loopback")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    load_start = os.getloadavg()

    def on_term(signum, frame):  # so that the finally blocks stop the servers
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: let the cleanup finish
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    out_dir = Path(args.out_dir).resolve()
    (out_dir / "logs").mkdir(parents=True, exist_ok=True)

    problems: list[str] = []
    oaipress_cmd = None
    if args.only in (None, "oaipress"):
        cmd = oaipress_command(args.oaipress_cmd)
        log(f"oaipress command: {shlex.join(cmd)}")
        why = check_oaipress(cmd)
        if why:
            problems.append(why)
            log("ERROR: " + why)
            if args.only == "oaipress":
                return 2
            log("going on with the baseline alone")
        else:
            oaipress_cmd = cmd

    all_results: dict[int, dict[str, SystemResult]] = {}
    try:
        for n in args.sizes:
            all_results[n] = {}
            bench_size(n, args, oaipress_cmd, out_dir, all_results[n])
    except (KeyboardInterrupt, SystemExit):
        problems.append("interrupted: the figures below are partial")
        raise
    except BenchError as exc:
        problems.append(str(exc))
        log("ERROR: " + str(exc))
    except Exception:
        problems.append("benchmark crashed:\n" + traceback.format_exc())
        raise
    finally:
        text = report(all_results, args, problems, started, load_start)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        md_path = out_dir / f"results-{stamp}.md"
        md_path.write_text(text, encoding="utf-8")
        (out_dir / f"results-{stamp}.json").write_text(
            json.dumps(
                {
                    "args": {k: v for k, v in vars(args).items()},
                    "problems": problems,
                    "results": to_json(all_results),
                },
                indent=1,
                default=str,
            ),
            encoding="utf-8",
        )
        print(text)
        log(f"written {md_path}")
    failed = any(r.errors for results in all_results.values() for r in results.values())
    return 1 if problems or failed else 0


if __name__ == "__main__":
    sys.exit(main())
