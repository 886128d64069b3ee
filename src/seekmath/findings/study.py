"""The paper's unified-paradigm study (§5.2) at toy scale, over a recipe run's SFT checkpoint.

From one SFT checkpoint (`run_dir/sft/final`, left by the recipe's stages up to sft), train
each variant of `findings.variants` with each seed of `findings.seeds` for the same number of steps:

    rft          offline RFT: samples of the SFT policy, filtered by correctness (Table 10)
    online_rft   online RFT: fresh samples of the current policy, gradient coefficient I(o)
    grpo_os      GRPO with outcome supervision (rule reward)
    grpo_ps      GRPO with process supervision (a PRM trained on Math-Shepherd step labels)
    iterative_1  GRPO with a reward model, one iteration of Algorithm 1
    iterative_2  the same with two iterations (π_ref reset and RM retrained in between)

then report held-out greedy accuracy against training steps (mean ± std over seeds, as bands), and
maj@k / pass@k against k before RL (the SFT model) and after RL (GRPO+OS, first seed) — paper Fig. 5–7.
Whatever the orderings turn out to be, the report states them next to the paper's.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from seekmath.config import Config, ConfigError, apply_overrides, from_dict, to_dict
from seekmath.runs import atomic_write_json, prepare_stage_dir
from seekmath.stages import final_model

log = logging.getLogger("seekmath.findings")

def variant_config(cfg: Config, overrides: list[str], seed: int) -> Config:
    f = cfg.findings
    data = apply_overrides(to_dict(cfg), [f"rl.steps={f.steps}", f"rl.eval_every={f.eval_every}",
                                          f"rl.seed={seed}", *overrides])
    return from_dict(Config, data)


def _curve(run_dir: Path) -> dict[int, float]:
    summary = json.loads((run_dir / "summary.json").read_text())
    return {int(k): float(v) for k, v in summary.get("eval_greedy_acc", {}).items()}


def run_study(cfg: Config, out: str | Path) -> Path:
    """The study over a run folder whose `sft/final` the recipe has left; returns findings.md."""
    from seekmath.findings.report import build_findings_report

    out = Path(out)
    sft = final_model(out, "sft")
    if not (sft / "config.json").is_file():
        raise ConfigError(f"findings: no SFT checkpoint at {sft}; run the recipe up to sft first "
                          f"(`seekmath run --config findings` does)")
    prepare_stage_dir(out / "findings", cfg)
    results: dict[str, dict] = {}
    t0 = time.time()
    from seekmath.rl.grpo import run_rl

    for name, overrides in cfg.findings.variants.items():
        results[name] = {}
        for seed in cfg.findings.seeds:
            run_dir = out / "findings" / name / f"seed{seed}"
            if not (run_dir / "summary.json").is_file() or not (run_dir / "final").is_dir():
                log.info("findings: %s seed %d", name, seed)
                run_rl(variant_config(cfg, overrides, seed), str(sft), run_dir, resume=(run_dir / "checkpoints").is_dir())
            results[name][seed] = _curve(run_dir)
    k_curves = _k_curves(cfg, out, sft)
    atomic_write_json(out / "findings.json", {"curves": results, "k_curves": k_curves, "seconds": round(time.time() - t0, 1),
                                               "variants": cfg.findings.variants, "seeds": cfg.findings.seeds})
    return build_findings_report(out)


def _k_curves(cfg: Config, out: Path, sft: Path) -> dict:
    """maj@k / pass@k against k for the SFT model and GRPO+OS (first seed), on held-out synthetic problems."""
    import dataclasses

    from seekmath.evaluate.harness import evaluate_model

    ecfg = dataclasses.replace(cfg.eval, k=list(cfg.findings.k), limit=cfg.findings.k_problems, prompt="zeroshot")
    after_name = "grpo_os" if "grpo_os" in cfg.findings.variants else next(iter(cfg.findings.variants))
    models = {"before RL (SFT)": sft, f"after RL ({after_name})": out / "findings" / after_name / f"seed{cfg.findings.seeds[0]}" / "final"}
    curves = {}
    for label, path in models.items():
        ev_dir = out / "findings" / "k_eval" / label.split()[0]
        if (ev_dir / "summary.json").is_file():
            res = json.loads((ev_dir / "summary.json").read_text())
        else:
            res = evaluate_model(str(path), ["synthetic"], ecfg, ev_dir, tasks_cfg=cfg.tasks)
        curves[label] = res["synthetic"]
    return curves


