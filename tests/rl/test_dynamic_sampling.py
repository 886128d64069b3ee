"""DAPO dynamic sampling with resampling (rl.dynamic_sampling, rl/dynamic_sampling.py): new questions are
drawn until the step has rl.prompts_per_step informative groups, bounded by rl.max_generation_rounds."""

import copy

import pytest
import torch

from seekmath.config import load_config
from seekmath.rl.dynamic_sampling import Round, fill_batch, varied_groups


def _cfg(*overrides):
    return load_config("smoke", ["rl.threads=1", "rl.eval_problems=0", "rl.save_every=0", "rl.max_new_tokens=6",
                                 "rl.group_size=4", "rl.prompts_per_step=2", "rl.micro_batch_size=8", "rl.beta=0", *overrides])


def test_varied_groups_is_reward_variance():
    r = torch.tensor([1.0, 1, 1, 1, 0, 0, 1, 0, -0.5, -0.5, -0.5, -0.25])
    assert varied_groups(r, 4).tolist() == [False, True, True]


def _fake_rounds(informative_per_round):
    """sample_round for fill_batch: round r's groups are informative as scripted (True/False per group)."""
    asked = []

    def sample_round(r, k):
        asked.append(k)
        flags = (informative_per_round[r] + [False] * k)[:k]
        rewards = torch.tensor([[1.0, 0.0] if f else [0.0, 0.0] for f in flags]).flatten()
        return Round(list(range(100 * r, 100 * r + k)), rewards, rewards)

    return sample_round, asked


def test_fill_batch_resamples_only_the_missing_groups():
    sample_round, asked = _fake_rounds([[False, True, False, False], [True, False, True], [True]])
    rounds, kept, stats = fill_batch(sample_round, want=4, max_rounds=5, group_size=2)
    assert asked == [4, 3, 1]  # round 0 the step's questions, then as many new ones as groups are missing
    assert kept == [[1], [0, 2], [0]]
    assert stats == {"generation_rounds": 3, "informative_groups": 4, "questions_drawn": 8}


def test_fill_batch_stops_at_the_bound():
    sample_round, asked = _fake_rounds([[True, False, False], [False, False], [True, True]])
    rounds, kept, stats = fill_batch(sample_round, want=3, max_rounds=2, group_size=2)
    assert asked == [3, 2] and kept == [[0], []]
    assert stats == {"generation_rounds": 2, "informative_groups": 1, "questions_drawn": 5}


class _Scripted:
    """A rule reward scripted per call (= per sampling round): verdicts[call] for the round's outputs."""

    def __init__(self, verdicts):
        self.verdicts, self.calls = verdicts, 0

    def __call__(self, texts, golds):
        v = self.verdicts[min(self.calls, len(self.verdicts) - 1)]
        self.calls += 1
        return torch.tensor((v * len(texts))[: len(texts)], dtype=torch.float32)


def _one_step(model_dir, rule, *overrides):
    from seekmath.generate import make_engine
    from seekmath.models import load_model, load_tokenizer
    from seekmath.rl.grpo import grpo_step
    from seekmath.tasks.synthetic import generate_problems

    cfg = _cfg(*overrides)
    torch.manual_seed(0)
    tok = load_tokenizer(model_dir)
    policy = load_model(model_dir, device="cpu")
    ref = copy.deepcopy(policy).requires_grad_(False)
    opt = torch.optim.SGD(policy.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    problems = generate_problems(cfg.tasks, "train", n=20)
    row = grpo_step(0, policy, opt, sched, tok, problems, rule, None, make_engine("hf", policy, tok, batch_size=8), ref, cfg.rl, "cpu")
    start = dict(load_model(model_dir, device="cpu").named_parameters())
    moved = any(not torch.equal(p.detach(), start[n].detach()) for n, p in policy.named_parameters())
    return row, moved


ALL_WRONG, ALTERNATING, FIRST_GROUP_ONLY = [0.0] * 8, [1.0, 0.0] * 4, [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]


def test_resampling_fills_the_step_with_informative_groups(tiny_model_dir):
    # round 0: both groups all wrong (no signal); round 1: two NEW questions, both informative
    row, moved = _one_step(tiny_model_dir, _Scripted([ALL_WRONG, ALTERNATING]), "rl.dynamic_sampling=true")
    assert (row["generation_rounds"], row["informative_groups"], row["questions_drawn"]) == (2, 2, 4)
    assert row["groups_trained"] == 1.0 and moved
    assert row["zero_variance_groups"] == 0.5  # over every group sampled in the step
    # without resampling the same step has no informative group and no update
    row, moved = _one_step(tiny_model_dir, _Scripted([ALL_WRONG, ALTERNATING]))
    assert row["zero_variance_groups"] == 1.0 and not moved and "generation_rounds" not in row


def test_the_bound_trains_on_what_there_is(tiny_model_dir):
    row, moved = _one_step(tiny_model_dir, _Scripted([FIRST_GROUP_ONLY, ALL_WRONG]), "rl.dynamic_sampling=true",
                           "rl.max_generation_rounds=3")
    assert (row["generation_rounds"], row["informative_groups"], row["questions_drawn"]) == (3, 1, 4)
    assert row["groups_trained"] == 0.5 and moved
    row, moved = _one_step(tiny_model_dir, _Scripted([ALL_WRONG]), "rl.dynamic_sampling=true", "rl.max_generation_rounds=2")
    assert (row["generation_rounds"], row["informative_groups"], row["questions_drawn"]) == (2, 0, 4)
    assert row["groups_trained"] == 0.0 and not moved


@pytest.mark.parametrize("override,msg", [("rl.max_generation_rounds=0", "rl.max_generation_rounds"),
                                          ("rl.reward=prm", "rl.dynamic_sampling")])
def test_bad_settings_name_the_key(override, msg):
    from seekmath.rl.grpo import validate

    with pytest.raises(ValueError, match=msg.replace(".", r"\.")):
        validate(_cfg("rl.dynamic_sampling=true", override).rl)
