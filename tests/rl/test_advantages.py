"""Outcome and process advantages (§4.1.2-4.1.3) against hand-computed values; zero-variance rule."""

import math

import pytest
import torch

from seekmath.rl.advantages import indicator_advantages, outcome_advantages, process_advantages


def test_outcome_hand_values_and_zero_variance():
    r = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0])
    adv = outcome_advantages(r, group_size=4)
    # group 1: mean 0.25, sample std 0.5 -> 1.5, -0.5 x3 ; group 2: all equal -> exactly 0
    assert adv.values.tolist() == pytest.approx([1.5, -0.5, -0.5, -0.5, 0, 0, 0, 0])
    assert adv.zero_variance_groups == 1 and adv.num_groups == 2 and adv.zero_variance_share == 0.5


def test_outcome_without_std():
    adv = outcome_advantages(torch.tensor([1.0, 0.0, 0.0, 0.0]), 4, normalise_std=False)
    assert adv.values.tolist() == pytest.approx([0.75, -0.25, -0.25, -0.25])


def test_outcome_all_zero_and_near_equal_are_safe():
    adv = outcome_advantages(torch.zeros(8), 4)
    assert torch.equal(adv.values, torch.zeros(8)) and adv.zero_variance_groups == 2
    # float noise around a constant is a zero-variance group, not a +-1e6 advantage
    adv = outcome_advantages(torch.tensor([0.7, 0.7 + 1e-9, 0.7, 0.7 - 1e-9]), 4)
    assert torch.equal(adv.values, torch.zeros(4)) and adv.zero_variance_groups == 1
    # a genuinely different but small spread is still normalised (scale-free)
    adv = outcome_advantages(torch.tensor([0.5, 0.5001]), 2)
    assert adv.values.tolist() == pytest.approx([-1 / math.sqrt(2), 1 / math.sqrt(2)], rel=1e-4)


def test_outcome_bad_input():
    with pytest.raises(ValueError, match="groups of 3"):
        outcome_advantages(torch.zeros(4), 3)
    with pytest.raises(ValueError, match="NaN"):
        outcome_advantages(torch.tensor([0.0, float("nan")]), 2)


def test_process_hand_values():
    # output 0: steps rewards [1, 0] ending at tokens 1 and 3, 5 tokens; output 1: one step [0] ending at 2, 3 tokens
    adv = process_advantages([[1.0, 0.0], [0.0]], [[1, 3], [2]], [5, 3], group_size=2)
    s = 1 / math.sqrt(3)  # R = {1,0,0}: mean 1/3, sample std sqrt(1/3) -> normalised 2s, -s, -s
    expect = torch.tensor([[2 * s - s, 2 * s - s, -s, -s, 0.0], [-s, -s, -s, 0.0, 0.0]])
    assert torch.allclose(adv.values, expect, atol=1e-6)
    assert adv.zero_variance_groups == 0


def test_process_zero_variance_and_mean_only():
    adv = process_advantages([[0.5, 0.5], [0.5]], [[0, 1], [0]], [2, 1], group_size=2)
    assert torch.equal(adv.values, torch.zeros(2, 2)) and adv.zero_variance_groups == 1
    adv = process_advantages([[1.0, 0.0], [0.0]], [[1, 3], [2]], [5, 3], group_size=2, normalise_std=False)
    # mean 1/3 -> 2/3, -1/3, -1/3
    assert adv.values[0].tolist() == pytest.approx([1 / 3, 1 / 3, -1 / 3, -1 / 3, 0.0])


def test_process_clamps_step_ends_and_rejects_mismatch():
    adv = process_advantages([[1.0], [0.0]], [[99], [0]], [2, 2], group_size=2, normalise_std=False)
    assert torch.allclose(adv.values, torch.tensor([[0.5, 0.5], [-0.5, 0.0]]))
    with pytest.raises(ValueError, match="step ends"):
        process_advantages([[1.0, 2.0], [0.0]], [[1], [0]], [2, 2], group_size=2)


def test_indicator():
    assert indicator_advantages(torch.tensor([1.0, 0.0, 0.7])).tolist() == [1.0, 0.0, 1.0]
