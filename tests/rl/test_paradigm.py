"""Table 10: each method's per-token gradient coefficient, measured with autograd, equals the formula."""

from __future__ import annotations

import math

import pytest
import torch

from seekmath.rl import paradigm as P

torch.set_num_threads(1)


def toy_logp(N=3, T=5, V=7, seed=0, lengths=(5, 3, 4)):
    """Per-token log-probs from leaf logits [N, T, V] (right-padded to T); also a reference policy."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(N, T, V, generator=g, requires_grad=True)
    ref_logits = torch.randn(N, T, V, generator=g)
    tokens = torch.randint(0, V, (N, T), generator=g)
    logp = torch.log_softmax(logits, -1).gather(-1, tokens[..., None]).squeeze(-1)
    ref = torch.log_softmax(ref_logits, -1).gather(-1, tokens[..., None]).squeeze(-1)
    mask = torch.zeros(N, T)
    for i, n in enumerate(lengths[:N]):
        mask[i, :n] = 1
    return logits, logp, ref, mask


def test_table_has_six_methods():
    assert [m.name for m in P.METHODS.values()] == ["SFT", "RFT", "Online RFT", "DPO", "PPO", "GRPO"]
    assert [m.online for m in P.METHODS.values()] == [False, False, True, False, True, True]
    assert P.METHODS["ppo"].reward == "model" and P.METHODS["rft"].reward == "rule"


def test_sft_coefficient_is_one():
    _, logp, _, mask = toy_logp()
    gc = P.measured_gradient_coefficient(P.sft_loss(logp, mask), logp, mask)
    torch.testing.assert_close(gc, P.gc_sft(mask))


def test_rft_and_online_rft_coefficient_is_indicator():
    _, logp, _, mask = toy_logp()
    correct = torch.tensor([1.0, 0.0, 1.0])
    for fn in (P.rft_loss, P.online_rft_loss):
        gc = P.measured_gradient_coefficient(fn(logp, mask, correct), logp, mask)
        torch.testing.assert_close(gc, P.gc_rft(correct, mask))
    assert gc[1].abs().sum() == 0 and gc[0, :5].tolist() == pytest.approx([1.0] * 5)


def test_dpo_coefficient_token_averaged():
    beta = 0.5
    _, lp_pos, ref_pos, m_pos = toy_logp(N=2, seed=1, lengths=(5, 2))
    _, lp_neg, ref_neg, m_neg = toy_logp(N=2, seed=2, lengths=(3, 4))
    loss = P.dpo_loss(lp_pos, ref_pos, m_pos, lp_neg, ref_neg, m_neg, beta=beta)
    gc_pos = P.measured_gradient_coefficient(loss, lp_pos, m_pos)
    gc_neg = P.measured_gradient_coefficient(loss, lp_neg, m_neg)
    want_pos, want_neg = P.gc_dpo(lp_pos, ref_pos, m_pos, lp_neg, ref_neg, m_neg, beta)
    # the chain rule gives the table's coefficient times the constant beta (see gc_dpo)
    torch.testing.assert_close(gc_pos, beta * want_pos)
    torch.testing.assert_close(gc_neg, beta * want_neg)
    # + on o+ tokens, - on o- tokens; constant within an output (token-averaged ratios)
    assert (gc_pos[m_pos.bool()] > 0).all() and (gc_neg[m_neg.bool()] < 0).all()
    assert torch.allclose(gc_pos[0, :5], gc_pos[0, 0].expand(5))
    # hand check of pair 0: s = sigma(beta*Dr(o-) - beta*Dr(o+)) with Dr the token mean of log ratios
    dr_pos = float((lp_pos[0, :5] - ref_pos[0, :5]).mean().detach())
    dr_neg = float((lp_neg[0, :3] - ref_neg[0, :3]).mean().detach())
    s = 1 / (1 + math.exp(-(beta * dr_neg - beta * dr_pos)))
    assert float(want_pos[0, 0]) == pytest.approx(s, rel=1e-5)


def test_gae_hand_computed():
    r = torch.tensor([0.0, 0.0, 1.0])
    v = torch.tensor([0.5, 0.4, 0.6])
    # gamma 1, lam 0.5: d2 = 1-0.6 = .4, A2 = .4; d1 = .6-.4 = .2, A1 = .2+.5*.4 = .4; d0 = .4-.5 = -.1, A0 = -.1+.5*.4 = .1
    adv, ret = P.gae(r, v, gamma=1.0, lam=0.5)
    torch.testing.assert_close(adv, torch.tensor([0.1, 0.4, 0.4]))
    torch.testing.assert_close(ret, torch.tensor([0.6, 0.8, 1.0]))
    # gamma .9, lam .95: d2 = .4, A2 = .4; d1 = .9*.6-.4 = .14, A1 = .14+.855*.4 = .482;
    # d0 = .9*.4-.5 = -.14, A0 = -.14+.855*.482 = .27211
    adv, ret = P.gae(r, v, gamma=0.9, lam=0.95)
    torch.testing.assert_close(adv, torch.tensor([0.27211, 0.482, 0.4]))
    torch.testing.assert_close(ret, torch.tensor([0.77211, 0.882, 1.0]))
    # lam 1, gamma 1 -> A_t = sum of future rewards - V_t (Monte Carlo)
    adv, _ = P.gae(r, v, gamma=1.0, lam=1.0)
    torch.testing.assert_close(adv, torch.tensor([0.5, 0.6, 0.4]))


def test_gae_batched_with_padding_matches_rows():
    r = torch.tensor([[0.0, 0.0, 1.0, 0.0], [0.0, 2.0, 0.0, 0.0]])
    v = torch.tensor([[0.5, 0.4, 0.6, 9.0], [0.1, 0.2, 9.0, 9.0]])
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]])
    adv, ret = P.gae(r, v, gamma=0.9, lam=0.95, mask=mask)
    torch.testing.assert_close(adv[0, :3], P.gae(r[0, :3], v[0, :3], 0.9, 0.95)[0])
    torch.testing.assert_close(adv[1, :2], P.gae(r[1, :2], v[1, :2], 0.9, 0.95)[0])
    assert adv[0, 3] == 0 and adv[1, 2:].abs().sum() == 0  # padding values never leak in
    # row 1 by hand: d1 = 2 - .2 = 1.8 = A1; d0 = .9*.2 - .1 = .08, A0 = .08 + .855*1.8 = 1.619
    torch.testing.assert_close(adv[1, :2], torch.tensor([1.619, 1.8]))


def test_ppo_token_rewards_put_kl_in_reward():
    logp = torch.tensor([[-1.0, -2.0, -0.5], [-1.0, -1.0, 0.0]])
    ref = torch.tensor([[-1.5, -2.0, -1.0], [-0.5, -1.0, 0.0]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    r = P.ppo_token_rewards(torch.tensor([1.0, 0.0]), logp, ref, mask, beta=0.1)
    # r_t = -0.1 * (logp - ref), plus the score at the last real token
    torch.testing.assert_close(r, torch.tensor([[-0.05, 0.0, 1.0 - 0.05], [0.05, 0.0, 0.0]]))


def test_ppo_coefficient_is_gae_advantage():
    _, logp, ref, mask = toy_logp()
    values = torch.randn(3, 5, generator=torch.Generator().manual_seed(3), requires_grad=True)
    rewards = P.ppo_token_rewards(torch.tensor([1.0, 0.0, 0.5]), logp, ref, mask, beta=0.04)
    adv, ret = P.gae(rewards, values, gamma=1.0, lam=0.95, mask=mask)
    loss, stats = P.ppo_loss(logp, logp.detach(), adv, mask, values, ret, clip_eps=0.2)
    gc = P.measured_gradient_coefficient(loss, logp, mask)
    torch.testing.assert_close(gc, P.gc_ppo(adv, mask))
    assert stats["clip_fraction"] == 0.0
    # the value head is trained towards the returns: d loss / d V_t = vf_coef * (V - R) / (N |o|)
    (gv,) = torch.autograd.grad(loss, values)
    lengths = mask.sum(-1, keepdim=True)
    torch.testing.assert_close(gv, 0.5 * (values - ret).detach() * mask / (3 * lengths))


def test_ppo_clip_stops_gradient_when_ratio_outside():
    logp = torch.tensor([[0.0, 0.0]], requires_grad=True)
    old = torch.tensor([[-1.0, 0.0]])  # ratio e^1 > 1.2 on token 0
    loss, stats = P.ppo_loss(logp, old, torch.tensor([[1.0, 1.0]]), torch.ones(1, 2), clip_eps=0.2)
    (g,) = torch.autograd.grad(loss, logp)
    assert g[0, 0] == 0 and g[0, 1] == pytest.approx(-0.5)
    assert stats["clip_fraction"] == 0.5


def test_grpo_coefficient_matches_eq21():
    beta = 0.04
    _, logp, ref, mask = toy_logp()
    adv = torch.tensor([1.2, -0.3, -0.9])
    loss = P.grpo_paradigm_loss(logp, ref, adv, mask, beta=beta)
    gc = P.measured_gradient_coefficient(loss, logp, mask)
    torch.testing.assert_close(gc, P.gc_grpo(adv, logp.detach(), ref, mask, beta))
    # token-level (process supervision) advantages too
    adv_t = torch.randn(3, 5, generator=torch.Generator().manual_seed(5)) * mask
    loss = P.grpo_paradigm_loss(logp, ref, adv_t, mask, beta=beta)
    gc = P.measured_gradient_coefficient(loss, logp, mask)
    torch.testing.assert_close(gc, P.gc_grpo(adv_t, logp.detach(), ref, mask, beta))


def test_grpo_vs_online_rft_difference():
    # same correctness, GRPO penalises wrong outputs (negative GC), online RFT only ignores them
    _, logp, ref, mask = toy_logp()
    correct = torch.tensor([1.0, 0.0, 0.0])
    adv = (correct - correct.mean()) / correct.std()
    gc_grpo = P.measured_gradient_coefficient(P.grpo_paradigm_loss(logp, ref, adv, mask, beta=0.0), logp, mask)
    gc_rft = P.measured_gradient_coefficient(P.online_rft_loss(logp, mask, correct), logp, mask)
    assert (gc_grpo[1:][mask[1:].bool()] < 0).all() and (gc_rft[1:] == 0).all()


def test_shape_errors_are_named():
    with pytest.raises(ValueError, match="rft_loss: correct has shape"):
        P.rft_loss(torch.zeros(2, 3), torch.ones(2, 3), torch.ones(3))
    with pytest.raises(ValueError, match="gae: rewards"):
        P.gae(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="sft_loss: logp has shape"):
        P.sft_loss(torch.zeros(2, 3), torch.ones(2, 4))


def test_value_head_shape():
    head = P.ValueHead(8)
    assert head(torch.randn(2, 5, 8)).shape == (2, 5)
