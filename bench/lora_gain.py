"""LoRA RL vs full fine-tuning RL at equal CPU time: held-out greedy gain of the tiny SFT policy.

bench/grpo_gain.py's machinery (the tiny RL settings, rl.time_budget_s = the CPU budget, the harness's
greedy accuracy on the `synthetic` REPORT split), run for two policies:
- full: every weight trained, the tiny config's rl.lr, pi_ref a second copy;
- lora: rl.lora.enabled (rank --rank, alpha 2 x rank, attention + MLP projections), pi_ref = adapter off,
  its lr chosen first on the TUNING split: one run per --lora-lrs value (seed 0, --tune-minutes each),
  scored by the RL loop's own greedy accuracy on rl.eval_problems tuning-split questions.
Then --seeds runs of each policy, --cpu-minutes each. Reported: per-seed gains (points), each policy's
mean gain with a 95% t interval over seeds, and the paired (same seed = same prompts) LoRA - full
difference with its 95% interval; an interval containing 0 is called noise.

    .venv/bin/python bench/lora_gain.py --model runs/tiny/sft/final --out /tmp/lora_gain
    .venv/bin/python bench/lora_gain.py --model SFT --cpu-minutes 5 --seeds 0 1 2 --lora-lrs 5e-4 2e-3

Every run writes its JSON under --out; a rerun skips the runs already there.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grpo_gain import RL_DEFAULTS, evaluate  # noqa: E402 - the same settings and harness call as grpo_gain


def _cfg(args, minutes: float, seed: int, extra: list[str]):
    from seekmath.config import load_config

    return load_config("tiny", RL_DEFAULTS + [f"rl.threads={args.threads}", f"rl.time_budget_s={minutes * 60:.1f}", f"rl.seed={seed}", *extra])


def _lora(args, lr: float) -> list[str]:
    return ["rl.lora.enabled=true", f"rl.lora.r={args.rank}", f"rl.lora.alpha={2 * args.rank}", f"rl.lr={lr}"]


def _run(args, name: str, cfg, report: bool) -> dict:
    """One RL run (cached in out/NAME.json): steps, CPU seconds, tuning-split accuracy, report-split accuracy."""
    import shutil
    import time

    from seekmath.rl.grpo import run_rl

    path = args.out / f"{name}.json"
    if path.is_file():
        return json.loads(path.read_text())
    t0, c0 = time.time(), time.process_time()
    final = run_rl(cfg, args.model, args.out / name, progress=False)
    wall, cpu = time.time() - t0, time.process_time() - c0
    summary = json.loads((args.out / name / "summary.json").read_text())
    hist = summary["eval_greedy_acc"]
    res = {"name": name, "steps": summary["steps"], "rl_cpu_s": summary["cpu_seconds"], "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
           "tune_acc": hist[max(hist, key=int)] if hist else None, "lr": cfg.rl.lr, "lora": cfg.rl.lora.enabled, "seed": cfg.rl.seed}
    if report:
        after = evaluate(final, cfg, args.out / f"{name}-eval", args.eval_n)
        res.update(report_acc=after["greedy"], report_ci95=after["ci95"], n=after["n"])
    shutil.rmtree(args.out / name / "final", ignore_errors=True)  # weights are not kept (4 MB each, 10 runs)
    path.write_text(json.dumps(res, indent=1))
    print(json.dumps(res), flush=True)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, type=Path, help="SFT checkpoint (HF folder)")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--cpu-minutes", type=float, default=3.0, help="CPU budget of each report run")
    ap.add_argument("--tune-minutes", type=float, default=2.0, help="CPU budget of each tuning run")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--lora-lrs", type=float, nargs="+", default=[5e-4, 2e-3])
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--tune-problems", type=int, default=200, help="tuning-split questions of the lr choice")
    ap.add_argument("--eval-n", type=int, default=300, help="report-split problems of the greedy accuracy")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)

    import torch

    from seekmath.findings.stats import mean_interval

    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)

    # 1. LoRA's lr on the tuning split
    tuned = {lr: _run(args, f"tune-lora-lr{lr:g}", _cfg(args, args.tune_minutes, 0, _lora(args, lr) + [f"rl.eval_problems={args.tune_problems}"]), False)
             for lr in args.lora_lrs}
    best = max(tuned, key=lambda lr: tuned[lr]["tune_acc"])
    print("# tuning split (seed 0, %.1f CPU-min): " % args.tune_minutes
          + ", ".join(f"lr {lr:g}: {r['tune_acc']:.3f} ({r['steps']} steps)" for lr, r in tuned.items()) + f" -> lr {best:g}", flush=True)

    # 2. report split: before, then full and LoRA per seed
    before_path = args.out / "before.json"
    if not before_path.is_file():
        before_path.write_text(json.dumps(evaluate(args.model, _cfg(args, 1, 0, []), args.out / "before-eval", args.eval_n)))
    before = json.loads(before_path.read_text())
    runs = {"full": [], "lora": []}
    for seed in args.seeds:
        runs["full"].append(_run(args, f"full-s{seed}", _cfg(args, args.cpu_minutes, seed, []), True))
        runs["lora"].append(_run(args, f"lora-s{seed}", _cfg(args, args.cpu_minutes, seed, _lora(args, best)), True))

    print(f"\n# report split: before RL greedy {before['greedy']:.3f} on {before['n']}; {args.cpu_minutes:g} CPU-min of RL per run, "
          f"{args.threads} thread(s); LoRA r {args.rank}, alpha {2 * args.rank}, lr {best:g}; full lr {runs['full'][0]['lr']:g}")
    print("| policy | seed | steps | CPU s/step | greedy after | 95% CI | gain (points) |")
    print("|---|---|---|---|---|---|---|")
    gains = {}
    for name, rs in runs.items():
        gains[name] = [100 * (r["report_acc"] - before["greedy"]) for r in rs]
        for r, g in zip(rs, gains[name]):
            print(f"| {name} | {r['seed']} | {r['steps']} | {r['rl_cpu_s'] / max(1, r['steps']):.2f} | {r['report_acc']:.3f} | "
                  f"[{r['report_ci95'][0]:.3f}, {r['report_ci95'][1]:.3f}] | {g:+.1f} |")
    for name, g in gains.items():
        m, lo, hi = mean_interval(g)
        print(f"{name}: mean gain {m:+.1f} points, 95% CI over seeds [{lo:+.1f}, {hi:+.1f}]")
    m, lo, hi = mean_interval([a - b for a, b in zip(gains["lora"], gains["full"])])
    noise = lo <= 0 <= hi
    print(f"lora - full (paired by seed): {m:+.1f} points, 95% CI [{lo:+.1f}, {hi:+.1f}] -> {'noise (interval holds 0)' if noise else 'a difference'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
