"""Does GRPO help? Greedy held-out accuracy of an SFT policy before and after GRPO (rule reward).

Measured with the evaluation harness (`seekmath.evaluate.harness.evaluate_model`, greedy, the
`synthetic` test split, zero-shot DeepSeekMath chat prompt) on the SAME task config the RL stage
trains on; RL stops after `--cpu-minutes` of this process's CPU time (rl.time_budget_s).

    .venv/bin/python bench/grpo_gain.py --model runs/tiny/sft/final
    .venv/bin/python bench/grpo_gain.py --model SFT --task tasks.max_value=20 --task tasks.max_steps=2 -- rl.lr=0.00002 rl.seed=1

Prints a table (before / after / gain in points, steps, wall and CPU seconds, seeds); the last line
is `greedy gain (points): X`. Pick the task difficulty so the SFT policy's SAMPLED accuracy sits in
20-80% (feasibility §5): outside it most groups have zero variance and GRPO has no signal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# The tiny config's RL settings as they are (lr, beta, G, questions per step, temperature, ...), with the
# step cap lifted so that the CPU budget is what ends the run, and the loop's own evaluation off (the
# harness measures before and after).
RL_DEFAULTS = ["rl.algorithm=grpo", "rl.reward=rule", "rl.steps=1000", "rl.iterations=1", "rl.eval_problems=0", "rl.save_every=25"]


def evaluate(model_path: Path, cfg, out: Path, n: int, bench: str = "synthetic") -> dict:
    """Greedy zero-shot accuracy on `bench` (default the synthetic report split; a jsonl path works too)."""
    from seekmath.evaluate.harness import evaluate_model

    ecfg = cfg.eval
    ecfg.k, ecfg.limit, ecfg.max_new_tokens, ecfg.prompt = [1], n, cfg.rl.max_new_tokens, "zeroshot"
    return evaluate_model(model_path, [bench], ecfg, out, tasks_cfg=cfg.tasks)[bench]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="SFT checkpoint (HF folder)")
    ap.add_argument("--out", default=None, help="run folder (default: a temp folder)")
    ap.add_argument("--cpu-minutes", type=float, default=10.0)
    ap.add_argument("--eval-n", type=int, default=300, help="held-out problems for the greedy accuracy")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--task", action="append", default=[], help="task override, e.g. tasks.max_value=20")
    ap.add_argument("overrides", nargs="*", help="extra rl.* overrides")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    from seekmath.config import load_config
    from seekmath.rl.grpo import run_rl

    out = Path(args.out or tempfile.mkdtemp(prefix="grpo_gain."))
    cfg = load_config("tiny", args.task + RL_DEFAULTS + [f"rl.threads={args.threads}", f"rl.time_budget_s={args.cpu_minutes * 60:.1f}"] + args.overrides)
    r = cfg.rl
    print(f"# model {args.model}; tasks {args.task or 'tiny default'}; rl: lr {r.lr}, beta {r.beta}, G {r.group_size}, "
          f"{r.prompts_per_step} questions/step, T {r.temperature}, {r.max_new_tokens} tokens, zero_variance {r.zero_variance}, "
          f"overrides {args.overrides}; seed rl={r.seed} tasks={cfg.tasks.seed}", flush=True)
    before = evaluate(Path(args.model), cfg, out / "eval_before", args.eval_n)
    print(f"# before: greedy {before['greedy']:.3f} on {before['n']}", flush=True)
    t0, c0 = time.time(), time.process_time()
    final = run_rl(cfg, Path(args.model), out / "rl", progress=True)
    wall, cpu = time.time() - t0, time.process_time() - c0
    after = evaluate(final, cfg, out / "eval_after", args.eval_n)
    steps = json.loads((out / "rl" / "summary.json").read_text())["steps"]
    gain = 100 * (after["greedy"] - before["greedy"])
    print()
    print("| policy | greedy acc (harness) | 95% CI | n |")
    print("|---|---|---|---|")
    for name, r in (("SFT", before), ("SFT + GRPO", after)):
        print(f"| {name} | {r['greedy']:.3f} | [{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}] | {r['n']} |")
    print(f"\nGRPO: {steps} steps, {wall:.0f} s wall, {cpu:.0f} s CPU (this process), {args.threads} thread(s); run folder {out}")
    print(f"greedy gain (points): {gain:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
