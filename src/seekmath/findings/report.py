"""findings.md and its plots, from a run folder's findings.json (`seekmath report RUN_DIR` rebuilds it)."""

from __future__ import annotations

import json
from pathlib import Path

from seekmath.findings.stats import curve_stats
from seekmath.runs import atomic_write_text

PAPER_CLAIMS = {
    ("online_rft", "rft"): "Online RFT > RFT",
    ("grpo_os", "online_rft"): "GRPO > Online RFT",
    ("grpo_ps", "grpo_os"): "GRPO+PS > GRPO+OS",
    ("iterative_2", "iterative_1"): "two iterations of iterative RL > one",
}


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
