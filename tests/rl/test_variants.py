"""GRPO's family as per-token rules: DAPO clip-higher, GSPO's sequence ratio, k1/k2/k3, RLOO, REINFORCE++,
DAPO's soft overlong penalty, KL in the reward, the difficulty curriculum — hand-computed values."""

import math

import pytest
import torch

from seekmath.rl.advantages import outcome_advantages, outcome_advantages_by, reinforce_pp_advantages, rloo_advantages
from seekmath.rl.curriculum import DifficultyPool
from seekmath.rl.losses import grpo_loss, kl_estimate
from seekmath.rl.reward_shaping import kl_penalised_rewards, soft_overlong_penalty


def _two_token_output():
    old = torch.log(torch.tensor([[0.4, 0.5]]))
    logp = torch.log(torch.tensor([[0.5, 0.35]]))  # ratios 1.25 and 0.7
    return logp, old, torch.tensor([[1.0, -1.0]]), torch.ones(1, 2, dtype=torch.bool)


def test_clip_higher_hand_values():
    logp, old, adv, mask = _two_token_output()
    sym, _ = grpo_loss(logp, old, None, adv, mask, clip_eps=0.2, beta=0.0)
    high, st = grpo_loss(logp, old, None, adv, mask, clip_eps=0.2, clip_eps_high=0.28, beta=0.0)
    assert sym.item() == pytest.approx(-(1.2 - 0.8) / 2, abs=1e-6)  # 1.25 clipped to 1.2; 0.7 -> 0.8 (A < 0)
    assert high.item() == pytest.approx(-(1.25 - 0.8) / 2, abs=1e-6)  # 1.25 < 1.28: not clipped any more
    assert st.clip_fraction == pytest.approx(0.5)
    same, _ = grpo_loss(logp, old, None, adv, mask, clip_eps=0.2, clip_eps_high=0.2, beta=0.0)
    assert same.item() == sym.item()


def test_gspo_sequence_ratio_value_and_gradient():
    old = torch.log(torch.tensor([[0.2, 0.5], [0.5, 0.5]]))
    logp = torch.log(torch.tensor([[0.3, 0.5], [0.45, 0.5]])).requires_grad_(True)  # row 0: log-ratios ln1.5, 0; row 1: ln0.9
    mask = torch.tensor([[1, 1], [1, 0]], dtype=torch.bool)
    adv = torch.tensor([1.0, -1.0])
    loss, _ = grpo_loss(logp, old, None, adv, mask, clip_eps=0.2, beta=0.0, ratio_level="sequence")
    s0 = math.sqrt(1.5)  # (1.5 * 1.0)^(1/2) = 1.2247 > 1.2 -> clipped
    assert s0 > 1.2
    assert loss.item() == pytest.approx(-(1.2 + -0.9) / 2, abs=1e-6)
    loss.backward()
    # row 0 is clipped (no gradient); row 1: d(-(1/2) s1 A1)/dlogp = 0.5 * s1 * (1/|o|) = 0.45; padding gets 0
    assert torch.allclose(logp.grad, torch.tensor([[0.0, 0.0], [0.45, 0.0]]), atol=1e-6)
    tok, _ = grpo_loss(logp.detach(), old, None, adv, mask, clip_eps=0.2, beta=0.0)
    assert tok.item() != pytest.approx(loss.item())  # token level clips 1.5 alone: another value


def test_kl_estimators_hand_values():
    logp, ref = torch.log(torch.tensor([0.5])), torch.log(torch.tensor([0.25]))
    ln2 = math.log(2)
    assert kl_estimate(logp, ref, "k1").item() == pytest.approx(ln2, rel=1e-6)
    assert kl_estimate(logp, ref, "k2").item() == pytest.approx(ln2 * ln2 / 2, rel=1e-6)
    assert kl_estimate(logp, ref, "k3").item() == pytest.approx(0.5 + math.log(0.5) * -1 - 1, rel=1e-6)
    with pytest.raises(ValueError, match="kl_estimator"):
        kl_estimate(logp, ref, "k4")
    mask = torch.ones(1, 1, dtype=torch.bool)
    loss, st = grpo_loss(logp[None], logp[None].detach(), ref[None], torch.tensor([0.0]), mask, beta=0.1, kl_estimator="k2")
    assert loss.item() == pytest.approx(0.1 * ln2 * ln2 / 2, rel=1e-5) and st.kl_mean == pytest.approx(ln2 * ln2 / 2, rel=1e-5)


def test_rloo_leave_one_out_baseline():
    a = rloo_advantages(torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 1.0]), 3)
    assert torch.allclose(a.values, torch.tensor([1.0, -0.5, -0.5, 0.0, 0.0, 0.0]))
    assert a.zero_variance_groups == 1
    r = torch.tensor([0.3, 0.9, 0.1, 0.5])  # = G/(G-1) * (r - mean), GRPO without std
    assert torch.allclose(rloo_advantages(r, 4).values, 4 / 3 * (r - r.mean()), atol=1e-6)


def test_reinforce_pp_batch_normalisation():
    r = torch.tensor([1.0, 0.0, 1.0, 1.0])
    assert torch.allclose(reinforce_pp_advantages(r, 2).values, torch.tensor([0.5, -1.5, 0.5, 0.5]))  # mean .75, std .5
    base = reinforce_pp_advantages(r, 2, group_baseline=True).values  # group-centred [.5, -.5, 0, 0], batch std sqrt(1/6)
    assert torch.allclose(base, torch.tensor([0.5, -0.5, 0.0, 0.0]) / math.sqrt(1 / 6), atol=1e-6)
    assert torch.equal(reinforce_pp_advantages(torch.ones(4), 2).values, torch.zeros(4))


def test_estimator_dispatch_keeps_grpo_default():
    r = torch.tensor([1.0, 0.0, 0.0, 0.0])
    assert torch.equal(outcome_advantages_by("grpo", r, 4).values, outcome_advantages(r, 4).values)
    assert torch.equal(outcome_advantages_by("grpo", r, 4, normalise_std=False).values, outcome_advantages(r, 4, False).values)
    assert torch.equal(outcome_advantages_by("rloo", r, 4).values, rloo_advantages(r, 4).values)
    with pytest.raises(ValueError, match="advantage_estimator"):
        outcome_advantages_by("ppo", r, 4)


def test_soft_overlong_penalty_hand_values():
    out = soft_overlong_penalty(torch.tensor([5, 6, 8, 10, 11]), max_len=10, cache_len=4)
    assert torch.allclose(out, torch.tensor([0.0, 0.0, -0.5, -1.0, -1.0]))
    with pytest.raises(ValueError, match="overlong_cache"):
        soft_overlong_penalty(torch.tensor([1]), max_len=10, cache_len=0)


def test_kl_in_reward_subtracts_summed_k1():
    logp = torch.log(torch.tensor([[0.5, 0.5], [0.5, 0.5]]))
    ref = torch.log(torch.tensor([[0.25, 0.5], [0.25, 0.25]]))
    mask = torch.tensor([[1, 1], [1, 0]], dtype=torch.bool)
    out = kl_penalised_rewards(torch.tensor([1.0, 0.0]), logp, ref, mask, beta=0.1, estimator="k1")
    assert torch.allclose(out, torch.tensor([1.0 - 0.1 * math.log(2), -0.1 * math.log(2)]), atol=1e-6)  # padding ignored


def test_curriculum_running_accuracy_and_weights():
    pool = DifficultyPool(4, extreme_weight=0.1, rate=0.5)
    pool.update([0, 1, 2], [1.0, 0.0, 0.5])
    assert torch.allclose(pool.weights(), torch.tensor([0.1, 0.1, 1.0, 1.0], dtype=torch.float64))
    pool.update([0], [0.5])  # 0.5 * 1 + 0.5 * 0.5 = 0.75: partly solved again
    assert pool.accuracy[0].item() == pytest.approx(0.75) and pool.weights()[0].item() == 1.0
    assert pool.stats()["curriculum_unsolved"] == 1 and pool.stats()["curriculum_seen"] == 3


def test_curriculum_samples_extremes_less_and_resumes_exactly():
    pool = DifficultyPool(2, extreme_weight=0.05)
    pool.update([0], [1.0])
    picks = [pool.sample(1, seed)[0] for seed in range(400)]
    assert picks.count(0) < 60  # expected 400 * 0.05 / 1.05 = 19
    a = DifficultyPool(50)
    a.update(list(range(10)), [1.0, 0.0] * 5)
    b = DifficultyPool(50)
    b.load_state_dict(a.state_dict())
    assert a.sample(8, 123) == b.sample(8, 123)
    assert len(set(a.sample(50, 7))) == 50
