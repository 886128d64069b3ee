"""The RL question stream (rl/question_stream.py): the difficulty curriculum is fed by every step and, with
dynamic sampling's extra draws, resumes exactly from the checkpoint."""

import json

import pytest
import torch

import seekmath.rl.rewards
from seekmath.config import load_config
from seekmath.rl.curriculum import DifficultyPool
from seekmath.rl.grpo import prompt_indices, run_rl
from seekmath.rl.question_stream import QuestionStream


def _cfg(*overrides):
    return load_config("smoke", ["rl.threads=1", "rl.eval_problems=0", "rl.save_every=1", "rl.max_new_tokens=6", "rl.group_size=4",
                                 "rl.prompts_per_step=2", "rl.micro_batch_size=8", "rl.beta=0", "rl.lr=0.01", "rl.steps=3",
                                 "rl.train_problems=8", "rl.curriculum_extreme_weight=0.01", *overrides])


def _parity(gold: str) -> int:
    return sum(map(ord, gold)) % 2


@pytest.fixture
def draws(monkeypatch):
    """Rewards that depend on the question only (odd gold: every other output right; even: all wrong), and
    a record of every draw of the stream as (step, round, questions)."""

    class ParityReward:
        def __init__(self, *args, **kwargs):
            pass

        def __call__(self, responses, golds, questions=None):
            return torch.tensor([float(_parity(g) == 1 and i % 2 == 0) for i, g in enumerate(golds)])

    monkeypatch.setattr(seekmath.rl.rewards, "RuleReward", ParityReward)
    seen = []
    real = QuestionStream.draw

    def spy(self, step, round_, k, exclude=()):
        out = real(self, step, round_, k, exclude)
        seen.append((step, round_, out))
        return out

    monkeypatch.setattr(QuestionStream, "draw", spy)
    return seen


def _weights(path):
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


def test_stream_without_options_is_the_step_order():
    cfg = _cfg()
    s = QuestionStream(10, cfg.rl)
    assert [s.draw(step, 0, 2) for step in range(7)] == [prompt_indices(10, 2, step, cfg.rl.seed) for step in range(7)]
    resumed = QuestionStream(10, cfg.rl, start_step=7)
    assert resumed.state_dict() == s.state_dict()


@pytest.mark.parametrize("option", ["rl.curriculum=difficulty", "rl.dynamic_sampling=true"])
def test_resume_draws_the_same_questions(draws, tiny_model_dir, tmp_path, option):
    straight = run_rl(_cfg(option), tiny_model_dir, tmp_path / "a", progress=False)
    uninterrupted = list(draws)
    draws.clear()
    run_rl(_cfg(option), tiny_model_dir, tmp_path / "b", stop_after=1, progress=False)
    resumed = run_rl(_cfg(option), tiny_model_dir, tmp_path / "b", resume=True, progress=False)
    assert draws == uninterrupted
    if option.startswith("rl.dynamic"):  # the cursor moved by more than prompts_per_step: resampling happened
        assert any(r > 0 for _, r, _ in uninterrupted)
    wa, wb = _weights(straight), _weights(resumed)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_curriculum_is_updated_by_every_step(draws, monkeypatch, tiny_model_dir, tmp_path):
    run_rl(_cfg("rl.curriculum=difficulty", "rl.steps=5"), tiny_model_dir, tmp_path / "a", stop_after=4, progress=False)
    state = json.loads((tmp_path / "a" / "checkpoints" / "step-000004" / "questions.json").read_text())["curriculum"]
    from seekmath.rl.questions import load_rl_questions

    problems, _ = load_rl_questions(_cfg())
    asked = {i for _, _, qs in draws for i in qs}
    assert {i for i, s in enumerate(state["seen"]) if s} == asked
    for i in asked:  # odd gold: 2 of 4 right in every group; even: none
        assert state["accuracy"][i] == (0.5 if _parity(problems[i].answer) else 0.0)
    row = json.loads((tmp_path / "a" / "metrics.jsonl").read_text().splitlines()[-1])
    assert row["curriculum_seen"] == len(asked)
    updated = list(draws)
    draws.clear()
    monkeypatch.setattr(DifficultyPool, "update", lambda self, *a, **k: None)  # the bug: a pool nobody feeds
    run_rl(_cfg("rl.curriculum=difficulty", "rl.steps=5"), tiny_model_dir, tmp_path / "b", stop_after=4, progress=False)
    assert draws[0] == updated[0] and draws[1:] != updated[1:]  # same first draw, then the running accuracies steer


def test_curriculum_needs_enough_questions():
    with pytest.raises(ValueError, match="rl.curriculum=difficulty"):
        QuestionStream(3, _cfg("rl.curriculum=difficulty", "rl.prompts_per_step=4").rl)
