"""findings.md and its plots from a run folder's findings.json (`seekmath report RUN_DIR` rebuilds them).

Each of the paper's orderings is stated with its difference, 95% interval, seeds and a verdict word
(agree / disagree / unresolved; findings/stats.py), from REPORT-split numbers only; the curves are the
TUNING split's (RL's in-loop evaluation).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from seekmath.findings.stats import Ordering, curve_stats, mean_std, ordering
from seekmath.runs import atomic_write_text

# (A, B, the paper's claim "A > B") on report-split final greedy accuracy [P §5.2, spec §4]. The paper's
# GRPO+OS uses a learned outcome RM: iterative_1 (one iteration, ORM on the same label budget) is that
# baseline; grpo_os (the rule reward, a perfect outcome signal) is the stronger one a PRM must beat here.
PAPER_ORDERINGS = [
    ("online_rft", "rft", "Online RFT > RFT"),
    ("grpo_os", "online_rft", "GRPO > Online RFT"),
    ("grpo_ps", "iterative_1", "GRPO+PS > GRPO+OS (Math-Shepherd PRM vs ORM, same label budget)"),
    ("grpo_ps_exact", "iterative_1", "GRPO+PS > GRPO+OS (exact-label PRM vs ORM, same label budget)"),
    ("grpo_ps", "grpo_os", "GRPO+PS > GRPO+OS (Math-Shepherd PRM vs rule reward)"),
    ("grpo_ps_exact", "grpo_os", "GRPO+PS > GRPO+OS (exact-label PRM vs rule reward)"),
    ("iterative_2", "iterative_1", "iterative RL: 2 iterations > 1 (equal total steps)"),
]
MAJ_PASS_CLAIM = "RL raises maj@K, not pass@K (maj@K gain > pass@K gain)"


def _pts(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:+.1f}"


def _pct(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}"


def report_values(data: dict, name: str) -> list[float]:
    """Per-seed report-split greedy accuracies of a variant (seeds in the study's order)."""
    runs = data.get("runs", {}).get(name, {})
    return [runs[s]["report_greedy"] for s in map(str, data.get("seeds", [])) if s in runs and runs[s].get("report_greedy") is not None]


def maj_pass_gaps(k_eval: dict) -> tuple[int | None, list[float]]:
    """(K, per-seed (maj@K after - before) - (pass@K after - before)) at the largest k; seeds paired."""
    before, after = k_eval.get("before", {}), k_eval.get("after", {})
    seeds = [s for s in before if s in after]
    if not seeds:
        return None, []
    K = str(max(int(k) for k in before[seeds[0]]["maj"]))
    return int(K), [(after[s]["maj"][K] - before[s]["maj"][K]) - (after[s]["pass"][K] - before[s]["pass"][K]) for s in seeds]


def orderings(data: dict) -> list[Ordering]:
    """The paper's orderings measured on the report split (those whose variants ran)."""
    out = []
    for a, b, claim in PAPER_ORDERINGS:
        va, vb = report_values(data, a), report_values(data, b)
        if va and vb:
            out.append(ordering(claim, a, b, va, vb))
    K, gaps = maj_pass_gaps(data.get("k_eval") or {})
    if gaps:
        after = data["k_eval"].get("variant", "RL")
        out.append(ordering(f"{MAJ_PASS_CLAIM}, K = {K}", f"{after} maj@{K} gain", f"pass@{K} gain", gaps))
    return out


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(data: dict, png: Path) -> Path | None:
    """Tuning-split greedy accuracy against RL steps: mean over seeds, band = ± one std."""
    curves = {name: curve_stats({s: r["curve_tune"] for s, r in runs.items() if r.get("curve_tune")})
              for name, runs in data.get("runs", {}).items()}
    curves = {n: st for n, st in curves.items() if st}
    if not curves:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name, st in curves.items():
        xs = list(st)
        m = [100 * st[x][0] for x in xs]
        s = [100 * st[x][1] for x in xs]
        ax.plot(xs, m, "o-", label=name, ms=3)
        ax.fill_between(xs, [a - b for a, b in zip(m, s)], [a + b for a, b in zip(m, s)], alpha=0.15)
    ax.set_xlabel("RL training step (total, over iterations)")
    ax.set_ylabel("greedy accuracy, tuning split (%)")
    ax.set_title(f"unified paradigm at toy scale (mean ± std over {len(data.get('seeds', []))} seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


def plot_k(k_eval: dict, png: Path) -> Path | None:
    """maj@k / pass@k against k before and after RL (report split; mean over seeds, band = ± one std)."""
    if not k_eval.get("before"):
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    for side, label in (("before", "before RL (SFT)"), ("after", f"after RL ({k_eval.get('variant')})")):
        per_seed = k_eval.get(side, {})
        if not per_seed:
            continue
        for metric, style in (("maj", "o-"), ("pass", "s--")):
            ks = sorted(int(k) for k in next(iter(per_seed.values()))[metric])
            st = [mean_std([r[metric][str(k)] for r in per_seed.values()]) for k in ks]
            m = [100 * x[0] for x in st]
            ax.plot(ks, m, style, label=f"{metric}@k {label}")
            ax.fill_between(ks, [a - 100 * x[1] for a, x in zip(m, st)], [a + 100 * x[1] for a, x in zip(m, st)], alpha=0.12)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("k")
    ax.set_ylabel("accuracy, report split (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


def _rm_cell(rounds: list[dict]) -> str:
    cells = []
    for r in rounds:
        ci = r.get("auc_ci95")
        ci_s = f" [{ci[0]:.2f}, {ci[1]:.2f}]" if isinstance(ci, list) and len(ci) == 2 and not any(map(math.isnan, ci)) else ""
        auc = r.get("auc")
        auc_s = f"{auc:.2f}" if isinstance(auc, (int, float)) and not math.isnan(auc) else "–"
        cells.append(f"r{r['round']}: {auc_s}{ci_s}, {r.get('examples')} ex, {r.get('heldout_positions')} held-out pos.")
    return "; ".join(cells) or "–"


def ordering_rows(ords: list[Ordering]) -> list[str]:
    lines = ["| paper's ordering | ours: A − B (points) | 95% interval | seeds (A / B) | verdict |", "|---|---|---|---|---|"]
    for o in ords:
        lines.append(f"| {o.claim} | {o.a} − {o.b}: {_pts(o.diff)} | [{_pts(o.lo)}, {_pts(o.hi)}] | {o.seeds_a} / {o.seeds_b} | "
                     f"**{o.verdict}** |")
    return lines


def build_findings_report(out: str | Path) -> Path:
    out = Path(out)
    data = json.loads((out / "findings.json").read_text())
    seeds = data.get("seeds", [])
    sp = data.get("splits", {})
    all_runs = [r for runs in data.get("runs", {}).values() for r in runs.values()]
    run_wall = sum(r.get("seconds") or 0 for r in all_runs)
    run_cpu = sum(r.get("cpu_seconds") or 0 for r in all_runs)
    cap = f"a CPU cap of {data['cpu_budget_s']:g} s" if data.get("cpu_budget_s") else "no CPU cap"
    lines = ["# seekmath findings: the unified paradigm (paper §5.2) at toy scale", "",
             f"Seeds {seeds}; every variant at most {data.get('steps')} RL steps in all (iterative variants split them over "
             f"their iterations) and {cap} per run, whichever ends it first, unless its overrides below say otherwise; "
             "reward-model label budget "
             f"{data.get('label_budget') or 'as the rl settings give'} responses per round. The {len(all_runs)} RL runs took "
             f"{run_wall:.0f} s of wall time and {run_cpu:.0f} CPU-s in their loops; the last invocation of the study "
             f"(training what was missing, then evaluating) took {data.get('seconds')} s of wall time.", "",
             f"**Which numbers come from where.** Curves: greedy accuracy on the **tuning split** ({sp.get('tune')} problems, "
             "RL's in-loop evaluation; settings may be chosen on it). Final accuracies, maj@k / pass@k and every ordering: "
             f"the **report split** ({sp.get('report')} problems greedy, {sp.get('report_k')} for maj@k / pass@k), used for "
             "nothing else. The three splits are disjoint by construction (tasks/synthetic.py).", ""]
    ords = orderings(data)
    lines += ["## Orderings: ours next to the paper's (report split)", ""] + ordering_rows(ords)
    lines += ["", "Difference = mean over seeds of A minus mean of B, in accuracy points; interval = Welch's t (95%) over "
              "seeds (the maj@K row: one-sample t over per-seed paired gaps). agree = interval above 0, disagree = below 0, "
              "unresolved = contains 0.", ""]

    lines += ["## Final accuracy per variant (report split, greedy)", "",
              "| variant | mean ± std | per seed | steps | CPU s (mean) | reward model: held-out AUC [95%], examples, held-out positions |",
              "|---|---|---|---|---|---|"]
    for name, runs in data.get("runs", {}).items():
        vals = report_values(data, name)
        if not vals:
            continue
        m, s = mean_std(vals)
        rs = [runs[str(x)] for x in seeds if str(x) in runs]
        steps = sorted({r.get("steps") for r in rs})
        cpu = [r["cpu_seconds"] for r in rs if isinstance(r.get("cpu_seconds"), (int, float))]
        rm = "<br>".join(f"seed {x}: {_rm_cell(runs[str(x)].get('rm', []))}" for x in seeds if str(x) in runs and runs[str(x)].get("rm"))
        cpu_s = f"{sum(cpu) / len(cpu):.0f}" if cpu else "–"
        lines.append(f"| {name} | {_pct(m)} ± {_pct(s)} | {' / '.join(_pct(v) for v in vals)} | {', '.join(map(str, steps))} | "
                     f"{cpu_s} | {rm or '–'} |")
    if data.get("variants"):
        lines += ["", "Variants (overrides of the study's settings): " + "; ".join(
            f"`{n}`: {', '.join(ov)}" for n, ov in data["variants"].items()) + "."]
    plots = out / "plots"
    if plot_curves(data, plots / "findings_accuracy_vs_steps.png"):
        lines += ["", "## Accuracy against RL steps (tuning split)", "", "![accuracy vs steps](plots/findings_accuracy_vs_steps.png)"]
    ke = data.get("k_eval") or {}
    if plot_k(ke, plots / "findings_maj_pass_vs_k.png"):
        ks = sorted(int(k) for k in next(iter(ke["before"].values()))["maj"])
        lines += ["", "## maj@k and pass@k before and after RL (report split, mean over seeds; paper Fig. 7)", "",
                  "![maj/pass vs k](plots/findings_maj_pass_vs_k.png)", "",
                  "| k | maj@k before | maj@k after | pass@k before | pass@k after |", "|---|---|---|---|---|"]
        for k in ks:
            cell = {(side, metric): _pct(mean_std([r[metric][str(k)] for r in ke[side].values()])[0])
                    for side in ("before", "after") for metric in ("maj", "pass") if ke.get(side)}
            lines.append(f"| {k} | {cell.get(('before', 'maj'), '–')} | {cell.get(('after', 'maj'), '–')} | "
                         f"{cell.get(('before', 'pass'), '–')} | {cell.get(('after', 'pass'), '–')} |")
    return atomic_write_text(out / "findings.md", "\n".join(lines) + "\n")
