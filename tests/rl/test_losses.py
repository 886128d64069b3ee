"""GRPO loss (eq. 3), k3 KL (eq. 4), aggregation options, and eq. 21's gradient — hand-computed values."""

import math

import pytest
import torch

from seekmath.rl.losses import aggregation_weights, grpo_gradient_coefficient, grpo_loss, k3_kl, sequence_logprobs_entropy


def test_k3_kl_hand_values():
    logp = torch.log(torch.tensor([0.5, 0.25, 0.3]))
    ref = torch.log(torch.tensor([0.25, 0.5, 0.3]))
    # x = ref/theta: 0.5, 2, 1 -> x - log x - 1
    expect = torch.tensor([0.5 - math.log(0.5) - 1, 2 - math.log(2) - 1, 0.0])
    assert torch.allclose(k3_kl(logp, ref), expect, atol=1e-6)
    assert (k3_kl(torch.randn(100), torch.randn(100)) >= 0).all()


def _batch():
    mask = torch.tensor([[1, 1], [1, 0]], dtype=torch.bool)
    logp = torch.log(torch.full((2, 2), 0.5))
    return mask, logp


@pytest.mark.parametrize(
    "aggregation,expected_loss",
    [("seq_mean_token_mean", -(2.0 + -1.0) / 2), ("token_mean", -(2 + 2 - 1) / 3), ("constant_normaliser", -(2 + 2 - 1) / (2 * 4))],
)
def test_aggregations_hand_values(aggregation, expected_loss):
    mask, logp = _batch()
    adv = torch.tensor([2.0, -1.0])
    loss, stats = grpo_loss(logp, logp.clone(), logp.clone(), adv, mask, beta=0.04, aggregation=aggregation, max_len=4)
    assert loss.item() == pytest.approx(expected_loss, abs=1e-6)
    assert stats.kl_mean == pytest.approx(0.0, abs=1e-7)
    assert stats.clip_fraction == 0.0 and stats.tokens == 3


def test_clipping_and_kl_in_loss():
    # one output, 3 tokens: ratios 1.5 (A=1 -> clipped at 1.2), 1.5 (A=-1 -> unclipped -1.5), 0.5 (A=-1 -> clipped -0.8)
    old = torch.log(torch.tensor([[0.2, 0.2, 0.4]]))
    logp = torch.log(torch.tensor([[0.3, 0.3, 0.2]]))
    adv = torch.tensor([[1.0, -1.0, -1.0]])
    mask = torch.ones(1, 3, dtype=torch.bool)
    ref = torch.log(torch.tensor([[0.15, 0.3, 0.2]]))  # x = 0.5, 1, 1
    beta = 0.1
    kl0 = 0.5 - math.log(0.5) - 1
    expected_J = ((1.2 - beta * kl0) + (-1.5) + (-0.8)) / 3
    loss, stats = grpo_loss(logp, old, ref, adv, mask, clip_eps=0.2, beta=beta)
    assert loss.item() == pytest.approx(-expected_J, abs=1e-6)
    assert stats.clip_fraction == pytest.approx(2 / 3)
    assert stats.kl_mean == pytest.approx(kl0 / 3, abs=1e-6)
    assert stats.ratio_max == pytest.approx(1.5, rel=1e-5)


def test_beta_zero_needs_no_reference():
    mask, logp = _batch()
    loss, stats = grpo_loss(logp, logp.clone(), None, torch.tensor([1.0, 0.0]), mask, beta=0.0)
    assert loss.item() == pytest.approx(-0.5)
    with pytest.raises(ValueError, match="ref_logp"):
        grpo_loss(logp, logp.clone(), None, torch.tensor([1.0, 0.0]), mask, beta=0.1)


def test_bad_inputs_are_named():
    mask, logp = _batch()
    with pytest.raises(ValueError, match="unknown aggregation"):
        grpo_loss(logp, logp, logp, torch.zeros(2), mask, aggregation="sum")
    with pytest.raises(ValueError, match="max_len"):
        grpo_loss(logp, logp, logp, torch.zeros(2), mask, aggregation="constant_normaliser")
    with pytest.raises(ValueError, match="shape mismatch"):
        grpo_loss(logp, logp[:1], logp, torch.zeros(2), mask)


def test_mu1_gradient_equals_eq21_coefficient():
    """With pi_old = pi_theta (mu = 1) the gradient of J w.r.t. log pi(o_t) is w_t * (A + beta (pi_ref/pi_theta - 1))."""
    torch.manual_seed(0)
    N, T, beta = 4, 5, 0.04
    mask = torch.ones(N, T, dtype=torch.bool)
    mask[1, 3:] = False
    mask[3, 1:] = False
    logp = (torch.rand(N, T) * -3).requires_grad_()
    ref = torch.rand(N, T) * -3
    adv = torch.randn(N, T)  # token-level (process supervision) to test the general case
    loss, _ = grpo_loss(logp, logp.detach(), ref, adv, mask, beta=beta)
    loss.backward()
    w = aggregation_weights(mask)
    coef = grpo_gradient_coefficient(adv, logp.detach(), ref, beta)
    # d(-loss)/d logp = d J / d logp
    assert torch.allclose(-logp.grad, w * coef, atol=1e-6)
    # and per output the weight is 1/(G |o_i|) (paper aggregation)
    assert w[1, 0].item() == pytest.approx(1 / (N * 3)) and w[3, 0].item() == pytest.approx(1 / N)


def test_mu1_gradient_through_logits():
    """Same identity pushed through a softmax: grad wrt logits = sum_t w_t * GC_t * grad log pi_t."""
    torch.manual_seed(1)
    N, T, V, beta = 3, 4, 7, 0.04
    logits = torch.randn(N, T, V, requires_grad=True)
    tokens = torch.randint(0, V, (N, T))
    mask = torch.ones(N, T, dtype=torch.bool)
    ref = torch.log_softmax(torch.randn(N, T, V), -1).gather(-1, tokens[..., None])[..., 0]
    adv = torch.tensor([1.0, -0.5, 0.25])
    logp, _ = sequence_logprobs_entropy(logits, tokens)
    loss, _ = grpo_loss(logp, logp.detach(), ref, adv, mask, beta=beta)
    (g,) = torch.autograd.grad(-loss, logits)
    # manual: grad log softmax = onehot - softmax
    probs = torch.softmax(logits.detach(), -1)
    onehot = torch.nn.functional.one_hot(tokens, V).float()
    coef = grpo_gradient_coefficient(adv, logp.detach(), ref, beta) * aggregation_weights(mask)
    assert torch.allclose(g, coef[..., None] * (onehot - probs), atol=1e-6)


@pytest.mark.parametrize("aggregation", ["seq_mean_token_mean", "token_mean", "constant_normaliser"])
def test_micro_batching_is_invariant(aggregation):
    """Weights from the whole batch make sum of micro-batch gradients == the full-batch gradient."""
    torch.manual_seed(2)
    N, T = 6, 5
    mask = torch.rand(N, T) > 0.3
    mask[:, 0] = True
    base = torch.rand(N, T) * -2
    old, ref, adv = base - 0.1 * torch.rand(N, T), base - 0.2, torch.randn(N)
    full = base.clone().requires_grad_()
    grpo_loss(full, old, ref, adv, mask, aggregation=aggregation, max_len=T)[0].backward()
    w = aggregation_weights(mask, aggregation, max_len=T)
    micro = base.clone().requires_grad_()
    for sl in (slice(0, 1), slice(1, 4), slice(4, 6)):
        grpo_loss(micro[sl], old[sl], ref[sl], adv[sl], mask[sl], aggregation=aggregation, weights=w[sl])[0].backward()
    assert torch.allclose(full.grad, micro.grad, atol=1e-7)


def test_logprobs_and_entropy():
    logits = torch.tensor([[[0.0, 0.0]], [[math.log(3.0), 0.0]]])
    tokens = torch.tensor([[0], [1]])
    logp, ent = sequence_logprobs_entropy(logits, tokens, with_entropy=True)
    assert logp[0, 0].item() == pytest.approx(math.log(0.5))
    assert logp[1, 0].item() == pytest.approx(math.log(0.25))
    assert ent[0, 0].item() == pytest.approx(math.log(2))
    assert ent[1, 0].item() == pytest.approx(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)), abs=1e-6)
