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
