"""`seekmath corpus demo-crawl|build`.

    seekmath corpus demo-crawl --out runs/crawl [--pages 3000] [--seed 0]
    seekmath corpus build --input runs/crawl --out runs/corpus [--engine local|ray] [--labels runs/crawl/labels.jsonl]
"""

from __future__ import annotations

import argparse
import json
import sys

from seekmath.cli import add_config_arguments, check_inputs, config_from_args


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seekmath corpus", description="Mine a math corpus from web crawls (DeepSeekMath §2.1).")
    sub = p.add_subparsers(dest="sub", required=True)

    d = sub.add_parser("demo-crawl", help="write a generated mini-crawl (WARC.gz shards + labels.jsonl)")
    d.add_argument("--out", required=True, help="output folder")
    d.add_argument("--pages", type=int, default=None, help="labelled HTML pages (default: corpus.demo_pages of the config)")
    d.add_argument("--seed", type=int, default=None, help="random seed (default: corpus.seed of the config)")
    add_config_arguments(d)

    b = sub.add_parser("build", help="mine a decontaminated math corpus from crawl files")
    b.add_argument("--input", required=True, nargs="+", help="WARC/WET/jsonl/parquet files or folders, or hf:NAME")
    b.add_argument("--out", required=True, help="output folder (corpus/ shards, stats.json, report.md)")
    b.add_argument("--engine", choices=["local", "ray"], default=None, help="executor (default: corpus.engine)")
    b.add_argument("--ray-address", default=None, help="address of an existing Ray cluster")
    b.add_argument("--labels", default=None, help="labels.jsonl of a demo crawl: report precision/recall")
    add_config_arguments(b)
    return p


def main(command: str, argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    cfg = config_from_args(args)
    if args.sub == "demo-crawl":
        from seekmath.corpus.democrawl import make_demo_crawl

        pages = args.pages if args.pages is not None else cfg.corpus.demo_pages
        seed = args.seed if args.seed is not None else cfg.corpus.seed
        summary = make_demo_crawl(args.out, pages=pages, seed=seed, tasks_cfg=cfg.tasks)
        print(json.dumps({k: summary[k] for k in ("pages", "math_pages", "near_duplicates", "contamination",
                                                  "domains", "expected_skips", "seconds")}, indent=2))
        print(f"wrote {len(summary['shards'])} WARC shards and labels.jsonl to {args.out}", file=sys.stderr)
        return 0
    if args.sub == "build":
        check_inputs(args.input)  # one clear line for a bad input, before any work
        from seekmath.corpus.pipeline import build_corpus

        stats = build_corpus(cfg, args.input, args.out, engine=args.engine or cfg.corpus.engine,
                             labels=args.labels, ray_address=args.ray_address)
        keys = ("documents_in", "documents_out", "tokens_out", "iterations", "stopped_by", "math_domains", "precision",
                "recall", "contamination_recall", "near_duplicate_recall", "near_duplicates_removed", "contaminated_removed",
                "seconds", "documents_per_second_per_core")
        print(json.dumps({k: stats[k] for k in keys if k in stats}, indent=2, default=str))
        print(f"{stats['documents_in']} documents in {stats['seconds']} s on {stats['workers']} worker(s): "
              f"{stats['documents_per_second_per_core']} documents/s per core; report: {args.out}/report.md", file=sys.stderr)
        return 0
    return 2
