"""Per-format rendering cost: µs a record for each metadata format, on the bench corpus.

Import renders every record in every format (oai.protocol.rendering), so these figures
are most of an import's Python work. One core, no database::

    python bench/render_times.py --records 2000
    python bench/render_times.py --records 2000 --digest   # also a SHA-256 of every output

The digest changes whenever any byte of any rendition does: compare it before and after
a change meant only for speed.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import generate  # noqa: E402
from oai.formats import formats  # noqa: E402
from records.lines import ImportSummary, parse_lines  # noqa: E402


def corpus_records(n: int, seed: int = generate.DEFAULT_SEED) -> list[dict]:
    """The first ``n`` live records of the bench corpus, as canonical records."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.jsonl"
        generate.generate(n, str(path), seed)
        lines = path.read_bytes().splitlines()
    items = parse_lines(lines, ImportSummary())
    return [
        item.record for item in items if not item.names_a_set and not item.record.get("deleted")
    ]


def time_formats(records: list[dict], repeats: int) -> dict[str, float]:
    """The best of ``repeats`` rounds, in µs a record, for each registered format."""
    result = {}
    for prefix, fmt in formats().items():
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            for record in records:
                fmt.render(record)
            best = min(best, time.perf_counter() - started)
        result[prefix] = best / len(records) * 1e6
    return result


def digest(records: list[dict]) -> str:
    """SHA-256 over every rendition of every record, format by format."""
    sha = hashlib.sha256()
    for prefix, fmt in formats().items():
        for record in records:
            sha.update(prefix.encode())
            sha.update(fmt.render(record) or b"-")
    return sha.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--digest", action="store_true")
    args = parser.parse_args(argv)
    records = corpus_records(args.records)
    times = time_formats(records, args.repeats)
    for prefix, micros in times.items():
        print(f"{prefix:14} {micros:7.1f} µs")
    print(f"{'all':14} {sum(times.values()):7.1f} µs  ({len(records)} records)")
    if args.digest:
        print(f"digest {digest(records)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
