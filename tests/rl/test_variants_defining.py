"""Each variant of the unified paradigm keeps its defining difference (paper Table 10, Algorithm 1).

- RFT samples only from the frozen INITIAL policy, even after the policy has moved;
- online RFT samples from the CURRENT policy;
- iterative GRPO resets the reference to the current policy at every outer iteration, and only there.

The tests watch which weights generated each step's samples (a spy around the generation engine) and
which weights the reference pass used (a spy around the no-grad log-prob pass), and compare them with
the initial weights and the policy of that moment. A scripted reward (every other sample correct) makes
the policy move from the first step on, whatever an untrained model writes.
"""

import pytest
import torch

import seekmath.generate
import seekmath.rl.grpo as grpo
import seekmath.rl.rewards
from seekmath.config import load_config


def _cfg(*overrides):
    return load_config("smoke", ["rl.threads=1", "rl.eval_problems=0", "rl.lr=0.01", "rl.save_every=0",
                                 "rl.max_new_tokens=8", *overrides])


def _snapshot(model) -> dict:
    model = getattr(model, "policy", model)  # a TokenScorer: the HF model it scores with
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


class _SpyEngine:
    """Records the weights of the model that generated each call's samples."""

    def __init__(self, inner, model, log):
        self.inner, self.model, self.log = inner, model, log

    def generate(self, prompts, *args, **kwargs):
        self.log.append(_snapshot(self.model))
        return self.inner.generate(prompts, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture
def spies(monkeypatch, tiny_model_dir):
    from seekmath.models import load_model

    sampled, ref_passes = [], []
    real_make_engine, real_nograd = seekmath.generate.make_engine, grpo.scorer_logprobs_nograd

    def make_engine(kind, model, *args, **kwargs):
        return _SpyEngine(real_make_engine(kind, model, *args, **kwargs), model, sampled)

    def nograd(model, *args, **kwargs):
        ref_passes.append(_snapshot(model))
        return real_nograd(model, *args, **kwargs)

    class ScriptedReward:
        def __init__(self, *args, **kwargs):
            pass

        def __call__(self, responses, golds, questions=None):
            return torch.tensor([float(i % 2 == 0) for i in range(len(responses))])

    monkeypatch.setattr(seekmath.generate, "make_engine", make_engine)
    monkeypatch.setattr(grpo, "scorer_logprobs_nograd", nograd)
    monkeypatch.setattr(seekmath.rl.rewards, "RuleReward", ScriptedReward)
    initial = _snapshot(load_model(tiny_model_dir, device="cpu"))
    return sampled, ref_passes, initial


def test_rft_samples_only_from_the_frozen_initial_policy(spies, tiny_model_dir, tmp_path):
    sampled, _, initial = spies
    final = grpo.run_rl(_cfg("rl.algorithm=rft", "rl.steps=3"), tiny_model_dir, tmp_path / "rft", progress=False)
    assert len(sampled) == 3  # one generation per step, no evaluation
    assert all(_same(w, initial) for w in sampled)  # every step: the initial policy's samples
    from seekmath.models import load_model

    assert not _same(_snapshot(load_model(final, device="cpu")), initial)  # while the policy did move


def test_online_rft_samples_from_the_current_policy(spies, tiny_model_dir, tmp_path):
    sampled, _, initial = spies
    grpo.run_rl(_cfg("rl.algorithm=online_rft", "rl.steps=3"), tiny_model_dir, tmp_path / "online", progress=False)
    assert len(sampled) == 3
    assert _same(sampled[0], initial)
    # after each update the next step samples from the updated policy: all three differ
    assert not _same(sampled[1], initial) and not _same(sampled[2], sampled[1])


def test_reference_resets_to_the_policy_at_each_iteration_only(spies, tiny_model_dir, tmp_path):
    sampled, ref_passes, initial = spies
    grpo.run_rl(_cfg("rl.algorithm=grpo", "rl.beta=0.04", "rl.iterations=2", "rl.steps=2", "rl.zero_variance=keep"),
                tiny_model_dir, tmp_path / "iterative", progress=False)
    assert len(sampled) == 4 and len(ref_passes) == 4  # mu = 1: the only no-grad pass is the reference's
    # iteration 1 (steps 0, 1): the reference is the initial policy
    assert _same(ref_passes[0], initial) and _same(ref_passes[1], initial)
    assert not _same(sampled[1], initial)  # the policy moved during iteration 1
    # iteration 2 (steps 2, 3): the reference is the policy at the start of iteration 2, held fixed
    assert _same(ref_passes[2], sampled[2]) and _same(ref_passes[3], sampled[2])
    assert not _same(ref_passes[2], initial) and not _same(sampled[3], sampled[2])
