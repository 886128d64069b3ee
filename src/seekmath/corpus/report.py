"""report.md and plots of a corpus build: one figure across iterations and one domain chart per iteration."""

from __future__ import annotations

from pathlib import Path

from seekmath.runs import atomic_write_text


def _plot_iterations(out: Path, iters: list[dict], stop_overlap: float | None = None) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [s["iteration"] for s in iters]
    panels = [("documents", "documents collected"), ("tokens", "tokens collected"),
              ("domains_found", "math domains found"), ("overlap_with_previous", "overlap with previous iteration")]
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))
    for ax, (key, title) in zip(axes, panels):
        ys = [s.get(key) if s.get(key) is not None else float("nan") for s in iters]
        ax.plot(xs, ys, marker="o")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("iteration")
        ax.set_xticks(xs)
        if key == "overlap_with_previous" and stop_overlap is not None:
            ax.axhline(stop_overlap, color="red", linestyle="--", label="stop rule")
            ax.legend(fontsize=8)
    fig.tight_layout()
    name = "iterations.png"
    fig.savefig(out / name, dpi=90)
    plt.close(fig)
    return name


def _plot_domains(out: Path, s: dict, threshold: float | None) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shares = sorted(s.get("domain_shares", {}).items(), key=lambda kv: -kv[1])[:30]
    fig, ax = plt.subplots(figsize=(8, 0.25 * max(4, len(shares)) + 1))
    ax.barh([d for d, _ in shares][::-1], [v for _, v in shares][::-1])
    if threshold is not None:
        ax.axvline(threshold, color="red", linestyle="--", label="math-domain threshold")
        ax.legend(fontsize=8)
    ax.set_xlabel("share of the domain's pages collected")
    ax.set_title(f"iteration {s['iteration']}", fontsize=10)
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    name = f"iter{s['iteration']}_domains.png"
    fig.savefig(out / name, dpi=90)
    plt.close(fig)
    return name


def _rate(x) -> str:
    return "n/a (nothing planted)" if x is None else f"{x:.4f}"


def write_report(out_dir: str | Path, stats: dict, domain_threshold: float | None = 0.10,
                 stop_overlap: float | None = 0.98) -> Path:
    out = Path(out_dir)
    iters = stats.get("per_iteration", [])
    lines = ["# Corpus build", ""]
    lines += [f"- documents in: {stats['documents_in']}, out: {stats['documents_out']} ({stats['tokens_out']} tokens)",
              f"- iterations: {stats['iterations']}, stopped by: {stats['stopped_by']}",
              f"- math domains: {', '.join(stats['math_domains']) or '-'}",
              f"- URL duplicates removed: {stats['url_duplicates_removed']}, near-duplicates removed: {stats['near_duplicates_removed']}, "
              f"contaminated pages removed: {stats['contaminated_removed']}",
              f"- skipped while reading: {stats['skipped'] or '-'}",
              f"- time: {stats['seconds']} s ({stats['step_seconds']}); documents/s per core: read+extract "
              f"{stats.get('ingest_documents_per_second_per_core')}, build without classifier training "
              f"{stats['documents_per_second_per_core']}; whole build {stats.get('build_documents_per_second')} documents/s",
              ""]
    lines += [f"- **warning**: {w}" for w in stats.get("warnings", [])]
    if "precision" in stats:
        lines += ["## Against the labels", "",
                  f"- precision {stats['precision']:.4f}, recall {stats['recall']:.4f}",
                  f"- contamination recall {_rate(stats['contamination_recall'])} ({stats['contamination_planted']} planted); "
                  f"clean pages flagged contaminated: {stats['clean_pages_flagged_contaminated']}",
                  f"- near-duplicate recall {_rate(stats['near_duplicate_recall'])} ({stats['near_duplicates_planted']} planted)", ""]
    if iters:
        lines += ["## Iterations", "", "| iteration | positives | positives the previous classifier rejects | documents | tokens "
                  "| math domains | overlap | seed added |", "|---|---|---|---|---|---|---|---|"]
        for s in iters:
            ov = "-" if s.get("overlap_with_previous") is None else f"{s['overlap_with_previous']:.4f}"
            dis = "-" if s.get("positives_disagreeing") is None else f"{s['positives_disagreeing']:.2%}"
            lines.append(f"| {s['iteration']} | {s['positives']} | {dis} | {s['documents']} | {s['tokens']} | {s['domains_found']} "
                         f"| {ov} | {s['seed_added']} |")
        lines += ["", f"![iterations]({_plot_iterations(out, iters, stop_overlap)})", ""]
        for s in iters:
            lines += [f"### Iteration {s['iteration']}", "",
                      f"math domains: {', '.join(s['math_domains']) or '-'}; accepted paths: {', '.join(s['paths_accepted']) or '-'} "
                      f"(proposals in `work/recall/iter{s['iteration']}/paths.tsv`)", "",
                      f"![domains]({_plot_domains(out, s, domain_threshold)})", ""]
    return atomic_write_text(out / "report.md", "\n".join(lines) + "\n")
