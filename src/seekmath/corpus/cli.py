"""`seekmath corpus demo-crawl|build`.

    seekmath corpus demo-crawl --out runs/crawl [--pages 3000] [--seed 0]
    seekmath corpus build --input runs/crawl --out runs/corpus [--engine local|ray] [--labels runs/crawl/labels.jsonl]
        [--seed-file math.jsonl | hf:open-web-math/open-web-math] [--seed-prefix docs.example/math/] [--fail-on-empty]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from seekmath.cli import add_config_arguments, check_inputs, config_from_args


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seekmath corpus", description="Mine a math corpus from web crawls (DeepSeekMath §2.1).")
    sub = p.add_subparsers(dest="sub", required=True)

    d = sub.add_parser("demo-crawl", help="write a generated mini-crawl (WARC.gz shards + labels.jsonl)")
    d.add_argument("--out", required=True, help="output folder")
    d.add_argument("--pages", type=int, default=None, help="labelled HTML pages (default: corpus.demo_pages of the config)")
    d.add_argument("--seed", type=int, default=None, help="random seed (default: corpus.seed of the config)")
    add_config_arguments(d)

    b = sub.add_parser("build", help="mine a decontaminated math corpus from crawl files",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=SEED_HELP)
    b.add_argument("--input", required=True, nargs="+", help="WARC/WET/jsonl/parquet files or folders, or hf:NAME")
    b.add_argument("--out", required=True, help="output folder (corpus/ shards, stats.json, report.md)")
    b.add_argument("--engine", choices=["local", "ray"], default=None, help="executor (default: corpus.engine)")
    b.add_argument("--ray-address", default=None, help="address of an existing Ray cluster")
    b.add_argument("--labels", default=None, help="labels jsonl (url, is_math, planted): report precision/recall; never read as input")
    b.add_argument("--seed-file", default=None, help="math text for the iteration-1 positives: jsonl/parquet (file or folder, "
                   "`text` field), hf:NAME[@SPLIT] (e.g. hf:open-web-math/open-web-math) or synthetic:N")
    b.add_argument("--seed-prefix", action="append", default=None, metavar="URL_PREFIX",
                   help="crawl pages under this URL prefix are iteration-1 positives (repeatable)")
    b.add_argument("--fail-on-empty", action="store_true", default=None,
                   help="exit with status 3 when the corpus has fewer than corpus.min_documents pages (default: corpus.fail_on_empty)")
    add_config_arguments(b)
    return p


SEED_HELP = """seed of the recall loop (iteration 1's positives; the paper used OpenWebMath):
  --seed-file F      math text from outside the crawl: a jsonl/parquet file or folder with a `text`
                     field, hf:NAME[@SPLIT] (a Hugging Face dataset, streamed; e.g.
                     hf:open-web-math/open-web-math), or synthetic:N (generated worked solutions);
                     at most corpus.max_positives texts are read
  --seed-prefix P    crawl pages whose URL starts with P (scheme and www. ignored), repeatable
precedence: the command-line options replace BOTH config keys (corpus.seed_file and
corpus.seed_prefixes); giving only --seed-prefix drops the config's seed_file, and the reverse.
Within one source (the command line or the config) a seed file and prefixes are pooled.
Without a seed from the command line, the config's keys are used (tiny: synthetic:300).
A seed that collects nothing stops the loop with a warning (stopped_by: nothing_collected); one
that collects fewer than corpus.min_documents (10) pages is warned about too; --fail-on-empty
(corpus.fail_on_empty=true) then exits with status 3."""

_OVERRIDE = re.compile(r"^[A-Za-z_][\w.]*=")


def split_overrides(inputs: list[str], overrides: list[str]) -> tuple[list[str], list[str]]:
    """`--input a b corpus.x=1` puts the override into --input (nargs="+"): move it back.

    A `KEY=VALUE` item that is not an existing path is an override."""
    moved = [x for x in inputs if _OVERRIDE.match(x) and not Path(x).exists()]
    return [x for x in inputs if x not in moved], moved + list(overrides)


def main(command: str, argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if getattr(args, "input", None) is not None:
        args.input, args.overrides = split_overrides(args.input, args.overrides)
        if not args.input:
            _parser().error("--input needs at least one crawl file or folder")
    cfg = config_from_args(args)
    if args.sub == "build":
        if args.seed_file is not None or args.seed_prefix:  # the command line's seed replaces both config keys
            cfg.corpus.seed_file = args.seed_file or ""
            cfg.corpus.seed_prefixes = list(args.seed_prefix or [])
        if args.fail_on_empty:
            cfg.corpus.fail_on_empty = True
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
                "seconds", "ingest_documents_per_second_per_core", "documents_per_second_per_core", "build_documents_per_second",
                "warnings")
        print(json.dumps({k: stats[k] for k in keys if k in stats}, indent=2, default=str))
        print(f"{stats['documents_in']} documents in {stats['seconds']} s on {stats['workers']} worker(s): "
              f"{stats['documents_per_second_per_core']} documents/s per core; report: {args.out}/report.md", file=sys.stderr)
        if stats["documents_out"] < cfg.corpus.min_documents:
            print(f"warning: the corpus is empty or nearly ({stats['documents_out']} documents < corpus.min_documents="
                  f"{cfg.corpus.min_documents}; stopped by {stats['stopped_by']}): {'; '.join(stats['warnings'])}", file=sys.stderr)
            if cfg.corpus.fail_on_empty:
                return 3
        return 0
    return 2
