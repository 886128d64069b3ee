"""Rule reward on top of the grader (seekmath.rl.rewards)."""

from __future__ import annotations

import pytest
import torch

from seekmath.evaluate.grade import Verdict
from seekmath.rl.rewards import RuleReward


def test_correct_and_incorrect_hand_labelled():
    reward = RuleReward()
    responses = [
        " Mia starts with 5 apples.\nThe answer is \\boxed{12}.",  # correct
        " The answer is \\boxed{13}.",  # wrong number
        " 12 apples, so \\boxed{12.0}",  # numerically equal
        " I do not know.",  # no final answer
        "",  # empty
    ]
    r = reward(responses, ["12"] * 5)
    assert r.dtype == torch.float32
    assert r.tolist() == [1.0, 0.0, 1.0, 0.0, 0.0]
    assert reward.last_stats["n"] == 5
    assert reward.last_stats["correct"] == 2
    assert reward.last_stats["incorrect"] + reward.last_stats["unverifiable"] == 3
    assert len(reward.last_verdicts) == 5


def test_questions_passed_and_totals_accumulate():
    reward = RuleReward()
    reward(["\\boxed{3}"], ["3"], questions=["What is 1 + 2?"])
    reward(["\\boxed{4}", "\\boxed{5}"], ["4", "4"])
    assert reward.total_stats["n"] == 3 and reward.total_stats["correct"] == 2


def test_empty_batch():
    assert RuleReward()([], []).shape == (0,)


def test_bad_input_is_named():
    reward = RuleReward()
    with pytest.raises(ValueError, match="2 responses but 1 gold"):
        reward(["a", "b"], ["1"])
    with pytest.raises(ValueError, match="1 questions but 2 responses"):
        reward(["a", "b"], ["1", "2"], questions=["q"])
    with pytest.raises(TypeError, match="lists of strings"):
        reward("a", "1")
    with pytest.raises(ValueError, match="gold answer 0 is None"):
        reward(["a"], [None])


def test_unverifiable_scores_zero_and_is_reported(monkeypatch):
    # the grader's verdicts are replaced to force the rarely-hit "unverifiable" branch of the mapping
    import seekmath.evaluate.grade as grade

    fake = [Verdict("correct", "equal", "1"), Verdict("unverifiable", "timeout", None), Verdict("incorrect", "ne", "2")]
    monkeypatch.setattr(grade, "grade_batch", lambda items, **kw: fake[: len(items)])
    reward = RuleReward()
    assert reward(["a", "b", "c"], ["1", "1", "1"]).tolist() == [1.0, 0.0, 0.0]
    assert reward.last_stats == {"correct": 1, "incorrect": 1, "unverifiable": 1, "n": 3}


def test_no_reward_without_a_committed_answer():
    """The last-number fallback pays a cut-off chain of thought for an intermediate number: off by default."""
    cut = ["First, 3 + 4 = 7. Next we multiply this by the number of",  # stopped mid-sentence
           "3 + 4 = 7, so the answer is",  # empty "the answer is"
           "We add 3 and 4 to get 7. " * 5000]  # a 125k-character loop that never answers
    assert RuleReward()(cut, ["7"] * 3).tolist() == [0.0, 0.0, 0.0]
    assert RuleReward(bench="gsm8k")(cut, ["7"] * 3).tolist() == [0.0, 0.0, 0.0]  # RL: even on a GSM8K-style set
    assert RuleReward(last_number_fallback=True)(cut, ["7"] * 3).tolist() == [1.0, 1.0, 1.0]  # the old behaviour


def test_truncated_completions_get_the_truncation_reward():
    from seekmath.rl.rewards import truncation_rule

    responses = ["so \\boxed{12}", "so \\boxed{12} and then we keep going and", "\\boxed{13}"]
    finish = ["stop", "length", "length"]
    assert RuleReward()(responses, ["12"] * 3, finish_reasons=finish).tolist() == [1.0, 0.0, 0.0]
    assert RuleReward(truncation_reward=-1.0)(responses, ["12"] * 3, finish_reasons=finish).tolist() == [1.0, -1.0, -1.0]
    assert RuleReward()(responses, ["12"] * 3).tolist() == [1.0, 1.0, 0.0]  # no finish reasons: verdicts only
    assert truncation_rule(torch.tensor([1.0, 1.0]), None).tolist() == [1.0, 1.0]
    assert truncation_rule(torch.tensor([1.0, 0.5]), ["length", None], -0.5).tolist() == [-0.5, 0.5]
    with pytest.raises(ValueError, match="1 finish reasons but 3 responses"):
        RuleReward()(responses, ["12"] * 3, finish_reasons=["stop"])


def test_grpo_step_applies_the_truncation_reward_and_logs_its_rate(tiny_model_dir):
    """In the GRPO step, completions stopped at rl.max_new_tokens get rl.truncation_reward, and the step
    logs truncation_rate (8 new tokens: the untrained tiny model never stops that early)."""
    import copy

    from seekmath.config import load_config
    from seekmath.generate import make_engine
    from seekmath.models import load_model, load_tokenizer
    from seekmath.rl.grpo import grpo_step
    from seekmath.tasks.synthetic import generate_problems

    torch.set_num_threads(1)
    rows = {}
    for reward in (0.0, -1.0):
        cfg = load_config("smoke", ["rl.threads=1", "rl.group_size=4", "rl.prompts_per_step=2", "rl.max_new_tokens=8",
                                    "rl.beta=0.0", f"rl.truncation_reward={reward}"])
        torch.manual_seed(0)
        tok, policy = load_tokenizer(tiny_model_dir), load_model(tiny_model_dir, device="cpu")
        opt = torch.optim.SGD(policy.parameters(), lr=1.0)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
        problems = generate_problems(cfg.tasks, "train", n=8)
        class AllCorrect(RuleReward):  # scripted verdicts, the real truncation rule
            def __call__(self, texts, golds, questions=None, finish_reasons=None):
                return self.apply_truncation(torch.ones(len(texts)), finish_reasons)

        rule = AllCorrect(truncation_reward=cfg.rl.truncation_reward)
        rows[reward] = grpo_step(0, policy, opt, sched, tok, problems, rule, None,
                                 make_engine("hf", policy, tok, batch_size=8), copy.deepcopy(policy), cfg.rl, "cpu")
    for reward, row in rows.items():
        rate = row["truncation_rate"]
        assert 0.5 <= rate <= 1.0
        assert row["reward_mean"] == pytest.approx((1 - rate) * 1.0 + rate * reward)
        assert row["accuracy"] == 1.0  # correctness is logged as graded; only the reward changes
