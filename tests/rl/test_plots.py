"""RL curves: the moving average is the trailing mean, and a long run's PNG is written."""

import json

import pytest

from seekmath.rl.plots import moving_average, plot_metrics


def test_moving_average_hand_computed():
    # window 3: [1], [1,2], [1,2,3], [2,3,4], [3,4,5]
    assert moving_average([1.0, 2.0, 3.0, 4.0, 5.0], 3) == pytest.approx([1.0, 1.5, 2.0, 3.0, 4.0])
    assert moving_average([4.0, 0.0], 1) == [4.0, 0.0]
    with pytest.raises(ValueError, match="window"):
        moving_average([1.0], 0)


def test_plot_long_run(tmp_path):
    rows = [{"step": i, "reward_mean": (i % 7) / 7, "kl": 0.001 * i, "truncation_rate": (i % 3) / 3} for i in range(1, 61)] + [{"step": 60, "eval_greedy_acc": 0.3}]
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    png = plot_metrics(path, tmp_path / "curves.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "curves.tmp.png").exists()
