"""rl.kl_in=reward: beta * sum_t KL_t(o) (k1 per token, as PPO/REINFORCE++) is subtracted from each output's
reward before the advantages, and the loss has no KL term; rl.kl_in=loss is eq. 3."""

import copy

import pytest
import torch

import seekmath.rl.grpo as grpo
from seekmath.config import load_config
from seekmath.rl.advantages import outcome_advantages
from seekmath.rl.losses import kl_estimate
from seekmath.rl.rollout import TokenScorer, scorer_logprobs_nograd

ALTERNATING = [1.0, 0.0] * 4


def _step(model_dir, monkeypatch, kl_in):
    from seekmath.generate import make_engine
    from seekmath.models import load_model, load_tokenizer
    from seekmath.tasks.synthetic import generate_problems

    cfg = load_config("smoke", ["rl.threads=1", "rl.group_size=4", "rl.prompts_per_step=2", "rl.max_new_tokens=6", "rl.beta=0.5",
                                "rl.kl_estimator=k1", f"rl.kl_in={kl_in}", "rl.micro_batch_size=8", "rl.zero_variance=keep"])
    torch.manual_seed(0)
    tok = load_tokenizer(model_dir)
    policy = load_model(model_dir, device="cpu")
    ref = copy.deepcopy(policy).requires_grad_(False)
    with torch.no_grad():  # a reference away from the policy: the KL is not 0
        for p in ref.parameters():
            p.add_(0.05 * torch.randn_like(p))
    start = copy.deepcopy(policy)
    opt = torch.optim.SGD(policy.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    seen = {"loss": [], "batch": []}
    real_loss, real_train = grpo.grpo_loss, grpo.train_on_batch

    def loss_spy(logp, old, ref_logp, *args, **kwargs):
        seen["loss"].append((ref_logp is None, kwargs["beta"]))
        return real_loss(logp, old, ref_logp, *args, **kwargs)

    def train_spy(scorer, opt, rollout, advantages, **kwargs):
        seen["batch"].append((rollout, advantages.clone()))
        return real_train(scorer, opt, rollout, advantages, **kwargs)

    monkeypatch.setattr(grpo, "grpo_loss", loss_spy)
    monkeypatch.setattr(grpo, "train_on_batch", train_spy)
    rule = lambda texts, golds: torch.tensor(ALTERNATING)  # noqa: E731 - scripted verdicts
    row = grpo.grpo_step(0, policy, opt, sched, tok, generate_problems(cfg.tasks, "train", n=8), rule, None,
                         make_engine("hf", policy, tok, batch_size=8), ref, cfg.rl, "cpu")
    rollout, adv = seen["batch"][0]
    lp = scorer_logprobs_nograd(TokenScorer(start), rollout, 8, cfg.rl.temperature)
    ref_lp = scorer_logprobs_nograd(TokenScorer(ref), rollout, 8, cfg.rl.temperature)
    return row, seen["loss"], adv, kl_estimate(lp, ref_lp, "k1") * rollout.completion_mask()


def test_kl_in_reward_shapes_the_advantages_and_leaves_the_loss(monkeypatch, tiny_model_dir):
    row, losses, adv, kl = _step(tiny_model_dir, monkeypatch, "reward")
    assert losses and all(no_ref and beta == 0.0 for no_ref, beta in losses)  # no KL term in the loss
    shaped = torch.tensor(ALTERNATING) - 0.5 * kl.sum(1)  # r_i - beta * sum_t k1_t, by hand
    assert torch.allclose(adv, outcome_advantages(shaped, 4).values, atol=1e-5)
    assert not torch.allclose(adv, outcome_advantages(torch.tensor(ALTERNATING), 4).values, atol=1e-3)
    assert row["kl"] == pytest.approx(float(kl.sum() / (kl != 0).sum()), rel=1e-4)
    assert row["reward_mean"] == pytest.approx(0.5)  # the task reward is what the metrics report

    row, losses, adv, _ = _step(tiny_model_dir, monkeypatch, "loss")  # eq. 3: the KL in the loss, the reward as it is
    assert losses and all(not no_ref and beta == 0.5 for no_ref, beta in losses)
    assert torch.allclose(adv, outcome_advantages(torch.tensor(ALTERNATING), 4).values)


def test_kl_in_needs_outcome_rewards():
    with pytest.raises(ValueError, match="rl.kl_in"):
        grpo.validate(load_config("smoke", ["rl.kl_in=reward", "rl.reward=prm"]).rl)
    with pytest.raises(ValueError, match="rl.kl_in"):
        grpo.validate(load_config("smoke", ["rl.kl_in=value"]).rl)
