"""`seekmath corpus build` end to end on the generated demo crawl: quality against its labels, the stats/report
contract, `--engine ray` == `--engine local` byte for byte, and kill-then-resume == uninterrupted."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seekmath.cli import main as cli_main
from seekmath.config import load_config
from seekmath.corpus.democrawl import make_demo_crawl

STATS_KEYS = {"documents_in", "documents_out", "tokens_out", "iterations", "stopped_by", "math_domains",
              "near_duplicates_removed", "contaminated_removed", "skipped", "precision", "recall", "contamination_recall"}


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    out = tmp_path_factory.mktemp("crawl")
    make_demo_crawl(out, pages=300, seed=0, tasks_cfg=load_config("smoke").tasks)
    return out


@pytest.fixture(scope="module")
def local_build(crawl, tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    rc = cli_main(["corpus", "build", "--config", "smoke", "--input", str(crawl), "--out", str(out),
                   "--labels", str(crawl / "labels.jsonl")])
    assert rc == 0
    return out


def _corpus_bytes(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "corpus").iterdir())}


def _math_domains_from_labels(crawl: Path, threshold: float = 0.10) -> set[str]:
    from seekmath.corpus.dedup import domain_of

    pages: dict[str, list[bool]] = {}
    for r in map(json.loads, (crawl / "labels.jsonl").read_text().splitlines()):
        if r["planted"] == "none":
            pages.setdefault(domain_of(r["url"]), []).append(r["is_math"])
    return {d for d, v in pages.items() if len(v) >= 5 and sum(v) / len(v) > threshold}


def test_build_smoke_quality_and_contract(local_build, crawl):
    stats = json.loads((local_build / "stats.json").read_text())
    assert STATS_KEYS <= set(stats)
    assert stats["documents_in"] > 250 and stats["documents_out"] > 0
    assert stats["precision"] >= 0.95 and stats["recall"] >= 0.95
    assert stats["contamination_recall"] == 1.0 and stats["clean_pages_flagged_contaminated"] == 0
    assert stats["near_duplicate_recall"] >= 0.9
    assert stats["stopped_by"] == "overlap"
    assert stats["skipped"].get("non_html", 0) > 0  # the crawl's unreadable records were counted, not read
    # the loop found the math domains (those whose labelled pages are > 10% math)
    assert _math_domains_from_labels(crawl) <= set(stats["math_domains"])
    rows = [json.loads(line) for p in sorted((local_build / "corpus").glob("*.jsonl.gz")) for line in gzip.open(p, "rt")]
    assert len(rows) == stats["documents_out"]
    assert set(rows[0]) == {"id", "url", "domain", "text", "score", "iteration"}
    assert all(r["score"] >= 0.5 and r["iteration"] >= 1 for r in rows)
    report = (local_build / "report.md").read_text()
    assert "iterations.png" in report and (local_build / "iterations.png").stat().st_size > 1000
    assert (local_build / "iter1_domains.png").is_file()
    assert (local_build / "work" / "recall" / "iter1" / "paths.tsv").read_text().startswith("domain\tprefix")
    metrics = [json.loads(x) for x in (local_build / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == list(range(1, stats["iterations"] + 1))
    assert (local_build / "config.yaml").is_file()
    hits = [json.loads(x) for x in (local_build / "decontamination.jsonl").read_text().splitlines()]
    assert hits and all(h["documents"] for h in hits)


def test_ray_engine_is_byte_identical(local_build, crawl, tmp_path):
    rc = cli_main(["corpus", "build", "--config", "smoke", "--input", str(crawl), "--out", str(tmp_path),
                   "--engine", "ray"])
    assert rc == 0
    assert _corpus_bytes(tmp_path) == _corpus_bytes(local_build)
    a, b = (json.loads((d / "stats.json").read_text()) for d in (local_build, tmp_path))
    assert a["per_iteration"] == b["per_iteration"] and b["engine"] == "ray"


def test_killed_run_resumes_to_identical_output(local_build, crawl, tmp_path):
    cmd = [sys.executable, "-m", "seekmath", "corpus", "build", "--config", "smoke", "--input", str(crawl),
           "--out", str(tmp_path), "--labels", str(crawl / "labels.jsonl")]
    env = dict(os.environ, SEEKMATH_CORPUS_KILL_AFTER="score-iter2:1")
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 137, r.stderr[-2000:]
    assert not (tmp_path / "stats.json").exists()
    done_ingest = {p: p.stat().st_mtime_ns for p in (tmp_path / "work" / "docs").glob("*.jsonl.gz")}
    model1 = (tmp_path / "work" / "recall" / "iter1" / "model.bin").stat().st_mtime_ns
    env.pop("SEEKMATH_CORPUS_KILL_AFTER")
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert _corpus_bytes(tmp_path) == _corpus_bytes(local_build)
    assert {p: p.stat().st_mtime_ns for p in done_ingest} == done_ingest  # finished shards never redone
    assert (tmp_path / "work" / "recall" / "iter1" / "model.bin").stat().st_mtime_ns == model1
    a, b = (json.loads((d / "stats.json").read_text()) for d in (local_build, tmp_path))
    for k in ("documents_out", "tokens_out", "precision", "recall", "per_iteration"):
        assert a[k] == b[k]


def test_bad_inputs(tmp_path):
    from seekmath.corpus.pipeline import build_corpus

    cfg = load_config("smoke")
    with pytest.raises(FileNotFoundError):
        build_corpus(cfg, [str(tmp_path / "nope")], tmp_path / "out", progress=False)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "labels.jsonl").write_text("")
    with pytest.raises(FileNotFoundError, match="no crawl files"):
        build_corpus(cfg, [str(tmp_path / "in")], tmp_path / "out", progress=False)
    with pytest.raises(ValueError, match="unknown engine"):
        (tmp_path / "in" / "a.jsonl").write_text(json.dumps({"url": "https://a.org/x", "text": "hello world"}) + "\n")
        build_corpus(cfg, [str(tmp_path / "in")], tmp_path / "out", engine="spark", progress=False)


@pytest.mark.slow
def test_demo_crawl_3000_pages_tiny(tmp_path):
    """The issue's must-show numbers on the default 3000-page demo crawl with the tiny config (~1 min)."""
    cfg = load_config("tiny")
    make_demo_crawl(tmp_path / "crawl", pages=3000, seed=0, tasks_cfg=cfg.tasks)
    from seekmath.corpus.pipeline import build_corpus

    stats = build_corpus(cfg, [str(tmp_path / "crawl")], tmp_path / "out", labels=str(tmp_path / "crawl" / "labels.jsonl"),
                         progress=False)
    assert stats["precision"] >= 0.95 and stats["recall"] >= 0.95
    assert stats["stopped_by"] == "overlap"
    assert stats["contamination_recall"] == 1.0 and stats["clean_pages_flagged_contaminated"] == 0
    assert stats["near_duplicate_recall"] >= 0.9
    assert _math_domains_from_labels(tmp_path / "crawl") <= set(stats["math_domains"])
    assert stats["per_iteration"][0]["documents"] < stats["per_iteration"][-1]["documents"]  # the loop widened recall


def test_parquet_output_step(tmp_path):
    import pyarrow.parquet as pq

    from seekmath.corpus.pipeline import step_write, write_jsonl_gz

    docs = [{"id": f"d{i}", "url": f"https://a.org/{i}", "domain": "a.org", "text": f"page {i}", "source": "x"} for i in range(4)]
    write_jsonl_gz(tmp_path / "shard.jsonl.gz", docs)
    (tmp_path / "sel.json").write_text(json.dumps({"rows": [1, 3], "scores": [0.9, 0.75], "iterations": [1, 2]}))
    res = step_write({"shard": str(tmp_path / "shard.jsonl.gz"), "selection": str(tmp_path / "sel.json"), "format": "parquet",
                      "out": str(tmp_path / "out.parquet")})
    assert res == {"documents": 2, "tokens": 4}
    rows = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert rows == [{"id": "d1", "url": "https://a.org/1", "domain": "a.org", "text": "page 1", "score": 0.9, "iteration": 1},
                    {"id": "d3", "url": "https://a.org/3", "domain": "a.org", "text": "page 3", "score": 0.75, "iteration": 2}]


def test_seed_sources(tmp_path):
    from seekmath.corpus.pipeline import seed_prefix_key, seed_texts

    assert seed_prefix_key("https://www.MathAnswers.net/questions/") == "mathanswers.net/questions/"
    assert seed_prefix_key("mathanswers.net/questions/") == "mathanswers.net/questions/"
    texts = seed_texts("synthetic:5")
    assert len(texts) == 5 and all("\\boxed{" in t for t in texts)
    assert seed_texts("synthetic:5") == texts  # deterministic
    f = tmp_path / "owm.jsonl"
    f.write_text(json.dumps({"id": "a", "url": "https://x.org/1", "text": "$x^2$ is a square"}) + "\n")
    assert seed_texts(str(f)) == ["$x^2$ is a square"]
    # a Hugging Face dataset (here a local folder, as hf:NAME reads the hub the same way), at most `limit` texts
    ds = tmp_path / "owm"
    ds.mkdir()
    (ds / "train.jsonl").write_text("".join(json.dumps({"url": f"https://m.org/{i}", "text": f"page {i}: $x_{i}$"}) + "\n"
                                            for i in range(5)))
    assert seed_texts(f"hf:{ds}", limit=3) == ["page 0: $x_0$", "page 1: $x_1$", "page 2: $x_2$"]
    assert len(seed_texts("synthetic:5", limit=2)) == 2
    with pytest.raises(FileNotFoundError):
        seed_texts(str(tmp_path / "missing.jsonl"))
    with pytest.raises(ValueError, match="synthetic:N"):
        seed_texts("synthetic:many")


def test_reevaluation_keeps_timings_reads_null_planted_and_no_planted_contamination(local_build, crawl, tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(local_build, out)
    before = json.loads((out / "stats.json").read_text())
    # relabelled ground truth next to the shards, under another name: planted null, no contamination rows
    rows = [json.loads(x) for x in (crawl / "labels.jsonl").read_text().splitlines()]
    rows = [dict(r, planted=None) if r["planted"] == "none" else r for r in rows if r["planted"] != "contamination"]
    relabel = tmp_path / "truth.jsonl"
    relabel.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (crawl / "labels-null.jsonl").write_text(relabel.read_text())
    # an override after --input is an override, not an input file (corpus.workers does not change the output)
    rc = cli_main(["corpus", "build", "--config", "smoke", "--input", str(crawl), f"corpus.workers={before['workers']}",
                   "--out", str(out), "--labels", str(relabel)])
    assert rc == 0
    after = json.loads((out / "stats.json").read_text())
    assert after["step_seconds"] == before["step_seconds"] and after["seconds"] == before["seconds"]
    assert after["skipped"] == before["skipped"]  # neither labels file was read as crawl records
    assert after["recall"] == before["recall"] >= 0.95  # planted: null is a plain page, not "not none"
    assert after["contamination_planted"] == 0 and after["contamination_recall"] is None
    assert "n/a (nothing planted)" in (out / "report.md").read_text()
    for k in ("ingest_documents_per_second_per_core", "documents_per_second_per_core", "build_documents_per_second"):
        assert after[k] > 0
    assert after["step_seconds"]["recall_training"] < after["step_seconds"]["recall"]


def test_a_seed_that_collects_nothing_warns_and_can_fail(tmp_path, capsys):
    words = "the river flows past the old mill where bakers sell bread every morning to the village".split()
    import random

    rng = random.Random(0)
    crawl = tmp_path / "in.jsonl"
    crawl.write_text("".join(json.dumps({"url": f"https://town{i % 3}.org/p/{i}", "text": " ".join(rng.choices(words, k=60))}) + "\n"
                             for i in range(40)))
    args = ["corpus", "build", "--config", "smoke", "--input", str(crawl), "--out", str(tmp_path / "o"), "--seed-file", "synthetic:40"]
    assert cli_main(args) == 0
    stats = json.loads((tmp_path / "o" / "stats.json").read_text())
    assert stats["stopped_by"] == "nothing_collected" and stats["documents_out"] == 0 and stats["warnings"]
    assert "corpus is empty or nearly" in capsys.readouterr().err
    assert cli_main(args + ["--fail-on-empty"]) == 3


def test_split_overrides_and_seed_precedence():
    from seekmath.corpus.cli import split_overrides

    assert split_overrides(["crawl/", "corpus.min_score=0.6"], ["corpus.seed=1"]) == (["crawl/"], ["corpus.min_score=0.6", "corpus.seed=1"])
    assert split_overrides(["a=b.warc.gz"], []) == ([], ["a=b.warc.gz"])  # not a file here: an override


def test_new_loop_settings_keep_the_ingested_crawl(local_build, crawl, tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(local_build, out)
    before = json.loads((out / "stats.json").read_text())
    docs = {p: p.stat().st_mtime_ns for p in (out / "work" / "docs").iterdir()}
    rc = cli_main(["corpus", "build", "--config", "smoke", "--input", str(crawl), "--out", str(out), "corpus.min_score=0.6"])
    assert rc == 0
    assert {p: p.stat().st_mtime_ns for p in (out / "work" / "docs").iterdir()} == docs  # the crawl was not read again
    after = json.loads((out / "stats.json").read_text())
    assert after["documents_in"] == before["documents_in"] and after["step_seconds"]["ingest"] == before["step_seconds"]["ingest"]
    assert after["per_iteration"] != before["per_iteration"] or after["documents_out"] <= before["documents_out"]
