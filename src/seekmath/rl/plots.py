"""PNG curves of an RL run from its metrics.jsonl: the training signals that matter.

Reward, accuracy, the share of outputs cut at the token limit, held-out greedy accuracy, KL to the
reference, entropy, response length, clip fraction and the share of zero-variance groups. The
surrogate loss is deliberately NOT plotted: with mu = 1 it is about 0 by construction and says
nothing about progress (TRL #2703, #3452).
Per-step signals of a few dozen samples are noisy, so past 20 points each panel draws the raw
curve faintly and a trailing moving average over it (`moving_average`).
"""

from __future__ import annotations

from pathlib import Path

PANELS = [
    ("reward_mean", "reward (mean)"),
    ("accuracy", "sampled accuracy"),
    ("truncation_rate", "cut at max_new_tokens (share)"),
    ("eval_greedy_acc", "held-out greedy accuracy"),
    ("kl", "KL to reference (k3)"),
    ("entropy", "entropy (nats/token)"),
    ("response_length", "response length (tokens)"),
    ("clip_fraction", "clip fraction"),
    ("zero_variance_groups", "zero-variance groups (share)"),
    ("seconds_step", "seconds per step"),
]


def moving_average(ys, window: int) -> list[float]:
    """Trailing mean over the last `window` points (fewer at the start): y_i' = mean(y[max(0, i-w+1) : i+1])."""
    if window < 1:
        raise ValueError(f"moving_average: window must be >= 1, got {window}")
    out, total = [], 0.0
    for i, y in enumerate(ys):
        total += y
        if i >= window:
            total -= ys[i - window]
        out.append(total / min(i + 1, window))
    return out


def plot_metrics(metrics_path, png_path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from seekmath.runs import read_jsonl

    rows = read_jsonl(metrics_path)
    nrows, ncols = -(-len(PANELS) // 5), 5  # a panel for every PANELS entry
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.75 * nrows))
    for ax, (key, title) in zip(axes.flat, PANELS):
        pts = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), (int, float))]
        if pts:
            xs, ys = zip(*pts)
            if len(pts) <= 20:
                ax.plot(xs, ys, marker="o", ms=3)
            else:
                window = max(5, len(pts) // 20)
                ax.plot(xs, ys, alpha=0.3, lw=0.8, label="per step")
                ax.plot(xs, moving_average(list(ys), window), lw=1.8, label=f"mean of last {window}")
                ax.legend(fontsize=7)
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
