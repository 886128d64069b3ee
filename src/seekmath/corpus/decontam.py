"""Benchmark decontamination, the DeepSeekMath rule (paper §2.1, spec §1.6; follows DeepSeek-Coder).

* Rule 1: a document is removed if it contains any 10-gram that occurs in a benchmark text.
* Rule 2: a benchmark text shorter than 10 grams but of at least 3 grams is matched exactly: a
  document containing it (as a contiguous gram sequence) is removed.

The paper leaves the gram unit and normalisation open. Here (`grams`): NFKC, lower-case; a gram is a
run of letters/digits (punctuation and LaTeX syntax are separators, so `$48.` matches `48`), and every
CJK character is a gram of its own (Chinese has no spaces; CMATH and Gaokao are Chinese). Whole
documents are removed (the paper's "segment" granularity is unspecified; datatrove does the same).

Templated benchmarks (the generated `synthetic` task) are matched as WHOLE texts only: its train and
test splits come from the same sentence templates, so most train-split pages share some 10-gram with
some test item ("... buys 41 more coins how many coins does ines have now") although no test problem
appears in them — on the demo crawl the 10-gram rule flagged ~70% of clean pages. A test item whose
entire question or solution appears in a page is still caught.

An n-gram made of numbers only (`1 2 3 … 10`) is no evidence and is not indexed: through MATH-500's
"1 + 2 + 3 + … + 12" it matched the line-number columns of 47 clean documentation pages of a real
crawl (the question's other 10-grams, with words, still catch a page that copies it).

Benchmark texts are each item's question and its dataset answer text (`Problem.solution`, e.g. GSM8K's
`answer` field); `"answer"` (the short final answer) can be added via `fields`, but short answers like
`\\frac{1}{2}` would then remove every page that contains that fraction.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("seekmath.corpus")

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_GRAM = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+", re.UNICODE)


def grams(text: str) -> list[str]:
    """Normalised grams: letter/digit runs, and single CJK characters.

    >>> grams("Tom has 3 apples.")
    ['tom', 'has', '3', 'apples']
    >>> grams("小明有3个苹果")
    ['小', '明', '有', '3', '个', '苹', '果']
    """
    return _GRAM.findall(unicodedata.normalize("NFKC", text).lower())


@dataclass
class DecontamIndex:
    """n-grams of long benchmark texts (rule 1) and whole short texts by length (rule 2) -> item keys."""

    n: int = 10
    min_n: int = 3
    long: dict[tuple, list[str]] = field(default_factory=dict)
    short: dict[int, dict[tuple, list[str]]] = field(default_factory=dict)
    anchors: dict[tuple, list[tuple[str, tuple]]] = field(default_factory=dict)  # whole-text items >= n grams
    items: int = 0
    too_short: int = 0  # benchmark texts under min_n grams (never matched, as in the paper)
    _by_first: dict | None = field(default=None, repr=False)

    def add(self, key: str, text: str, whole: bool = False) -> None:
        """Index one benchmark text. `whole=True` (templated benchmarks) matches only the entire text
        exactly, whatever its length, instead of any of its 10-grams."""
        g = grams(text)
        self.items += 1
        if whole and len(g) >= self.n:
            self.anchors.setdefault(tuple(g[: self.n]), []).append((key, tuple(g)))
        elif len(g) >= self.n:
            for i in range(len(g) - self.n + 1):
                window = tuple(g[i : i + self.n])
                if not all(t.isdigit() for t in window):  # numbers only: a line-number column, a count
                    self.long.setdefault(window, []).append(key)
        elif len(g) >= self.min_n and all(t.isdigit() for t in g):
            self.too_short += 1  # "1 2 3": no evidence either
        elif len(g) >= self.min_n:
            self._by_first = None
            self.short.setdefault(len(g), {}).setdefault(tuple(g), []).append(key)
        else:
            self.too_short += 1

    def hits(self, text: str) -> dict[str, str]:
        """Benchmark item keys hit by a document -> the rule that hit ("ngram" or "exact")."""
        g = grams(text)
        found: dict[str, str] = {}
        if (self.long or self.anchors) and len(g) >= self.n:
            for i in range(len(g) - self.n + 1):
                window = tuple(g[i : i + self.n])
                keys = self.long.get(window)
                if keys:
                    for k in keys:
                        found.setdefault(k, "ngram")
                for k, full in self.anchors.get(window, ()):
                    if tuple(g[i : i + len(full)]) == full:
                        found.setdefault(k, "exact")
        if self.short:
            if self._by_first is None:  # short texts by their first gram: most positions need no check
                self._by_first = {}
                for table in self.short.values():
                    for full, keys in table.items():
                        self._by_first.setdefault(full[0], []).append((full, keys))
            for i, first in enumerate(g):
                for full, keys in self._by_first.get(first, ()):
                    if tuple(g[i : i + len(full)]) == full:
                        for k in keys:
                            found.setdefault(k, "exact")
        return found


def build_index(texts: list[tuple[str, str]], n: int = 10, min_n: int = 3, whole_prefixes: tuple[str, ...] = ()) -> DecontamIndex:
    """Index of (item key, text) pairs; keys starting with one of `whole_prefixes` (e.g. "synthetic_test:")
    are matched as whole texts only (see `DecontamIndex.add`)."""
    if min_n > n:
        raise ValueError(f"decontam_min_ngram ({min_n}) must be <= decontam_ngram ({n})")
    index = DecontamIndex(n=n, min_n=min_n)
    for key, text in texts:
        if text:
            index.add(key, text, whole=key.startswith(tuple(whole_prefixes)) if whole_prefixes else False)
    return index


def benchmark_texts(names: list[str], fields: list[str], tasks_cfg=None, synthetic_test: bool = False) -> tuple[list[tuple[str, str]], dict]:
    """(key, text) pairs of the named benchmarks' items; a benchmark whose file is missing is skipped
    with a warning (never downloaded). Keys are `bench:item-id:field`. Returns (pairs, per-bench counts)."""
    from seekmath.tasks import loaders

    bad = set(fields) - {"question", "solution", "answer"}
    if bad:
        raise ValueError(f"corpus.decontam_fields: unknown field(s) {sorted(bad)} (use question, solution, answer)")
    pairs: list[tuple[str, str]] = []
    counts: dict[str, int | str] = {}
    todo = list(names) + (["synthetic"] if synthetic_test and "synthetic" not in names else [])
    for name in todo:
        if name in loaders.BENCHMARKS:
            if loaders.local_benchmark_file(name) is None:
                log.warning("decontamination: benchmark %r skipped, its file %r was not found (set SEEKMATH_DATA_DIR)",
                            name, loaders.BENCHMARKS[name][0])
                counts[name] = "missing"
                continue
        elif name != "synthetic" and not Path(name).is_file():
            log.warning("decontamination: benchmark %r skipped: neither a known benchmark nor a file", name)
            counts[name] = "missing"
            continue
        probs = loaders.load_problems(name, tasks_cfg=tasks_cfg, split="test")
        label = "synthetic_test" if name == "synthetic" else name
        for p in probs:
            for f in fields:
                text = getattr(p, f, None)
                if text:
                    pairs.append((f"{label}:{p.id}:{f}", str(text)))
        counts[label] = len(probs)
    return pairs, counts
