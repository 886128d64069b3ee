"""GRPO's family from one SFT policy at equal CPU budget: held-out greedy gain of each variant, its step cost.

Each variant is the tiny recipe's RL settings (bench/grpo_gain.py's, rule reward) plus the rules that
define it (README, "GRPO's family"):

    grpo             eq. 3 as the paper has it (every group in the update: rl.zero_variance=keep)
    dr_grpo          no std normalisation + the constant normaliser (Dr. GRPO)
    dapo             clip-higher 0.28 + token-mean + dynamic sampling with resampling + soft overlong penalty, no KL
    gspo             sequence-level ratio, clip range 3e-4 / 4e-4 (GSPO)
    rloo             leave-one-out baseline
    grpo_curriculum  grpo + the difficulty curriculum

Protocol. Settings are chosen on the TUNING split and reported on the REPORT split (the synthetic task's
`tune` and `test` splits, disjoint by construction). Tuning: for each variant one run per learning rate
(`--lr-scales` x the tiny lr) with a tuning seed that is never reported; the candidate with the best greedy
accuracy on `--tune-n` tuning problems wins (a single scale skips tuning); tuning runs may use a smaller
`--tune-budget` than the reported runs (the lr is then chosen at that budget; the table says so). Report: the chosen
setting runs once per `--seeds` seed; its final policy is scored greedy on `--eval-n` report problems by the eval
harness, as is the SFT policy. Every run stops after `--cpu-budget` CPU seconds of its own process
(rl.time_budget_s; robust to other load on the machine, unlike wall time) and runs in its own process,
`--workers` at a time, one torch thread each.

Printed per variant: gain over the SFT policy in points with a 95% t interval over seeds, the paired
per-problem 95% interval (each report problem's change averaged over seeds), steps done, and CPU seconds
per step relative to GRPO's in the same invocation. Written to `--out`: results.json (every run) and
results.md (the table).

    .venv/bin/python bench/grpo_variants.py --cpu-budget 600 --seeds 0 1 2 --workers 2            # the full size
    .venv/bin/python bench/grpo_variants.py --cpu-budget 20 --seeds 0 --eval-n 30 --tune-n 30       # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from grpo_gain import RL_DEFAULTS, evaluate  # bench/ is the script's folder: on sys.path

DEFAULT_MODEL = "/work/main/runs/tiny/sft/final"
EQ3 = ["rl.zero_variance=keep"]  # the tiny config skips zero-variance groups; eq. 3 keeps them
VARIANTS = {
    "grpo": EQ3,
    "dr_grpo": EQ3 + ["rl.normalise_std=false", "rl.aggregation=constant_normaliser"],
    "dapo": ["rl.clip_eps_high=0.28", "rl.aggregation=token_mean", "rl.dynamic_sampling=true", "rl.overlong=soft", "rl.beta=0"],
    "gspo": EQ3 + ["rl.ratio_level=sequence", "rl.clip_eps=0.0003", "rl.clip_eps_high=0.0004"],
    "rloo": EQ3 + ["rl.advantage_estimator=rloo"],
    "grpo_curriculum": EQ3 + ["rl.curriculum=difficulty"],
}
TUNE_SEED = 1000  # the tuning runs' rl.seed: never one of the reported seeds


def _config(spec: dict):
    from seekmath.config import load_config

    return load_config("tiny", spec["task"] + RL_DEFAULTS + ["rl.threads=1", f"rl.time_budget_s={spec['budget']}"]
                       + VARIANTS.get(spec["variant"], []) + [f"rl.lr={spec['lr']}", f"rl.seed={spec['seed']}"])


def _score(model_path: Path, cfg, out: Path, split: str, n: int) -> dict:
    """Greedy accuracy on `split` (tune | test) through the eval harness, with per-problem verdicts."""
    bench = "synthetic"
    if split == "tune":  # the harness reads the synthetic benchmark's report split; the tuning split goes as a file
        from seekmath.tasks.synthetic import generate_problems

        out.mkdir(parents=True, exist_ok=True)
        path = out / "tune.jsonl"
        path.write_text("".join(json.dumps(p.to_dict()) + "\n" for p in generate_problems(cfg.tasks, "tune", n)))
        bench = str(path)
    r = evaluate(model_path, cfg, out, n, bench=bench)
    rows = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]
    return {"acc": r["greedy"], "n": r["n"], "correct": {x["id"]: x["verdict"] == "correct" for x in rows if x["sample"] == -1}}


def run_job(spec: dict) -> dict:
    """One job in this process: a baseline evaluation (variant "sft") or an RL run and its evaluation."""
    import torch

    torch.set_num_threads(1)
    out = Path(spec["out"])
    cfg = _config(spec)
    if spec["variant"] == "sft":
        return {**spec, **_score(Path(spec["model"]), cfg, out / "eval", spec["split"], spec["n"])}
    from seekmath.rl.grpo import run_rl

    t0 = time.time()
    final = run_rl(cfg, Path(spec["model"]), out / "rl", progress=False)
    wall = time.time() - t0
    summary = json.loads((out / "rl" / "summary.json").read_text())
    steps = summary["steps"]
    return {**spec, **_score(final, cfg, out / "eval", spec["split"], spec["n"]), "steps": steps, "rl_cpu_seconds": summary["cpu_seconds"],
            "rl_wall_seconds": round(wall, 1), "cpu_per_step": summary["cpu_seconds"] / max(1, steps)}


def _launch(spec: dict) -> dict:
    """Run a job in a fresh process (its CPU budget is its own), or reuse its finished result."""
    out = Path(spec["out"])
    done = out / "result.json"
    if done.is_file() and {k: v for k, v in json.loads(done.read_text()).items() if k in spec} == spec:
        return json.loads(done.read_text())
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "log.txt", "w") as log:
        rc = subprocess.run([sys.executable, __file__, "--job", json.dumps(spec)], stdout=log, stderr=subprocess.STDOUT).returncode
    if rc != 0 or not done.is_file():
        raise RuntimeError(f"job {spec['variant']} seed {spec['seed']} lr {spec['lr']} ({spec['split']}) failed: see {out / 'log.txt'}")
    return json.loads(done.read_text())


def _pool(specs: list[dict], workers: int) -> list[dict]:
    with ThreadPoolExecutor(max_workers=workers) as ex:
        results = []
        for r in ex.map(_launch, specs):
            label = r["variant"] if r["variant"] == "sft" else f"{r['variant']} lr {r['lr']:g} seed {r['seed']}"
            print(f"# {r['split']:4s} {label}: greedy {r['acc']:.3f}" + (f", {r['steps']} steps" if "steps" in r else ""), flush=True)
            results.append(r)
        return results


def summarise(baseline: dict, runs: list[dict]) -> dict:
    """Gain in points with a 95% t interval over seeds and a paired per-problem interval; steps; CPU s/step."""
    from seekmath.findings.stats import mean_interval

    gains = [100 * (r["acc"] - baseline["acc"]) for r in runs]
    m, lo, hi = mean_interval(gains)
    ids = sorted(baseline["correct"])
    per_problem = [100 * sum(r["correct"][i] - baseline["correct"][i] for r in runs) / len(runs) for i in ids]
    _, plo, phi = mean_interval(per_problem)
    return {"gain": m, "lo": lo, "hi": hi, "paired_lo": plo, "paired_hi": phi, "gains": gains,
            "acc": sum(r["acc"] for r in runs) / len(runs), "steps": [r["steps"] for r in runs],
            "cpu_per_step": sum(r["cpu_per_step"] for r in runs) / len(runs)}


def _ci(lo: float, hi: float) -> str:
    return "n/a" if lo != lo or hi != hi else f"[{lo:+.1f}, {hi:+.1f}]"  # NaN: one seed has no spread


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", nargs="?", default=DEFAULT_MODEL, help=f"SFT policy (HF folder; default {DEFAULT_MODEL})")
    ap.add_argument("--cpu-budget", type=float, default=600.0, help="CPU seconds per RL run (its own process)")
    ap.add_argument("--tune-budget", type=float, help="CPU seconds per tuning run (default: --cpu-budget)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--lr-scales", type=float, nargs="+", default=[1.0, 2.0], help="tuning candidates: multiples of the tiny lr")
    ap.add_argument("--eval-n", type=int, default=300, help="report-split problems")
    ap.add_argument("--tune-n", type=int, default=200, help="tuning-split problems")
    ap.add_argument("--workers", type=int, default=1, help="runs in parallel (one process and one torch thread each)")
    ap.add_argument("--task", action="append", default=[], help="task override, e.g. tasks.max_value=20")
    ap.add_argument("--out", default="bench/results/grpo_variants", help="run folders, results.json, results.md")
    ap.add_argument("--job", help=argparse.SUPPRESS)  # internal: run one job (JSON spec) in this process
    args = ap.parse_args(argv)
    if args.job:
        spec = json.loads(args.job)
        from seekmath.runs import atomic_write_json

        atomic_write_json(Path(spec["out"]) / "result.json", run_job(spec))
        return 0

    model = Path(args.model)
    if not (model / "config.json").is_file():
        print(f"grpo_variants: {model} is not an HF model folder (no config.json)", file=sys.stderr)
        return 2
    if "grpo" not in args.variants:
        args.variants.insert(0, "grpo")  # the step-time reference
    from seekmath.config import load_config

    base_lr = load_config("tiny", args.task).rl.lr
    out = Path(args.out)
    common = {"model": str(model.resolve()), "task": args.task}
    tune_budget = args.tune_budget or args.cpu_budget

    def spec(variant, split, seed, lr, n):
        name = f"{split}/{variant}" + ("" if variant == "sft" else f"-lr{lr:g}-s{seed}")
        budget = tune_budget if split == "tune" else args.cpu_budget
        return {**common, "budget": budget, "variant": variant, "split": split, "seed": seed, "lr": lr, "n": n, "out": str(out / name)}

    t0 = time.time()
    lrs = [s * base_lr for s in args.lr_scales]
    first = [spec("sft", "test", 0, base_lr, args.eval_n)]
    if len(lrs) > 1:
        first += [spec("sft", "tune", 0, base_lr, args.tune_n)] + [spec(v, "tune", TUNE_SEED, lr, args.tune_n) for v in args.variants for lr in lrs]
    done = _pool(first, args.workers)
    baseline = done[0]
    chosen = {}
    for v in args.variants:  # the best tuning-split accuracy (first candidate on ties)
        cands = [r for r in done if r["variant"] == v]
        chosen[v] = max(cands, key=lambda r: r["acc"])["lr"] if cands else lrs[0]
    reported = _pool([spec(v, "test", s, chosen[v], args.eval_n) for v in args.variants for s in args.seeds], args.workers)

    rows = {v: summarise(baseline, [r for r in reported if r["variant"] == v]) for v in args.variants}
    ref = rows["grpo"]["cpu_per_step"]
    tuned = {v: {f"{r['lr']:g}": r["acc"] for r in done if r["variant"] == v} for v in args.variants}
    sft_tune = f", {done[1]['acc']:.3f} (tuning split)" if len(lrs) > 1 else ""
    lines = [f"GRPO variants from {model} ({args.cpu_budget:g} CPU-s per run, seeds {args.seeds}, report split n = {baseline['n']}, "
             f"tuning split n = {args.tune_n if len(lrs) > 1 else 0}, {tune_budget:g} CPU-s per tuning run); {platform.node()}, {os.cpu_count()} CPUs, "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; SFT greedy {baseline['acc']:.3f} (report split){sft_tune}", "",
             "| variant | lr (tuning acc per lr) | greedy after | gain (points) | 95% CI over seeds | paired per-problem 95% CI | steps | CPU s/step | x GRPO |",
             "|---|---|---|---|---|---|---|---|---|"]
    for v, r in rows.items():
        tune = ", ".join(f"{lr}: {acc:.3f}" for lr, acc in tuned[v].items()) or "not tuned"
        lines.append(f"| {v} | {chosen[v]:g} ({tune}) | {r['acc']:.3f} | {r['gain']:+.1f} | {_ci(r['lo'], r['hi'])} | "
                     f"{_ci(r['paired_lo'], r['paired_hi'])} | {'/'.join(map(str, r['steps']))} | {r['cpu_per_step']:.2f} | "
                     f"{r['cpu_per_step'] / ref:.2f} |")
    lines += ["", f"command: {' '.join([Path(sys.executable).name, *sys.argv])}; {time.time() - t0:.0f} s wall. An interval that "
              "contains 0 is noise; with one seed the over-seeds interval is undefined (n/a)."]
    from seekmath.runs import atomic_write_json

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "results.json", {"baseline": baseline, "tuning": done[1:], "chosen_lr": chosen, "reported": reported,
                                             "summary": rows, "args": vars(args)})
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
