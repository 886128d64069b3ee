"""The paper's unified-paradigm study (§5.2, Fig. 5-7) at toy scale, over a recipe run's SFT checkpoint.

From one SFT checkpoint (`run_dir/sft/final`, left by the recipe's stages up to sft), train each variant
of `findings.variants` with each seed of `findings.seeds`:

    rft            offline RFT: samples of the frozen SFT policy, filtered by correctness (Table 10)
    online_rft     online RFT: fresh samples of the current policy, gradient coefficient I(o)
    grpo_os        GRPO with outcome supervision (rule reward)
    grpo_ps        GRPO with process supervision, PRM trained on Math-Shepherd step labels
    grpo_ps_exact  the same with a PRM trained on the synthetic task's exact step labels (the upper bound)
    iterative_1    GRPO with an outcome RM, one iteration of Algorithm 1
    iterative_2    two iterations (pi_ref reset and RM retrained in between), the same TOTAL steps

Equal budgets: every variant runs at most `findings.steps` RL steps in all (an iterative variant splits
them over its iterations) under the same CPU cap `findings.cpu_budget_s`, whichever ends it first; a
variant may override both (findings.yaml compares the iterative pair at equal total steps, uncapped).
Steps done and CPU seconds used are recorded per run. `findings.label_budget` sets how many responses each reward-model round labels.

Splits (tasks/synthetic.py): the curves are RL's in-loop greedy accuracy on the TUNING split; every
final policy is then scored once, greedy, on `findings.report_problems` problems of the REPORT split,
and maj@k / pass@k before RL (SFT) and after RL (`findings.k_variant`) come from the report split too,
per seed. Only report-split numbers enter the orderings (findings/report.py states them with their
intervals next to the paper's). Everything is written to `run_dir/findings.json`; `findings.md` is
built from it, and a rerun skips finished runs and evaluations.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from pathlib import Path

from seekmath.config import Config, ConfigError, apply_overrides, from_dict, to_dict
from seekmath.runs import atomic_write_json, prepare_stage_dir
from seekmath.stages import final_model

log = logging.getLogger("seekmath.findings")


def variant_config(cfg: Config, overrides: list[str], seed: int) -> Config:
    """The RL config of one (variant, seed): the study's budgets, then the variant's overrides.

    A variant may override the study's own keys too (`findings.steps=60`, `rl.time_budget_s=0`): the
    iterative pair is compared at equal total steps without a CPU cap, the other variants at one cap.
    """
    f = cfg.findings
    if any(o.split("=", 1)[0].strip() == "rl.steps" for o in overrides):
        raise ConfigError("findings.variants: set the total RL steps with findings.steps, not rl.steps "
                          "(iterative variants split them over rl.iterations)")
    data = apply_overrides(to_dict(cfg), [f"rl.eval_every={f.eval_every}", f"rl.seed={seed}",
                                          f"rl.time_budget_s={f.cpu_budget_s}", *overrides])
    rl, total = data["rl"], int(data["findings"]["steps"])
    iterations = int(rl.get("iterations", 1))
    if iterations < 1 or total % iterations:
        raise ConfigError(f"findings.steps={total} does not split into rl.iterations={iterations} equal iterations")
    rl["steps"] = total // iterations
    if f.label_budget > 0 and rl.get("reward") in ("orm", "prm"):
        rl["rm_train_prompts"] = math.ceil(f.label_budget / max(1, int(rl["rm_samples_per_prompt"])))
    return from_dict(Config, data)


def run_dir_of(out: Path, name: str, seed: int) -> Path:
    return out / "findings" / name / f"seed{seed}"


def _finished(run_dir: Path) -> bool:
    return (run_dir / "summary.json").is_file() and (run_dir / "final").is_dir()


def _flat(data: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in data.items():
        out.update(_flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


_RL_SECTIONS = ("rl", "model", "tasks", "tokenizer")


def check_same_settings(run_dir: Path, cfg: Config) -> None:
    """Refuse a run folder that a finished or interrupted run left with other settings.

    A rerun skips finished runs and resumes interrupted ones, so a study rerun into the same `--out` with
    another budget would silently mix results (a 300-CPU-s run counted as a 600-CPU-s one). Nothing is
    deleted: the message names the folder and the settings that differ.
    """
    import yaml

    saved_path = run_dir / "config.yaml"
    if not saved_path.is_file():
        return
    saved, now = _flat(yaml.safe_load(saved_path.read_text()) or {}), _flat(to_dict(cfg))
    # what RL reads (the study's budgets reach it as rl.steps / rl.time_budget_s, so adding a variant or
    # a report benchmark does not invalidate a run); keys that one side's code version lacks are skipped
    differ = sorted(k for k in saved.keys() & now.keys() if k.split(".")[0] in _RL_SECTIONS and saved[k] != now[k])
    if differ:
        shown = ", ".join(f"{k}: {saved[k]!r} -> {now[k]!r}" for k in differ[:4])
        more = f" (and {len(differ) - 4} more)" if len(differ) > 4 else ""
        raise ConfigError(f"findings: {run_dir} was trained with other settings ({shown}{more}); "
                          "use another --out, or move that folder away to retrain it")


def _train(cfg_data: dict, sft: str, run_dir: str) -> str:
    """One RL run (in this process or a worker); resumes from its checkpoint when one is there."""
    from seekmath.rl.grpo import run_rl

    run_dir_p = Path(run_dir)
    run_rl(from_dict(Config, cfg_data), sft, run_dir_p, resume=(run_dir_p / "checkpoints").is_dir(), progress=False)
    return run_dir


def train_all(jobs: list[tuple[str, int, Config]], sft: Path, out: Path, workers: int = 1) -> None:
    """Train every unfinished (variant, seed); `workers` > 1 runs that many at once in spawned processes."""
    todo = [(n, s, c) for n, s, c in jobs if not _finished(run_dir_of(out, n, s))]
    log.info("findings: %d of %d runs to train (%d worker(s))", len(todo), len(jobs), workers)
    if workers <= 1:
        for n, s, c in todo:
            log.info("findings: training %s seed %d", n, s)
            _train(to_dict(c), str(sft), str(run_dir_of(out, n, s)))
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_train, to_dict(c), str(sft), str(run_dir_of(out, n, s))) for n, s, c in todo]
        for fut in futures:
            log.info("findings: finished %s", fut.result())


def _evaluate(cfg: Config, model: Path, out_dir: Path, *, limit: int, k: list[int], seed: int = 0) -> dict:
    """The eval harness on the report split ("synthetic" = its test split); cached in out_dir."""
    from seekmath.evaluate.harness import evaluate_model

    ecfg = dataclasses.replace(cfg.eval, k=list(k), limit=limit, prompt="zeroshot", greedy=True, seed=seed)
    return evaluate_model(str(model), ["synthetic"], ecfg, out_dir, tasks_cfg=cfg.tasks, model_cfg=cfg.model)["synthetic"]


def rm_quality(run_dir: Path) -> list[dict]:
    """Per reward-model round: examples, held-out size (responses, labelled positions), AUC and its interval."""
    rounds = []
    for p in sorted((run_dir / "reward_model").glob("round-*/summary.json"), key=lambda p: int(p.parent.name.split("-")[1])):
        s = json.loads(p.read_text())
        after = s.get("heldout_after") or {}
        rounds.append({"round": int(p.parent.name.split("-")[1]), "kind": s.get("kind"), "examples": s.get("examples"),
                       "heldout_responses": s.get("heldout"), "heldout_positions": after.get("n", 0), "auc": after.get("auc"),
                       "auc_ci95": after.get("auc_ci95"), "accuracy": after.get("accuracy"),
                       "positive_share": after.get("positive_share")})
    return rounds


def collect_run(cfg: Config, run_dir: Path) -> dict:
    """What a finished run contributes: tuning-split curve, report-split greedy accuracy, budgets, RM quality."""
    summary = json.loads((run_dir / "summary.json").read_text())
    rep = _evaluate(cfg, run_dir / "final", run_dir / "report_eval", limit=cfg.findings.report_problems, k=[])
    return {"curve_tune": {int(k): float(v) for k, v in summary.get("eval_greedy_acc", {}).items()},
            "report_greedy": rep["greedy"], "report_n": rep["n"], "steps": summary.get("steps"),
            "cpu_seconds": summary.get("cpu_seconds"), "seconds": summary.get("seconds"), "rm": rm_quality(run_dir)}


def k_evaluations(cfg: Config, out: Path, sft: Path) -> dict:
    """maj@k / pass@k on the report split, before RL (SFT) and after RL (k_variant), one sampling seed per seed."""
    f = cfg.findings
    if f.k_variant not in f.variants or not f.k:
        log.warning("findings: maj@k / pass@k skipped (findings.k_variant %r is not a variant, or findings.k is empty)", f.k_variant)
        return {}
    res: dict = {"variant": f.k_variant, "before": {}, "after": {}}
    for seed in f.seeds:
        for side, model in (("before", sft), ("after", run_dir_of(out, f.k_variant, seed) / "final")):
            r = _evaluate(cfg, model, out / "findings" / "k_eval" / side / f"seed{seed}", limit=f.k_problems, k=list(f.k), seed=seed)
            res[side][str(seed)] = {"maj": {str(k): v for k, v in r["maj"].items()}, "pass": {str(k): v for k, v in r["pass"].items()},
                                    "greedy": r.get("greedy"), "n": r["n"]}
    return res


def run_study(cfg: Config, out: str | Path) -> Path:
    """The study over a run folder whose `sft/final` the recipe has left; returns findings.md."""
    from seekmath.findings.report import build_findings_report
    from seekmath.rl.grpo import validate

    out = Path(out)
    f = cfg.findings
    if not f.variants or not f.seeds:
        raise ConfigError("findings.variants and findings.seeds must not be empty")
    jobs = [(name, seed, variant_config(cfg, overrides, seed)) for name, overrides in f.variants.items() for seed in f.seeds]
    for name, seed, vc in jobs:  # every variant's settings checked before any training
        try:
            validate(vc.rl)
        except ValueError as e:
            raise ConfigError(f"findings.variants.{name}: {e}") from None
    for name, seed, vc in jobs:  # before any training: nothing is mixed, nothing is lost
        check_same_settings(run_dir_of(out, name, seed), vc)
    sft = final_model(out, "sft")
    if not (sft / "config.json").is_file():
        raise ConfigError(f"findings: no SFT checkpoint at {sft}; run the recipe up to sft first "
                          "(`seekmath run --config findings` does)")
    prepare_stage_dir(out / "findings", cfg)
    t0, cpu0 = time.time(), time.process_time()
    train_all(jobs, sft, out, f.workers)
    runs: dict = {}
    for name, seed, _ in jobs:
        runs.setdefault(name, {})[str(seed)] = collect_run(cfg, run_dir_of(out, name, seed))
    data = {"runs": runs, "k_eval": k_evaluations(cfg, out, sft), "seeds": list(f.seeds), "variants": f.variants,
            "steps": f.steps, "cpu_budget_s": f.cpu_budget_s, "label_budget": f.label_budget,
            "splits": {"tune": cfg.rl.eval_problems, "report": f.report_problems, "report_k": f.k_problems},
            "seconds": round(time.time() - t0, 1), "main_process_cpu_seconds": round(time.process_time() - cpu0, 1)}
    atomic_write_json(out / "findings.json", data)
    return build_findings_report(out)
