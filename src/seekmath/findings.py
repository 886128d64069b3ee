"""`seekmath run --config findings`: the paper's unified-paradigm study (§5.2) at toy scale.

From one SFT checkpoint (the recipe's crawl → corpus → pretrain → sft stages, reused when done), train
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
import statistics
import time
from pathlib import Path

from seekmath.config import Config, apply_overrides, from_dict, to_dict
from seekmath.runs import atomic_write_json, atomic_write_text, prepare_stage_dir

log = logging.getLogger("seekmath.findings")

PAPER_CLAIMS = {
    ("online_rft", "rft"): "Online RFT > RFT",
    ("grpo_os", "online_rft"): "GRPO > Online RFT",
    ("grpo_ps", "grpo_os"): "GRPO+PS > GRPO+OS",
    ("iterative_2", "iterative_1"): "two iterations of iterative RL > one",
}


def variant_config(cfg: Config, overrides: list[str], seed: int) -> Config:
    f = cfg.findings
    data = apply_overrides(to_dict(cfg), [f"rl.steps={f.steps}", f"rl.eval_every={f.eval_every}",
                                          f"rl.seed={seed}", *overrides])
    return from_dict(Config, data)


def _curve(run_dir: Path) -> dict[int, float]:
    summary = json.loads((run_dir / "summary.json").read_text())
    return {int(k): float(v) for k, v in summary.get("eval_greedy_acc", {}).items()}


def run_findings(cfg: Config, out: str | Path, from_stage: str | None = None) -> Path:
    from seekmath.recipe import final_model, run_recipe

    out = Path(out)
    prep = to_dict(cfg)
    prep["run"]["stages"] = ["crawl", "corpus", "pretrain", "sft"]
    prep["run"]["mode"] = "recipe"
    run_recipe(from_dict(Config, prep), out, from_stage=from_stage)  # skips stages already done
    sft = final_model(out, "sft")
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


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def curve_stats(per_seed: dict) -> dict[int, tuple[float, float]]:
    """step -> (mean, std) over seeds, on the steps every seed evaluated."""
    steps = sorted(set.intersection(*(set(map(int, c)) for c in per_seed.values()))) if per_seed else []
    return {s: _mean_std([c[s] if s in c else c[str(s)] for c in per_seed.values()]) for s in steps}


def build_findings_report(out: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    data = json.loads((out / "findings.json").read_text())
    stats = {name: curve_stats(per_seed) for name, per_seed in data["curves"].items()}
    plots = out / "plots"
    plots.mkdir(exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name, st in stats.items():
        if not st:
            continue
        xs = list(st)
        m = [100 * st[x][0] for x in xs]
        s = [100 * st[x][1] for x in xs]
        ax.plot(xs, m, "o-", label=name, ms=3)
        ax.fill_between(xs, [a - b for a, b in zip(m, s)], [a + b for a, b in zip(m, s)], alpha=0.15)
    ax.set_xlabel("RL training step")
    ax.set_ylabel("held-out greedy accuracy (%)")
    ax.set_title(f"unified paradigm at toy scale (mean ± std over {len(data['seeds'])} seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(plots / "findings_accuracy_vs_steps.png", dpi=110)
    plt.close(fig)

    lines = ["# seekmath findings: the unified paradigm at toy scale", "",
             f"Seeds: {data['seeds']}; study time {data['seconds']} s. Accuracy = greedy, held-out synthetic problems.", "",
             "![accuracy vs steps](plots/findings_accuracy_vs_steps.png)", "",
             "| variant | start | final (mean ± std) | best step mean |", "|---|---|---|---|"]
    finals = {}
    for name, st in stats.items():
        if not st:
            lines.append(f"| {name} | – | – | – |")
            continue
        first, last = st[min(st)], st[max(st)]
        finals[name] = last[0]
        best = max(v[0] for v in st.values())
        lines.append(f"| {name} | {100 * first[0]:.1f} | {100 * last[0]:.1f} ± {100 * last[1]:.1f} | {100 * best:.1f} |")
    lines += ["", "## Orderings: ours next to the paper's", "", "| paper (§5.2) | at toy scale | agrees |", "|---|---|---|"]
    for (a, b), claim in PAPER_CLAIMS.items():
        if a in finals and b in finals:
            ours = f"{a} {100 * finals[a]:.1f} vs {b} {100 * finals[b]:.1f}"
            lines.append(f"| {claim} | {ours} | {'yes' if finals[a] > finals[b] else 'no'} |")
    kc = data.get("k_curves") or {}
    if kc:
        fig, ax = plt.subplots(figsize=(6, 4))
        for label, r in kc.items():
            ks = sorted(int(k) for k in r["maj"])
            ax.plot(ks, [100 * r["maj"][str(k)] if str(k) in r["maj"] else 100 * r["maj"][k] for k in ks], "o-", label=f"maj@k {label}")
            ax.plot(ks, [100 * r["pass"][str(k)] if str(k) in r["pass"] else 100 * r["pass"][k] for k in ks], "s--", label=f"pass@k {label}")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("k")
        ax.set_ylabel("accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(plots / "findings_maj_pass_vs_k.png", dpi=110)
        plt.close(fig)
        labels = list(kc)
        ks = sorted(int(k) for k in kc[labels[0]]["maj"])
        lines += ["", "## maj@k and pass@k before and after RL (paper Fig. 7: RL raises maj@K, not pass@K)", "",
                  "![maj/pass vs k](plots/findings_maj_pass_vs_k.png)", "",
                  "| k | " + " | ".join(f"maj@k {l} | pass@k {l}" for l in labels) + " |", "|---|" + "---|---|" * len(labels)]
        for k in ks:
            cells = []
            for l in labels:
                r = kc[l]
                cells += [f"{100 * r['maj'].get(str(k), r['maj'].get(k, 0)):.1f}", f"{100 * r['pass'].get(str(k), r['pass'].get(k, 0)):.1f}"]
            lines.append(f"| {k} | " + " | ".join(cells) + " |")
        if len(labels) == 2:
            kmax = str(ks[-1])
            b, a = kc[labels[0]], kc[labels[1]]
            dm = a["maj"].get(kmax, 0) - b["maj"].get(kmax, 0)
            dp = a["pass"].get(kmax, 0) - b["pass"].get(kmax, 0)
            lines += ["", f"At k = {kmax}: RL changed maj@k by {100 * dm:+.1f} points and pass@k by {100 * dp:+.1f} points "
                      f"({'agrees' if dm > 0 and dm > dp else 'does not agree'} with the paper's reading that RL raises maj@K, "
                      "not pass@K)."]
    return atomic_write_text(out / "findings.md", "\n".join(lines) + "\n")
