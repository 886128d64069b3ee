"""bench/ps_advantage_bias.py: the push statistics on hand-computed values, and PS's push on a hand-made group."""

import math
from pathlib import Path

import pytest
import torch

from seekmath.rl.advantages import outcome_advantages, process_advantages


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "bench"))
    import ps_advantage_bias

    return ps_advantage_bias


def test_push_stats_on_hand_values(bench):
    # one group of 4: pushes +1 (right, 10 tokens), -0.5 (wrong, 20), +0.5 (wrong, 30), -1 (wrong, 40)
    r = bench.push_stats([1.0, -0.5, 0.5, -1.0], [10, 20, 30, 40], [True, False, False, False], [0, 0, 0, 0])
    assert r["negative_share"] == pytest.approx(1.5 / 3.0)
    assert r["positive_push_on_wrong"] == pytest.approx(0.5 / 1.5)
    assert r["wrong_with_positive_push"] == pytest.approx(1 / 3)
    assert r["mean_push_wrong"] == pytest.approx(-1 / 3) and r["mean_push_correct"] == pytest.approx(1.0)
    # wrong outputs, centred on the group's means (length 25, push 0): lengths -5, 5, 15 against pushes
    # -0.5, 0.5, -1: sxy = -5, sxx = 200, syy = 42/36 -> r = -5 / sqrt(200 * 42/36) = -0.327
    assert r["corr_length_push_wrong"] == pytest.approx(-5 / math.sqrt(200 * 42 / 36))
    assert math.isnan(r["corr_length_push_correct"])  # one correct output: no correlation


def test_within_group_centres_each_group(bench):
    assert bench.within_group([1.0, 3.0, 10.0, 20.0], [0, 0, 1, 1]) == [-1.0, 1.0, -5.0, 5.0]


def test_process_supervision_pushes_a_group_without_a_right_answer_down(bench):
    """What the bench measures, on a hand-made group: 2 wrong outputs, right first step then a wrong one.

    Outcome supervision gives the group nothing (all rewards equal); process supervision's normalised
    step rewards over R = {1, 0, 1, 0} are +a for the right steps and -a for the wrong ones (mean 0.5),
    so each output's first-step tokens get +a - a = 0 and its second-step tokens -a: all push is negative.
    """
    adv = process_advantages([[1.0, 0.0], [1.0, 0.0]], [[1, 3], [1, 3]], [4, 4], group_size=2, normalise_std=True).values
    assert (adv[:, :2].abs() < 1e-6).all() and (adv[:, 2:] < 0).all()
    push = (adv.sum(1) / 4).tolist()
    r = bench.push_stats(push, [4, 4], [False, False], [0, 0])
    assert r["negative_share"] == 1.0
    assert torch.all(outcome_advantages(torch.tensor([0.0, 0.0]), 2).values == 0)
