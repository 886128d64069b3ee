"""`seekmath eval`: evaluate a checkpoint on benchmarks (greedy top-1, maj@k, pass@k).

    seekmath eval --model runs/tiny/rl/final --bench synthetic,gsm8k --limit 100 --k 1,8 \\
        --prompt zeroshot --out runs/tiny/eval --config tiny eval.temperature=0.7

Writes OUT/samples.jsonl, OUT/summary.json, OUT/config.yaml and OUT/log.txt, and prints the summary table.
"""

from __future__ import annotations

import argparse
import logging

from seekmath.cli import add_config_arguments, config_from_args


def _int_list(text: str) -> list[int]:
    try:
        ks = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--k: expected comma-separated integers like 1,8,64, got {text!r}") from None
    if any(k < 1 for k in ks):
        raise argparse.ArgumentTypeError(f"--k: every k must be >= 1, got {text!r}")
    return ks


def format_table(summary: dict) -> str:
    lines = [f"{'bench':<18}{'n':>6}{'greedy':>9}{'95% CI':>16}{'k':>5}{'maj@k':>8}{'pass@k':>8}"]
    for bench, e in summary.items():
        ci = e.get("ci95")
        ci_s = f"[{ci[0]:.3f},{ci[1]:.3f}]" if ci else "-"
        g = f"{e['greedy']:.3f}" if "greedy" in e else "-"
        maj = f"{e['maj@k']:.3f}" if "maj@k" in e else "-"
        pas = f"{e['pass@k']:.3f}" if "pass@k" in e else "-"
        lines.append(f"{bench:<18}{e['n']:>6}{g:>9}{ci_s:>16}{str(e.get('k', '-')):>5}{maj:>8}{pas:>8}")
    return "\n".join(lines)


def main(command: str, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="seekmath eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="checkpoint folder or HF id")
    parser.add_argument("--bench", default=None, help="comma-separated benchmark names (default: eval.benches)")
    parser.add_argument("--limit", type=int, default=None, help="first N problems per benchmark (0 = all)")
    parser.add_argument("--k", type=_int_list, default=None, help="maj@k / pass@k values, e.g. 1,8,64 (max(k) samples)")
    parser.add_argument("--prompt", choices=["fewshot", "zeroshot", "pot", "tool"], default=None)
    parser.add_argument("--engine", choices=["hf", "vllm"], default=None)
    parser.add_argument("--out", required=True, help="output folder")
    add_config_arguments(parser)
    args = parser.parse_args(argv)

    from seekmath.evaluate.harness import evaluate_model
    from seekmath.runs import prepare_stage_dir

    cfg = config_from_args(args)
    ev = cfg.eval
    if args.bench is not None:
        ev.benches = [b.strip() for b in args.bench.split(",") if b.strip()]
    if args.limit is not None:
        ev.limit = args.limit
    if args.k is not None:
        ev.k = args.k
    if args.prompt is not None:
        ev.prompt = args.prompt
    if args.engine is not None:
        ev.engine = args.engine
    if not ev.benches:
        parser.error("no benchmarks: pass --bench or set eval.benches")
    from seekmath.models import check_model_ref

    check_model_ref(args.model)  # before anything loads (benchmark names are checked before the model, too)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    prepare_stage_dir(args.out, cfg)
    summary = evaluate_model(args.model, ev.benches, ev, args.out, tasks_cfg=cfg.tasks, model_cfg=cfg.model)
    print(format_table(summary))
    print(f"\nwrote {args.out}/summary.json and {args.out}/samples.jsonl")
    return 0


if __name__ == "__main__":  # pragma: no cover
    import sys

    raise SystemExit(main("eval", sys.argv[1:]))
