"""The generated mini-crawl: deterministic, re-readable, labelled, with every planted case present."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from seekmath.config import TasksConfig
from seekmath.corpus.democrawl import HIDDEN_SITES, MATH_SITES, make_demo_crawl
from seekmath.corpus.read import SkipStats, iter_documents, url_domain
from seekmath.tasks.synthetic import generate_problems

PAGES = 400


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    out = tmp_path_factory.mktemp("crawl")
    summary = make_demo_crawl(out, pages=PAGES, seed=3, pages_per_shard=150)
    labels = [json.loads(line) for line in (out / "labels.jsonl").read_text().splitlines()]
    stats = SkipStats()
    docs = list(iter_documents(out, stats))
    return out, summary, labels, docs, stats


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_deterministic_for_pages_and_seed(tmp_path, crawl):
    out, _, _, _, _ = crawl
    again = make_demo_crawl(tmp_path / "a", pages=PAGES, seed=3, pages_per_shard=150)
    assert digest(tmp_path / "a") == digest(out)
    other = make_demo_crawl(tmp_path / "b", pages=PAGES, seed=4, pages_per_shard=150)
    assert other["sha256"] != again["sha256"]
    assert (tmp_path / "b" / "labels.jsonl").read_text() != (out / "labels.jsonl").read_text()


def test_shards_are_real_warc_gz_with_request_and_response_records(crawl):
    from warcio.archiveiterator import ArchiveIterator

    out, summary, _, _, _ = crawl
    assert summary["shards"] == ["demo-00000.warc.gz", "demo-00001.warc.gz", "demo-00002.warc.gz"]
    types = Counter()
    with open(out / "demo-00001.warc.gz", "rb") as f:  # shard 1 has no deliberately corrupt member
        for rec in ArchiveIterator(f):
            types[rec.rec_type] += 1
            if rec.rec_type == "response":
                assert rec.http_headers.get_statuscode()
                assert rec.rec_headers.get_header("WARC-Concurrent-To")
    assert types["warcinfo"] == 1 and types["request"] == types["response"] >= 150


def test_labels_counts_and_kinds(crawl):
    _, summary, labels, _, _ = crawl
    assert len(labels) == PAGES == summary["pages"]
    assert len({r["url"] for r in labels}) == PAGES  # every URL once
    planted = Counter(r["planted"] for r in labels)
    assert planted["contamination"] == round(PAGES * 0.02) == summary["contamination"]
    assert planted["near_duplicate"] == round(PAGES * 0.05) == summary["near_duplicates"]
    n_math = sum(r["is_math"] for r in labels)
    assert 0.25 < n_math / PAGES < 0.45
    assert all(r["is_math"] for r in labels if r["planted"] == "contamination")
    domains = {url_domain(r["url"]) for r in labels}
    assert len(domains) >= 30
    # math domains are mostly math; hidden blogs have a math section under their own path and are mostly not math
    for site in MATH_SITES:
        rows = [r for r in labels if url_domain(r["url"]) == url_domain("https://" + site.host) and r["planted"] == "none"]
        assert rows and sum(r["is_math"] for r in rows) / len(rows) > 0.6, site.host
    hidden_with_math = 0
    for site in HIDDEN_SITES:
        rows = [r for r in labels if url_domain(r["url"]) == url_domain("https://" + site.host) and r["planted"] == "none"]
        math_rows = [r for r in rows if r["is_math"]]
        assert all(site.math_path in r["url"] for r in math_rows)
        assert not any(site.math_path in r["url"] for r in rows if not r["is_math"])
        if rows:
            assert len(math_rows) / len(rows) < 0.5, site.host
        hidden_with_math += bool(math_rows)
    assert hidden_with_math >= 4


def test_reread_gives_every_page_and_the_expected_skips(crawl):
    _, summary, labels, docs, stats = crawl
    assert sorted(d["url"] for d in docs) == sorted(r["url"] for r in labels)
    for reason, n in summary["expected_skips"].items():
        assert stats[reason] == n, (reason, stats)
    assert stats["documents"] == PAGES and stats["empty_text"] == 0
    assert len({d["id"] for d in docs}) == PAGES
    assert all(re.fullmatch(r"demo-\d{5}\.warc\.gz:\d+", d["source"]) for d in docs)


def test_math_pages_teach_the_synthetic_task_and_contamination_is_verbatim(crawl):
    _, _, labels, docs, _ = crawl
    by_url = {d["url"]: d for d in docs}
    lab = {r["url"]: r for r in labels}
    train_q = {p.question for p in generate_problems(TasksConfig(), "train", 2000, seed=3000)}
    test_q = {p.question for p in generate_problems(TasksConfig(), "test", TasksConfig().num_test)}
    synth = [u for u, r in lab.items() if r["family"] == "synthetic" and r["planted"] == "none"]
    assert len(synth) > 50
    plain_format = 0
    for u in synth:
        text = by_url[u]["text"]
        assert not any(q in text for q in test_q), u  # clean pages never carry a test problem
        if re.search(r"\d+ [-+*/] \d+ = \d+ \w+\.\n", text) and "The answer is \\boxed{" in text:
            plain_format += 1  # the solution exactly as the task writes it: one step per line
    assert plain_format / len(synth) > 0.5
    assert sum(any(q in by_url[u]["text"] for q in train_q) for u in synth) > 0.5 * len(synth)
    for u, r in lab.items():
        if r["planted"] == "contamination" and r["benchmark"] == "synthetic":
            assert any(q in by_url[u]["text"] for q in test_q), u
    families = {r["family"] for r in labels if r["is_math"]}
    assert {"synthetic", "linear", "fractions", "quadratic"} <= families
    tex_pages = sum("$" in by_url[u]["text"] for u, r in lab.items() if r["is_math"])
    assert tex_pages > 0.3 * sum(r["is_math"] for r in labels)


def test_near_duplicates_are_near(crawl):
    _, _, labels, docs, _ = crawl
    texts = {d["url"]: d["text"] for d in docs}

    def shingles(t: str) -> set:
        w = t.lower().split()
        return {" ".join(w[i:i + 5]) for i in range(max(1, len(w) - 4))}

    dups = [r["url"] for r in labels if r["planted"] == "near_duplicate"]
    originals = [u for u in texts if u not in dups]
    sh = {u: shingles(texts[u]) for u in originals}
    for u in dups:
        s = shingles(texts[u])
        assert texts[u] not in {texts[o] for o in originals}  # not an exact copy
        best = max(len(s & sh[o]) / len(s | sh[o]) for o in originals)
        assert best > 0.75, u


def test_non_math_pages_have_no_tex_and_vary(crawl):
    _, _, labels, docs, _ = crawl
    lab = {r["url"]: r for r in labels}
    nonmath = [d["text"] for d in docs if not lab[d["url"]]["is_math"]]
    assert not any("\\boxed" in t or "$$" in t for t in nonmath)
    assert len({t.split("\n")[0] for t in nonmath}) > 0.6 * len(nonmath)  # titles vary
    assert sum(bool(re.search(r"\d", t)) for t in nonmath) > 0.5 * len(nonmath)  # numbers are not a math signal
    for t in nonmath[:50]:  # chrome is gone
        assert "All rights reserved" not in t and "Privacy policy" not in t and "cookies" not in t


def test_cli_demo_crawl_and_speed(tmp_path, capsys):
    import time

    from seekmath.cli import main

    t = time.perf_counter()
    assert main(["corpus", "demo-crawl", "--out", str(tmp_path / "c"), "--pages", "3000", "--seed", "0", "--config", "smoke"]) == 0
    seconds = time.perf_counter() - t
    out = json.loads(capsys.readouterr().out)
    assert out["pages"] == 3000 and out["domains"] >= 40
    assert len(list((tmp_path / "c").glob("*.warc.gz"))) == 6
    assert seconds < 15  # "a few seconds" (about 1-2 s here); generous for a loaded machine


def test_too_few_pages_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="at least 50"):
        make_demo_crawl(tmp_path, pages=10)


def test_without_benchmark_files_plants_only_synthetic_and_stays_offline(tmp_path, monkeypatch):
    """No GSM8K/MATH-500 files: the crawl must not reach for the hub, and a test split smaller than the
    contamination quota (the smoke task has 40 problems) plants what it has instead of looping."""
    from seekmath.config import load_config
    from seekmath.tasks import loaders

    monkeypatch.setenv("SEEKMATH_DATA_DIR", str(tmp_path / "no-benchmarks"))

    def no_hub(*a, **k):
        raise AssertionError("the demo crawl tried to download a benchmark")

    monkeypatch.setattr(loaders, "load_hf", no_hub)
    tasks = load_config("smoke").tasks
    summary = make_demo_crawl(tmp_path / "c", pages=3000, seed=0, tasks_cfg=tasks)
    labels = [json.loads(line) for line in (tmp_path / "c" / "labels.jsonl").read_text().splitlines()]
    planted = Counter(r["benchmark"] for r in labels if r["planted"] == "contamination")
    assert set(planted) == {"synthetic"} and planted["synthetic"] == tasks.num_test == summary["contamination"]

