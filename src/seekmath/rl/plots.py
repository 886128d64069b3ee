"""PNG curves of an RL run from its metrics.jsonl: the training signals that matter.

Reward, accuracy, held-out greedy accuracy, KL to the reference, entropy, response length, clip
fraction and the share of zero-variance groups. The surrogate loss is deliberately NOT plotted: with
mu = 1 it is about 0 by construction and says nothing about progress (TRL #2703, #3452).
"""

from __future__ import annotations

from pathlib import Path

PANELS = [
    ("reward_mean", "reward (mean)"),
    ("accuracy", "sampled accuracy"),
    ("eval_greedy_acc", "held-out greedy accuracy"),
    ("kl", "KL to reference (k3)"),
    ("entropy", "entropy (nats/token)"),
    ("response_length", "response length (tokens)"),
    ("clip_fraction", "clip fraction"),
    ("zero_variance_groups", "zero-variance groups (share)"),
    ("seconds_step", "seconds per step"),
]


def plot_metrics(metrics_path, png_path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from seekmath.runs import read_jsonl

    rows = read_jsonl(metrics_path)
    fig, axes = plt.subplots(3, 3, figsize=(13, 9))
    for ax, (key, title) in zip(axes.flat, PANELS):
        pts = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), (int, float))]
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, marker="o" if len(pts) < 30 else None, ms=3)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    png_path = Path(png_path)
    tmp = png_path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=80)
    plt.close(fig)
    tmp.replace(png_path)
    return png_path
