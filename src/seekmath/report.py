"""`seekmath report RUN_DIR`: report.md, summary.json and PNG plots from a run folder.

Everything is read back from the stages' files (DONE.json, eval summaries, corpus stats.json,
metrics.jsonl), so a report can be rebuilt at any time, also for a run that stopped half-way.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from seekmath.runs import atomic_write_json, atomic_write_text, read_metrics
from seekmath.stages import MODEL_STAGES, STAGES

log = logging.getLogger("seekmath.report")


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _fmt(x: Any, pct: bool = True) -> str:
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return f"{100 * x:.1f}" if pct else (f"{x:.4g}" if isinstance(x, float) else str(x))
    return "–"


def collect_summary(run_dir: Path) -> dict:
    """summary.json: {"stages": {STAGE: {BENCH: {...}}}, "seconds": {STAGE: s}, "peak_rss_mb": {...}, ...}."""
    summary: dict[str, Any] = {"stages": {}, "seconds": {}, "peak_rss_mb": {}}
    # the recipe's order, then anything else
    dirs = sorted((p for p in run_dir.iterdir() if p.is_dir()),
                  key=lambda p: (STAGES.index(p.name) if p.name in STAGES else len(STAGES), p.name))
    for stage_dir in dirs:
        done = _load_json(stage_dir / "DONE.json")
        if done:
            summary["seconds"][stage_dir.name] = done.get("seconds")
            summary["peak_rss_mb"][stage_dir.name] = done.get("peak_rss_mb")
    for stage in MODEL_STAGES:
        ev = _load_json(run_dir / "eval" / stage / "all_summary.json") or _load_json(run_dir / "eval" / stage / "summary.json")
        if ev:
            summary["stages"][stage] = ev
        skipped = _load_json(run_dir / "eval" / stage / "skipped.json")
        if skipped:  # benchmarks the recipe did not run on this checkpoint, and why
            summary.setdefault("not_evaluated", {})[stage] = skipped
    corpus = _load_json(run_dir / "corpus" / "stats.json")
    if corpus:
        summary["corpus"] = {k: v for k, v in corpus.items() if not isinstance(v, (list, dict)) or k in ("skipped", "math_domains")}
    summary["total_seconds"] = round(sum(v for v in summary["seconds"].values() if isinstance(v, (int, float))), 1)
    return summary


# ----------------------------------------------------------------------------------------------
# Plots


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_k_curves(summary: dict, out: Path) -> Path | None:
    """maj@k and pass@k against k for each evaluated stage (paper Fig. 7)."""
    stages = {s: v for s, v in summary["stages"].items()}
    # a curve needs at least two values of k (real benchmarks are evaluated greedy-only)
    benches = sorted({b for v in stages.values() for b, r in v.items() if isinstance(r, dict) and len(r.get("maj") or {}) > 1})
    if not benches:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, len(benches), figsize=(5 * len(benches), 3.6), squeeze=False)
    for ax, bench in zip(axes[0], benches):
        for stage, res in stages.items():
            r = res.get(bench)
            if not r or not r.get("maj"):
                continue
            ks = sorted(int(k) for k in r["maj"])
            ax.plot(ks, [100 * r["maj"][str(k)] if str(k) in r["maj"] else 100 * r["maj"][k] for k in ks], "o-", label=f"{stage} maj@k")
            ks_p = sorted(int(k) for k in r.get("pass", {}))
            if ks_p:
                ax.plot(ks_p, [100 * (r["pass"].get(str(k), r["pass"].get(k))) for k in ks_p], "s--", label=f"{stage} pass@k")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("k")
        ax.set_ylabel("accuracy (%)")
        ax.set_title(bench)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_metric_curves(rows: list[dict], keys: list[str], out: Path, title: str) -> Path | None:
    keys = [k for k in keys if any(isinstance(r.get(k), (int, float)) for r in rows)]
    if not rows or not keys:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3.2), squeeze=False)
    for ax, key in zip(axes[0], keys):
        pts = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), (int, float))]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "-", lw=1.2)
        ax.set_title(key, fontsize=9)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


# ----------------------------------------------------------------------------------------------
# Markdown


def _results_table(summary: dict) -> list[str]:
    lines = []
    benches = []
    for res in summary["stages"].values():
        for b, r in res.items():
            if isinstance(r, dict) and b not in benches:
                benches.append(b)
    for bench in benches:
        rows = [(s, summary["stages"][s].get(bench)) for s in MODEL_STAGES if s in summary["stages"]]
        rows = [(s, r) for s, r in rows if r]
        if not rows:
            continue
        k = next((r.get("k") for _, r in rows if r.get("k")), "k")
        lines += [f"**{bench}** (n = {rows[0][1].get('n', '?')})", "",
                  f"| stage | greedy | maj@{k} | pass@{k} | greedy 95% CI |", "|---|---|---|---|---|"]
        for stage, r in rows:
            ci = r.get("ci95")
            ci_s = f"{100 * ci[0]:.1f}–{100 * ci[1]:.1f}" if isinstance(ci, (list, tuple)) and len(ci) == 2 else "–"
            lines.append(f"| {stage} | {_fmt(r.get('greedy'))} | {_fmt(r.get('maj@k'))} | {_fmt(r.get('pass@k'))} | {ci_s} |")
        lines.append("")
    return lines


def _corpus_section(run_dir: Path, plots: Path) -> list[str]:
    stats = _load_json(run_dir / "corpus" / "stats.json")
    if not stats:
        return []
    lines = ["## Corpus mining", ""]
    keys = ["documents_in", "documents_out", "tokens_out", "iterations", "stopped_by", "near_duplicates_removed",
            "contaminated_removed", "precision", "recall", "contamination_recall"]
    lines += ["| statistic | value |", "|---|---|"]
    for k in keys:
        if k in stats:
            v = stats[k]
            lines.append(f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |")
    if stats.get("math_domains"):
        lines.append(f"| math_domains | {', '.join(map(str, stats['math_domains']))} |")
    if stats.get("skipped"):
        lines.append(f"| skipped | {', '.join(f'{k}: {v}' for k, v in stats['skipped'].items())} |")
    lines.append("")
    per_iter = stats.get("per_iteration") or stats.get("iteration_stats")
    if isinstance(per_iter, list) and per_iter and isinstance(per_iter[0], dict):
        cols = [c for c in per_iter[0].keys() if not isinstance(per_iter[0][c], (list, dict))]
        lines += ["Per iteration:", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for row in per_iter:
            lines.append("| " + " | ".join(_fmt(row.get(c), pct=False) if not isinstance(row.get(c), str) else row[c] for c in cols) + " |")
        lines.append("")
    for png in sorted((run_dir / "corpus").glob("*.png")):
        lines.append(f"![{png.stem}](corpus/{png.name})")
    lines.append("")
    return lines


def build_report(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    plots = run_dir / "plots"
    plots.mkdir(exist_ok=True)
    summary = collect_summary(run_dir)
    atomic_write_json(run_dir / "summary.json", summary)

    lines = [f"# seekmath run report: {run_dir.name}", ""]
    lines += ["Stages: crawl → corpus (recall loop, dedup, decontamination) → pretrain → sft → rl (GRPO) → eval.", ""]
    lines += ["## Results", ""]
    if summary["stages"]:
        lines += _results_table(summary)
        for stage, skipped in summary.get("not_evaluated", {}).items():
            lines += [f"Not run on the {stage} checkpoint: " + "; ".join(f"{b} ({why})" for b, why in skipped.items()) + ".", ""]
        lines.append("greedy = temperature 0 top-1; maj@k = majority vote over k samples; pass@k = unbiased estimator "
                     "(Chen et al. 2021). Accuracies in %. `synthetic` numbers here are on the report split (never used "
                     "to choose settings); the RL curves' held-out accuracy (eval_greedy_acc) is on the tuning split.")
        lines.append("")
    else:
        lines += ["No evaluation results yet.", ""]
    kplot = plot_k_curves(summary, plots / "maj_pass_vs_k.png")
    if kplot:
        lines += ["### maj@k and pass@k against k, before and after RL", "", f"![maj/pass vs k](plots/{kplot.name})", ""]

    lines += _corpus_section(run_dir, plots)

    for stage, keys in [("pretrain", ["loss", "lr", "tokens_per_s"]), ("sft", ["loss", "lr", "tokens_per_s"]),
                        ("rl", ["reward_mean", "accuracy", "kl", "entropy", "response_length", "zero_variance_groups",
                                "eval_greedy_acc"])]:
        rows = read_metrics(run_dir / stage)
        if not rows:
            continue
        png = plot_metric_curves(rows, keys, plots / f"{stage}_curves.png", f"{stage} metrics")
        if png:
            lines += [f"## {stage} curves", "", f"![{stage}](plots/{png.name})", ""]

    if summary["seconds"]:
        lines += ["## Time and memory per stage", "", "| stage | seconds | peak RSS (MB) |", "|---|---|---|"]
        for stage, sec in summary["seconds"].items():
            lines.append(f"| {stage} | {sec} | {summary['peak_rss_mb'].get(stage, '–')} |")
        lines += [f"| **total** | {summary['total_seconds']} | |", ""]

    cfg_file = run_dir / "config.yaml"
    if cfg_file.is_file():
        lines += ["## Exact config", "", "```yaml", cfg_file.read_text().rstrip(), "```", ""]
    report = atomic_write_text(run_dir / "report.md", "\n".join(lines))
    return report


def main(command: str, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="seekmath report", description=__doc__)
    parser.add_argument("run_dir", help="a run folder written by `seekmath run`")
    args = parser.parse_args(argv)
    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        parser.error(f"not a folder: {run_dir}")
    if (run_dir / "findings.json").is_file():
        from seekmath.findings.report import build_findings_report

        print(build_findings_report(run_dir))
    else:
        print(build_report(run_dir))
    return 0
