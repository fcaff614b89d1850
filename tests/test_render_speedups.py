"""The format builders were rewritten for speed: not one output byte may have changed.

The expected digests were computed from the builders as they were before the rewrite
(commit 9615ef9), over a few hundred records of the benchmark corpus and variations of
them that reach the builders' rarer branches (other languages and scripts, no journal,
odd pages, every kind of access and licence). A digest that changes means a rendition
changed: find out why before touching the digest.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest

from bench import generate
from oai.formats import formats
from oai.protocol.rendering import ProtocolRenderer
from records.lines import ImportSummary, parse_lines

EXAMPLE = Path(__file__).resolve().parents[1] / "records" / "examples" / "article-587.jsonl"

EXPECTED = {
    "oai_dc": "1280bf64aca387ffe229caf3cb79646d961bab95091d0a932cc5d0cea681e2dd",
    "marcxml": "52c06967bfe28d1e28ac5304e74d9bba1a692012b9dcadd5dc68f99c52f692c0",
    "mods": "7193ec594981d29ab1ea01da0371012c6aa195b31980e1faee567e8d5c1d9bb6",
    "datacite": "02cc2181b14080493d74b34b05b7e6b2882c1f186a79bc515d602ad418331785",
    "oai_openaire": "3839c74bd0ff0b87fa7818f5f9a19f9aa335da9ea900fb764cd0e02a397880c9",
    "jats": "c7853c0f93e8e9ea32db4e5dc2476c73bffb09f0cbc70f9a41dc5b6e04c35a5f",
}

_VARIATIONS: list[dict[str, Any]] = [
    {"language": "ru", "title": "Центральная Азия и Китай", "keywords": ["Китай", "Asia"]},
    {"language": "fr", "title": "L’eau et la terre"},
    {"language": "de", "title": "Der Weg"},
    {"language": "pt-BR", "title": "O Brasil"},
    {"language": "zh", "title": "中国与中亚"},
    {"language": None},
    {"journal": None, "volume": None, "issue": None, "pages": None},
    {"journal": {"title": "Only a title"}},
    {"journal": {"eissn": "2049-3630", "title": "Online only"}},
    {"pages": "pp. 5, 7"},
    {"pages": "xii"},
    {"pages": "61 – 70"},
    {"pages": "e1234"},
    {"authors": []},
    {"abstract": "First paragraph.\n\nSecond   paragraph\nwith a break."},
    {"abstract": None, "keywords": [], "references": []},
    {"doi": None},
    {"doi": "10.1002/(SICI)1097-4636(199812)43:4<441::AID-JBM5>3.0.CO;2-G"},
    {"type": "review article", "version": "accepted"},
    {"type": "editorial", "version": "submitted"},
    {"rights": {"access": "closed", "statement": "All rights reserved", "year": 2001}},
    {"rights": {"access": "restricted", "holder": "A Publisher"}},
    {"rights": {"access": "embargoed", "embargo_until": "2999-01-01", "license": None}},
    {"rights": {"access": "embargoed", "embargo_until": "2001-01-01"}},
    {"rights": {"access": "open", "license": "https://creativecommons.org/publicdomain/zero/1.0/"}},
    {"rights": {"access": "open", "license_name": "Our own licence"}},
    {"rights": {"access": "open", "license": "https://example.org/licence"}},
    {"title": "A title  with\tspaces and <markup> & ampersands"},
    {"files": []},
    {"files": [{"url": "https://example.org/a.pdf"}, {"url": "https://example.org/b.xml"}]},
]


def _raw_records() -> list[dict[str, Any]]:
    """300 corpus records, each variation applied to some of them, and the example."""
    gen = generate.Generator(300, seed=7)
    rng = random.Random(7)
    records = [gen.record(i) for i in range(1, 301)]
    records = [r for r in records if not r.get("deleted")]
    varied = []
    for number, variation in enumerate(_VARIATIONS):
        for base in rng.sample(records, 3):
            record = copy.deepcopy(base)
            record["id"] = f"{base['id']}/v{number}"
            for key, value in variation.items():
                if key == "rights":
                    record["rights"] = {k: v for k, v in value.items() if v is not None}
                else:
                    record[key] = value
            varied.append(record)
    example = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return [*records, *varied, example]


def canonical_records() -> list[dict[str, Any]]:
    summary = ImportSummary()
    lines = [json.dumps(record) for record in _raw_records()]
    items = list(parse_lines(lines, summary))
    assert summary.rejected == 0, summary.errors
    return [item.record for item in items]


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return canonical_records()


def digest(prefix: str, records: list[dict[str, Any]]) -> str:
    render = formats()[prefix].render
    sha = hashlib.sha256()
    for record in records:
        sha.update((render(record) or b"(none)") + b"\0")
    return sha.hexdigest()


@pytest.mark.parametrize("prefix", list(EXPECTED))
def test_every_rendition_is_byte_for_byte_what_it_was(prefix, records):
    assert digest(prefix, records) == EXPECTED[prefix]


def test_the_renderer_renders_each_chosen_format_in_registry_order(records):
    renderer = ProtocolRenderer("example.org", formats(["jats", "oai_dc", "mods"]))
    for record in records[:20]:
        assert [prefix for prefix, _, _ in renderer.metadata(record)] == [
            prefix
            for prefix, fmt in formats().items()
            if prefix in ("oai_dc", "mods", "jats") and fmt.render(record) is not None
        ]


if __name__ == "__main__":  # prints the digests of the builders as they are now
    for prefix in EXPECTED:
        print(f'    "{prefix}": "{digest(prefix, canonical_records())}",')
