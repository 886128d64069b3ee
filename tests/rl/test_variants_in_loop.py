"""GRPO's family inside the RL loop: each rl.* knob reaches its rule, and the defaults stay eq. 3."""

import json

import pytest
import torch

import seekmath.rl.grpo as grpo
import seekmath.rl.rewards
from seekmath.config import load_config
from seekmath.models import load_model


def _cfg(*overrides):
    # max_new_tokens 4: an untrained model is cut at the limit on (almost) every output
    return load_config("smoke", ["rl.threads=1", "rl.eval_problems=0", "rl.lr=0.01", "rl.save_every=0", "rl.steps=1",
                                 "rl.max_new_tokens=4", "rl.zero_variance=keep", *overrides])


@pytest.fixture
def alternating_reward(monkeypatch):
    class Alternating:  # every other output correct: non-zero advantages whatever the model writes
        def __init__(self, *args, **kwargs):
            pass

        def __call__(self, responses, golds, questions=None):
            return torch.tensor([float(i % 2 == 0) for i in range(len(responses))])

    monkeypatch.setattr(seekmath.rl.rewards, "RuleReward", Alternating)


def _weights(path):
    return {k: v.clone() for k, v in load_model(path, device="cpu").state_dict().items()}


def test_variant_settings_reach_the_loss(monkeypatch, alternating_reward, tiny_model_dir, tmp_path):
    seen = []
    real = grpo.grpo_loss

    def spy(*args, **kwargs):
        seen.append({k: kwargs[k] for k in ("clip_eps_high", "ratio_level", "kl_estimator")})
        return real(*args, **kwargs)

    monkeypatch.setattr(grpo, "grpo_loss", spy)
    grpo.run_rl(_cfg("rl.clip_eps_high=0.28", "rl.ratio_level=sequence", "rl.kl_estimator=k2"), tiny_model_dir, tmp_path / "v", progress=False)
    assert seen and all(s == {"clip_eps_high": 0.28, "ratio_level": "sequence", "kl_estimator": "k2"} for s in seen)
    seen.clear()
    grpo.run_rl(_cfg(), tiny_model_dir, tmp_path / "d", progress=False)
    assert all(s == {"clip_eps_high": None, "ratio_level": "token", "kl_estimator": "k3"} for s in seen)  # eq. 3


def test_overlong_filter_takes_truncated_outputs_out_of_the_update(alternating_reward, tiny_model_dir, tmp_path):
    before = _weights(tiny_model_dir)
    plain = grpo.run_rl(_cfg("rl.beta=0"), tiny_model_dir, tmp_path / "plain", progress=False)
    rows = [json.loads(x) for x in (tmp_path / "plain" / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["truncation_rate"] == 1.0
    assert any(not torch.equal(before[k], v) for k, v in _weights(plain).items())
    filtered = grpo.run_rl(_cfg("rl.beta=0", "rl.overlong=filter"), tiny_model_dir, tmp_path / "filter", progress=False)
    assert all(torch.equal(before[k], v) for k, v in _weights(filtered).items())  # every output was cut: no update


def test_soft_overlong_penalty_shapes_the_reward(tiny_model_dir, tmp_path):
    # every output is cut at L_max = 4 tokens: penalty ((4 - 2) - 4) / 2 = -1 on a rule reward of 0
    grpo.run_rl(_cfg("rl.overlong=soft", "rl.overlong_cache=2"), tiny_model_dir, tmp_path / "soft", progress=False)
    rows = [json.loads(x) for x in (tmp_path / "soft" / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["reward_mean"] == pytest.approx(-1.0)


@pytest.mark.parametrize("override,key", [("rl.ratio_level=word", "rl.ratio_level"), ("rl.kl_estimator=k9", "rl.kl_estimator"),
                                          ("rl.advantage_estimator=ppo", "rl.advantage_estimator"),
                                          ("rl.overlong=cut", "rl.overlong")])
def test_unknown_variant_names_the_key(override, key):
    with pytest.raises(ValueError, match=key):
        grpo.validate(_cfg(override).rl)


def test_advantage_estimator_reaches_the_step(monkeypatch, alternating_reward, tiny_model_dir, tmp_path):
    used = []
    real = grpo.outcome_advantages_by
    monkeypatch.setattr(grpo, "outcome_advantages_by", lambda name, *a, **k: used.append(name) or real(name, *a, **k))
    grpo.run_rl(_cfg("rl.advantage_estimator=rloo"), tiny_model_dir, tmp_path / "rloo", progress=False)
    assert used == ["rloo"]
