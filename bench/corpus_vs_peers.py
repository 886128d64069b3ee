"""Corpus pipeline vs peers, measured in one run on the same input (issue 4):

A. fastText scoring inside the pipeline (`classify.score_lines`: batched predict, P(math) extracted) against
   raw fastText `predict` on the same lines. Goal: >= 0.8x. Lines are normalised once per page at ingest
   (`classify.fasttext_text`; its cost is printed too) and rescored in every recall iteration.
B. End to end, WARC.gz -> extracted text -> fastText score -> scored jsonl.gz, with the same extractor and
   the same model on both sides:
     ours       `seekmath.corpus` steps (read.iter_documents, classify.score_texts, atomic gzip writer)
                scheduled by `engines.Engine("local")`
     datatrove  WarcReader -> BaseExtractor(html_to_text) -> FastTextClassifierFilter -> JsonlWriter on
                LocalPipelineExecutor (`pip install datatrove[io] fasteners`)
   Goal: >= 1.5x. `--trafilatura` adds datatrove with its default Trafilatura extractor (slow).

    .venv/bin/python bench/corpus_vs_peers.py [--pages 3000] [--workers 2] [--repeat 3]

Prints a table with throughputs and ratios. Timings on a shared machine are noisy: the best of
`--repeat` runs is reported for every contender.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

from datatrove.pipeline.extractors.base import BaseExtractor  # noqa: E402
from datatrove.pipeline.filters import FastTextClassifierFilter  # noqa: E402


class SeekmathExtractor(BaseExtractor):
    """datatrove extractor running our html_to_text (the same extraction as our side)."""

    name = "seekmath html_to_text"

    def __init__(self, timeout: float = 5):
        super().__init__(timeout)

    def extract(self, text: str) -> str:
        from seekmath.corpus.extract import html_to_text

        return html_to_text(text)


class FastTextFilter(FastTextClassifierFilter):
    """datatrove's FastTextClassifierFilter, unchanged except for its install check: datatrove requires the
    *distribution* fasttext-numpy2-wheel, we have fasttext-numpy2, which installs the same `fasttext`
    module (installing both breaks it)."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)


def warc_to_scored(task: dict) -> dict:
    """Our WARC -> scored jsonl.gz step (what `corpus build` does per shard, minus dedup/decontam)."""
    from seekmath.corpus import classify
    from seekmath.corpus.pipeline import write_jsonl_gz
    from seekmath.corpus.read import SkipStats, iter_documents

    docs = list(iter_documents(task["input"], SkipStats()))
    model = classify.load_model(task["model"])
    scores = classify.score_texts(model, [d["text"] for d in docs])
    rows = [{"id": d["id"], "url": d["url"], "domain": d["domain"], "text": d["text"], "score": round(float(s), 6)}
            for d, s in zip(docs, scores)]
    write_jsonl_gz(Path(task["out"]), rows)
    return {"documents": len(rows)}


def run_ours(files: list[str], model: str, out: Path, workers: int) -> tuple[float, int]:
    from seekmath.corpus.engines import Engine

    shutil.rmtree(out, ignore_errors=True)
    tasks = [{"name": f"s{i:05d}", "input": f, "model": model, "out": str(out / f"s{i:05d}.jsonl.gz")} for i, f in enumerate(files)]
    t = time.perf_counter()
    with Engine("local", workers, progress=False) as eng:
        res = eng.run("bench", warc_to_scored, tasks, out / "done")
    return time.perf_counter() - t, sum(r["documents"] for r in res)


def run_datatrove(folder: str, n_files: int, model: str, out: Path, workers: int, extractor: str) -> tuple[float, int]:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.readers import WarcReader
    from datatrove.pipeline.writers import JsonlWriter

    shutil.rmtree(out, ignore_errors=True)
    ext = SeekmathExtractor() if extractor == "seekmath" else Trafilatura(favour_precision=True)
    pipeline = [
        WarcReader(folder, glob_pattern="*.warc.gz"),
        ext,
        # keep every document (score >= 0) and save the label scores: annotate, as our side does;
        # newline_replacement=" " so words are not glued (datatrove's default is "")
        FastTextFilter(model, keep_labels=[("math", 0.0)], newline_replacement=" "),
        JsonlWriter(str(out / "data")),
    ]
    ex = LocalPipelineExecutor(pipeline=pipeline, tasks=n_files, workers=workers, logging_dir=str(out / "logs"),
                               skip_completed=False)
    t = time.perf_counter()
    ex.run()
    dt = time.perf_counter() - t
    n = sum(1 for p in glob.glob(str(out / "data" / "*.jsonl.gz")) for _ in gzip.open(p, "rt"))
    return dt, n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=3000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scoring-copies", type=int, default=5, help="texts are repeated this often for part A")
    ap.add_argument("--trafilatura", action="store_true", help="also run datatrove with its Trafilatura extractor")
    ap.add_argument("--config", default="tiny", help="fastText settings from this config's corpus section")
    args = ap.parse_args()

    import numpy as np

    from seekmath.config import load_config
    from seekmath.corpus import classify
    from seekmath.corpus.democrawl import make_demo_crawl
    from seekmath.corpus.pipeline import seed_texts
    from seekmath.corpus.read import SkipStats, iter_documents

    cfg = load_config(args.config)
    c = cfg.corpus
    work = Path(tempfile.mkdtemp(prefix="seekmath-bench-corpus-"))
    try:
        crawl = work / "crawl"
        make_demo_crawl(work / "raw", pages=args.pages, seed=0, tasks_cfg=cfg.tasks)
        # the demo crawl plants a corrupt gzip member in its first shard; datatrove's WarcReader (warcio) stops
        # the task on it (gzip.BadGzipFile), so the race runs on the shards that are intact
        crawl.mkdir()
        skipped_files = []
        for p in sorted((work / "raw").glob("*.warc.gz")):
            try:
                with gzip.open(p) as f:
                    while f.read(1 << 20):
                        pass
                shutil.copy(p, crawl / p.name)
            except (OSError, EOFError):
                skipped_files.append(p.name)
        files = sorted(str(p) for p in crawl.glob("*.warc.gz"))
        docs = [d["text"] for f in files for d in iter_documents(f, SkipStats())]
        model_path = classify.train_classifier(
            seed_texts("synthetic:300", cfg.tasks), docs[:300], work / "model.bin", dim=c.dim, lr=c.lr,
            word_ngrams=c.word_ngrams, min_count=c.min_count, epochs=c.epochs, bucket=c.bucket)
        model = classify.load_model(model_path)
        n_words = sum(len(t.split()) for t in docs)
        print(f"input: {args.pages}-page demo crawl, {len(files)} WARC.gz files, {len(docs)} documents, "
              f"{n_words / len(docs):.0f} words/doc; model dim {c.dim}, wordNgrams {c.word_ngrams}, bucket {c.bucket}; "
              f"{args.workers} workers; best of {args.repeat}"
              + (f"; left out (corrupt on purpose, datatrove cannot read them): {skipped_files}" if skipped_files else ""))

        # A. scoring. The pipeline normalises each page once at ingest (`fasttext_text`, stored next to the
        # shard) and rescores those lines in every recall iteration; raw predict gets the very same lines.
        texts = docs * args.scoring_copies
        t = time.perf_counter()
        lines = [classify.fasttext_text(x) for x in texts]
        normalise = time.perf_counter() - t
        raw_t, ours_t = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            model.predict(lines, k=-1)
            raw_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            classify.score_lines(model, lines, batch_size=c.score_batch)
            ours_t.append(time.perf_counter() - t)
        raw, ours = min(raw_t), min(ours_t)

        # B. end to end
        ours_e2e, dt_e2e, traf = [], [], []
        n_ours = n_dt = n_traf = 0
        for _ in range(args.repeat):
            dt, n_ours = run_ours(files, str(model_path), work / "ours", args.workers)
            ours_e2e.append(dt)
            dt, n_dt = run_datatrove(str(crawl), len(files), str(model_path), work / "dt", args.workers, "seekmath")
            dt_e2e.append(dt)
        if args.trafilatura:
            dt, n_traf = run_datatrove(str(crawl), len(files), str(model_path), work / "dt_traf", args.workers, "trafilatura")
            traf.append(dt)

        rows = [
            ("A  raw fastText predict", len(texts) / raw, "docs/s", "1.00x"),
            ("A  seekmath score_lines (batched predict + P(math))", len(texts) / ours, "docs/s", f"{raw / ours:.2f}x (goal >= 0.8x)"),
            ("A  (once per page at ingest: fasttext_text)", len(texts) / normalise, "docs/s", "-"),
            ("B  datatrove WARC->extract->fastText->jsonl", n_dt / min(dt_e2e), "docs/s", "1.00x"),
            ("B  seekmath  WARC->extract->fastText->jsonl.gz", n_ours / min(ours_e2e), "docs/s",
             f"{(n_ours / min(ours_e2e)) / (n_dt / min(dt_e2e)):.2f}x (goal >= 1.5x)"),
        ]
        if traf:
            rows.append(("B  datatrove with Trafilatura extractor", n_traf / min(traf), "docs/s",
                         f"{(n_traf / min(traf)) / (n_dt / min(dt_e2e)):.2f}x"))
        width = max(len(r[0]) for r in rows)
        print(f"\n{'contender':<{width}}  {'throughput':>12}  ratio")
        for name, v, unit, ratio in rows:
            print(f"{name:<{width}}  {v:>8.0f} {unit}  {ratio}")
        print(f"\ndocuments written: seekmath {n_ours}, datatrove {n_dt}" + (f", datatrove+trafilatura {n_traf}" if traf else ""))
        print(json.dumps({"scoring_ratio": round(raw / ours, 3),
                          "end_to_end_ratio": round((n_ours / min(ours_e2e)) / (n_dt / min(dt_e2e)), 3),
                          "seconds": {"raw": raw_t, "ours": ours_t, "ours_e2e": ours_e2e, "datatrove_e2e": dt_e2e, "trafilatura": traf}},
                         default=lambda x: round(x, 3)))
        del np
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":  # datatrove's LocalPipelineExecutor spawns workers: the guard is required
    sys.exit(main())
