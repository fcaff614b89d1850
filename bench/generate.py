"""Deterministic synthetic corpus for the harvest benchmark.

``python bench/generate.py N OUT.jsonl [--seed S]`` writes N journal articles in the
JSON Lines import format (shared/conventions/record-format.md), one per line, streaming
with constant memory. The same N and seed always give the same bytes: the only source of
variation is a seeded ``random.Random``, never the clock.

Shape of the corpus (sizes are averages):

* ids ``article/1`` .. ``article/N``; about 1% of lines are tombstones
  ``{"id", "deleted": true, "sets", "datestamp"}``;
* ~90-char titles (some in capitals, a few with ``&`` or ``<`` to exercise escaping),
  1-4 authors (some with an ORCID with a valid ISO 7064 mod 11-2 check digit, some with
  an affiliation), ~1,500-char abstracts, 0-6 keywords, 20 references;
* 10 journals (valid ISSN check digits) and 20 setSpecs: ``j01`` .. ``j10`` and the
  hierarchical ``j01:ART`` .. ``j10:ART``; every record is in its journal set and about
  half are also in the journal's ``ART`` set;
* published dates over 2005-2024 at mixed precision; about half have a DOI;
* rights: mostly CC BY 4.0 and open, some embargoed, some restricted;
* datestamps ``YYYY-MM-DDThh:mm:ssZ`` spread over 20 years, in random order; 5% of the
  records fall on "batch" seconds shared by ~100 records each, so that a page boundary
  often falls inside a run of equal datestamps (keyset ties).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

DEFAULT_SEED = 20240601

#: 2005-01-01T00:00:00Z and a span of 20 years, in seconds.
EPOCH_START = 1104537600
SPAN = 20 * 365 * 86400 + 5 * 86400

WORDS = """
analysis approach assessment behaviour boundary capacity case change climate community
comparative conflict context cooperation corpus critical cultural data design development
dynamics economic education effect empirical energy environment evaluation evidence
evolution experimental factor framework functional governance growth health historical
identity impact implementation inequality infrastructure institutional integration
interaction knowledge labour landscape language learning legal market measurement memory
method migration model network observation organisation pattern performance perspective
policy political population practice process production quality regional regulation
relation resilience resource response risk rural security social society spatial stability
strategy structure study system technology theory transformation transition trend urban
validation variation water welfare adaptive agricultural algorithmic archival bilateral
clinical cognitive computational contemporary cross-border digital discursive distributed
ecological electoral ethnographic european federal financial global hybrid industrial
informal international linguistic local longitudinal maritime medieval metropolitan
municipal national neural nonlinear numerical post-soviet qualitative quantitative
reflexive religious scalable seasonal sectoral semantic soviet statistical structural
sustainable territorial theoretical thermal transnational upland
""".split()

FILLER = """
the of and in to for with on by from as that this which between within across under
towards among through is are was were be has have can may these their its an a
""".split()

TITLE_HEADS = """
Towards Rethinking Assessing Mapping Modelling Understanding Measuring Revisiting
Explaining Comparing Reconsidering Governing Tracing Evaluating Negotiating
""".split()

FAMILY = """
Mukimdzhanova Smith Müller García Rossi Dubois Kowalski Nakamura Chen Wang Li Zhang
Ivanov Petrova Novák Horváth Jensen Østergaard Andersson Nieminen O'Brien MacLeod
Fernández Silva Santos Costa Papadopoulos Yılmaz Kaya Haddad Okafor Mensah Abebe
Kim Park Nguyen Tran Sato Suzuki Tanaka Gupta Sharma Iyer Khan Ahmed Rahman Schmidt
Schneider Fischer Weber Wagner Becker Hoffmann Lefèvre Moreau Girard Bianchi Romano
Conti Esposito Janssen deVries Bakker Visser Novak Kovač Popescu Ionescu Dimitrov
Georgiev Baker Taylor Brown Wilson Evans Thomas Roberts Walker Wright Thompson White
""".split()

GIVEN = """
R. A. M. J. K. S. T. L. E. D. Anna Maria Jan Pierre Sofia Lucas Mateo Aiko Wei Olga
Ivan Nikolai Fatima Omar Amina Kwame Chidi Ji-woo Minh Hiroshi Priya Arjun Sara Lars
Ingrid Mikko Seán Hélène Zoë José Ana Luís Eleni Giorgos Elif Mehmet Nadia Tomás
Katarzyna Piotr Eva Petr Dorottya Ágnes Björn Astrid Rafael Beatriz
""".split()

AFFILIATIONS = [
    "University of Tartu",
    "Nazarbayev University",
    "Charles University",
    "KU Leuven",
    "University of Bologna",
    "Sorbonne Université",
    "Universidad de Chile",
    "University of Cape Town",
    "Kyoto University",
    "Tsinghua University",
    "Indian Institute of Science",
    "University of Toronto",
    "Leibniz Institute",
    "Institute of Oriental Studies, Russian Academy of Sciences",
    "Uppsala University",
    "University of Nairobi",
    "Universidade de São Paulo",
    "Aalto University",
]

KEYWORDS = """
cooperation;security;energy policy;Central Asia;migration;climate adaptation;
regional integration;water management;higher education;public health;trade;
governance;digital economy;language policy;urbanisation;agriculture;
post-Soviet studies;China;European Union;social networks;machine learning;
archaeology;heritage;labour markets;inequality;transport;tourism;religion;
media;elections
""".replace("\n", "").split(";")

PUBLISHERS = [
    "CA&CC Press",
    "Example University Press",
    "Open Scholarly Publishing",
    "Institute for Regional Studies",
    "Nordic Academic Press",
]

#: Content words with function words mixed in (about one in four).
POOL = WORDS + FILLER * 2

LANGUAGES = ["en"] * 18 + ["fr", "de", "ru", "es"]

CC_BY = (
    "https://creativecommons.org/licenses/by/4.0/",
    "Creative Commons Attribution 4.0 International",
)
CC_BY_NC = (
    "https://creativecommons.org/licenses/by-nc/4.0/",
    "Creative Commons Attribution-NonCommercial 4.0 International",
)


def orcid_check_digit(base15: str) -> str:
    """ISO 7064 mod 11-2 check character of the first 15 ORCID digits."""
    total = 0
    for ch in base15:
        total = (total + int(ch)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def make_orcid(rng: random.Random) -> str:
    base = "0000000" + "".join(str(int(rng.random() * 10)) for _ in range(8))
    full = base + orcid_check_digit(base)
    return "-".join(full[i : i + 4] for i in range(0, 16, 4))


def issn_check_digit(base7: str) -> str:
    total = sum(int(d) * w for d, w in zip(base7, range(8, 1, -1), strict=True))
    result = (11 - total % 11) % 11
    return "X" if result == 10 else str(result)


def make_issn(rng: random.Random) -> str:
    base = "".join(str(int(rng.random() * 10)) for _ in range(7))
    full = base + issn_check_digit(base)
    return full[:4] + "-" + full[4:]


def make_journals(rng: random.Random) -> list[dict]:
    subjects = [
        "Central Asia and the Caucasus",
        "Regional Studies",
        "Environmental Policy",
        "Comparative Linguistics",
        "Urban Dynamics",
        "Public Health Review",
        "Energy Transitions",
        "Medieval History",
        "Computational Social Science",
        "Agricultural Economics",
    ]
    journals = []
    for n, subject in enumerate(subjects, start=1):
        title = subject if n == 1 else f"Journal of {subject}"
        journals.append(
            {
                "spec": f"j{n:02d}",
                "abbr": "".join(w[0] for w in title.split() if w[0].isupper()).lower(),
                "prefix": f"10.{5000 + 137 * n}",
                "journal": {
                    "title": title,
                    "issn": make_issn(rng),
                    "eissn": make_issn(rng) if rng.random() < 0.6 else None,
                    "publisher": PUBLISHERS[n % len(PUBLISHERS)],
                },
            }
        )
    return journals


def set_specs() -> list[str]:
    """The 20 setSpecs used by the corpus."""
    return [f"j{n:02d}" for n in range(1, 11)] + [f"j{n:02d}:ART" for n in range(1, 11)]


class Generator:
    """Makes record dicts one at a time; all randomness comes from one seeded RNG."""

    def __init__(self, n: int, seed: int = DEFAULT_SEED) -> None:
        self.n = n
        self.rng = random.Random(seed)
        self.journals = make_journals(self.rng)
        # Text is composed from pools drawn once from the same RNG: drawing every word
        # of every record costs ~3x more time and changes nothing the benchmark sees.
        # (Real corpora repeat references too: commonly cited works.)
        self.phrases = [self._words(3 + int(self.rng.random() * 2)) for _ in range(2048)]
        self.sentences = []
        for _ in range(4096):
            s = self._words(12 + int(self.rng.random() * 14))
            self.sentences.append(s[0].upper() + s[1:] + ".")
        self.references = [self._reference() for _ in range(16384)]
        batches = max(1, n // 2000)
        self.batch_seconds = [EPOCH_START + int(self.rng.random() * SPAN) for _ in range(batches)]

    # -- small helpers -------------------------------------------------------------------

    def _pick(self, seq: list):
        return seq[int(self.rng.random() * len(seq))]

    def _words(self, k: int) -> str:
        return " ".join(self.rng.choices(POOL, k=k))

    def _datestamp(self) -> str:
        rng = self.rng
        if rng.random() < 0.05:
            t = self.batch_seconds[int(rng.random() * len(self.batch_seconds))]
        else:
            t = EPOCH_START + int(rng.random() * SPAN)
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))

    def _sets(self, journal: dict) -> list[str]:
        if self.rng.random() < 0.5:
            return [journal["spec"], journal["spec"] + ":ART"]
        return [journal["spec"]]

    def _title(self) -> str:
        rng = self.rng
        title = (
            f"{self._pick(TITLE_HEADS)} {self._pick(self.phrases)} "
            f"{self._pick(self.phrases)}: {self._pick(self.phrases)}"
        )
        r = rng.random()
        if r < 0.02:
            title += " & beyond"
        elif r < 0.03:
            title += " (p < 0.05)"
        if rng.random() < 0.15:
            return title.upper()
        return title[0].upper() + title[1:]

    def _abstract(self) -> str:
        rng = self.rng
        target = 1300 + int(rng.random() * 400)
        picked = []
        length = 0
        sentences = self.sentences
        while length < target:
            s = sentences[int(rng.random() * len(sentences))]
            picked.append(s)
            length += len(s) + 1
        return " ".join(picked)

    def _authors(self) -> list[dict]:
        rng = self.rng
        authors = []
        for _ in range(1 + int(rng.random() * 4)):
            authors.append(
                {
                    "family": self._pick(FAMILY),
                    "given": self._pick(GIVEN),
                    "orcid": make_orcid(rng) if rng.random() < 0.3 else None,
                    "affiliation": self._pick(AFFILIATIONS) if rng.random() < 0.5 else None,
                }
            )
        return authors

    def _reference(self) -> str:
        rng = self.rng
        year = 1970 + int(rng.random() * 55)
        p1 = 1 + int(rng.random() * 300)
        ref = (
            f"{self._pick(FAMILY)}, {self._pick(GIVEN)[0]}. ({year}). "
            f"{self._words(8).capitalize()}. {self._pick(self.journals)['journal']['title']}, "
            f"{1 + int(rng.random() * 40)}({1 + int(rng.random() * 6)}), "
            f"{p1}-{p1 + 5 + int(rng.random() * 30)}."
        )
        if rng.random() < 0.3:
            ref += f" https://doi.org/10.{1000 + int(rng.random() * 9000)}/{year}.{p1}"
        return ref

    def _published(self) -> tuple[str, int, int, int]:
        rng = self.rng
        year = 2005 + int(rng.random() * 20)
        month = 1 + int(rng.random() * 12)
        day = 1 + int(rng.random() * 28)
        r = rng.random()
        if r < 0.2:
            text = f"{year}"
        elif r < 0.4:
            text = f"{year}-{month:02d}"
        else:
            text = f"{year}-{month:02d}-{day:02d}"
        return text, year, month, day

    def _rights(self, year: int, month: int, day: int, authors: list[dict], journal: dict) -> dict:
        rng = self.rng
        r = rng.random()
        holder = (
            authors[0]["family"]
            if rng.random() < 0.5 and authors
            else journal["journal"]["publisher"]
        )
        if r < 0.90:
            access, embargo = "open", None
        elif r < 0.96:
            access = "embargoed"
            m = month - 1 + 6 + int(rng.random() * 24)
            embargo = f"{year + m // 12}-{m % 12 + 1:02d}-{day:02d}"
        else:
            access, embargo = "restricted", None
        if access == "restricted":
            licence, licence_name = None, None
        elif rng.random() < 0.9:
            licence, licence_name = CC_BY
        else:
            licence, licence_name = CC_BY_NC
        return {
            "license": licence,
            "license_name": licence_name,
            "statement": f"Copyright (c) {year} {holder}",
            "holder": holder,
            "year": year,
            "access": access,
            "embargo_until": embargo,
        }

    # -- records -------------------------------------------------------------------------

    def record(self, i: int) -> dict:
        """The record for ``article/{i}``; call with i = 1, 2, ... in order."""
        rng = self.rng
        journal = self._pick(self.journals)
        if rng.random() < 0.01:
            return {
                "id": f"article/{i}",
                "deleted": True,
                "sets": self._sets(journal),
                "datestamp": self._datestamp(),
            }
        published, year, month, day = self._published()
        authors = self._authors()
        volume = year - 2004
        issue = 1 + int(rng.random() * 4)
        first = 1 + int(rng.random() * 200)
        keywords = rng.sample(KEYWORDS, int(rng.random() * 7))
        doi = None
        if rng.random() < 0.5:
            doi = f"{journal['prefix']}/{journal['abbr']}.v{volume}i{issue}.{i}"
        return {
            "id": f"article/{i}",
            "title": self._title(),
            "language": self._pick(LANGUAGES),
            "authors": authors,
            "abstract": self._abstract(),
            "keywords": keywords,
            "journal": journal["journal"],
            "volume": str(volume),
            "issue": str(issue),
            "pages": f"{first}-{first + 4 + int(rng.random() * 25)}",
            "published": published,
            "doi": doi,
            "url": f"https://journals.example.org/article/view/{i}",
            "files": [
                {
                    "url": f"https://journals.example.org/article/download/{i}/{3 * i + 1}",
                    "mime_type": "application/pdf",
                    "label": "PDF",
                }
            ],
            "references": rng.choices(self.references, k=20),
            "rights": self._rights(year, month, day, authors, journal),
            "sets": self._sets(journal),
            "deleted": False,
            "datestamp": self._datestamp(),
        }


def generate(n: int, out_path: str, seed: int = DEFAULT_SEED) -> None:
    """Write ``n`` records to ``out_path`` (atomically: a temporary file is renamed)."""
    gen = Generator(n, seed)
    tmp = f"{out_path}.tmp{os.getpid()}"
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as fh:
            chunk: list[str] = []
            for i in range(1, n + 1):
                chunk.append(dumps(gen.record(i)))
                if len(chunk) >= 1000:
                    fh.write("\n".join(chunk) + "\n")
                    chunk.clear()
            if chunk:
                fh.write("\n".join(chunk) + "\n")
        os.replace(tmp, out_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of records")
    parser.add_argument("out", help="output .jsonl path")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("N must be positive")
    started = time.perf_counter()
    generate(args.n, args.out, args.seed)
    elapsed = time.perf_counter() - started
    size = os.path.getsize(args.out)
    print(
        f"wrote {args.n} records, {size / 1e6:.1f} MB, to {args.out} in {elapsed:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
