"""Exact step labels on the synthetic task, the process-label dispatcher, and the RM's AUC interval."""

import math
import random

import pytest
import torch

from seekmath.config import TasksConfig
from seekmath.rl.reward_model import auc_interval, classification_metrics, process_labels
from seekmath.rl.step_labels import arithmetic_of, exact_step_labels
from seekmath.tasks.records import Problem
from seekmath.tasks.synthetic import Arithmetic, generate_problems, render

ARITH = Arithmetic(5, (("add", 3), ("mul", 2)))  # 5 -> 8 -> 16
START = "Mia starts with 5 apples."
STEP1 = "After getting 3 more, she has 5 + 3 = 8 apples."
STEP2 = "With 2 times as many, she has 8 * 2 = 16 apples."
END = "The answer is \\boxed{16}."


def _resp(*lines):
    return "\n".join(lines)


@pytest.mark.parametrize("lines, want", [
    ((START, STEP1, STEP2, END), [1, 1, 1, 1]),
    ((START, STEP1.replace("= 8", "= 9"), STEP2, END), [1, 0, 0, 0]),  # wrong arithmetic: this step and all after
    ((START, STEP1.replace("5 + 3 = 8", "5 + 4 = 9"), STEP2, END), [1, 0, 0, 0]),  # right sum, wrong operand copied
    ((START, STEP1, STEP2.replace("8 * 2 = 16", "8 * 3 = 24"), "The answer is \\boxed{24}."), [1, 1, 0, 0]),
    ((START, STEP1.replace("5 + 3", "3 + 5"), STEP2.replace("8 * 2", "2 * 8"), END), [1, 1, 1, 1]),  # + and * commute
    ((START.replace("5", "6"), STEP1, STEP2, END), [0, 0, 0, 0]),  # wrong start value
    ((START, STEP1, STEP2, "The answer is \\boxed{15}."), [1, 1, 1, 0]),  # wrong final answer
    ((START, STEP1, STEP2, "Then 16 + 0 = 16.", END), [1, 1, 1, 0, 0]),  # a calculation beyond the last operation
    ((START, "Then she thinks.", STEP1, STEP2, END), [1, 1, 1, 1, 1]),  # nothing checkable: the label carries
    ((START, STEP1), [1, 1]),  # truncated but right so far
])
def test_exact_labels_by_hand(lines, want):
    assert exact_step_labels(_resp(*lines), ARITH) == want


def test_exact_labels_subtraction_does_not_commute_and_final_verdict_counts():
    a = Arithmetic(9, (("sub", 4),))
    assert exact_step_labels("Ava starts with 9 cards.\nShe has 9 - 4 = 5 cards.\n\\boxed{5}", a) == [1, 1, 1]
    assert exact_step_labels("Ava starts with 9 cards.\nShe has 4 - 9 = 5 cards.\n\\boxed{5}", a) == [1, 0, 0]
    assert exact_step_labels(_resp(START, STEP1, STEP2, END), ARITH, final_correct=False) == [1, 1, 1, 0]


def test_every_generated_worked_solution_is_labelled_all_correct():
    cfg = TasksConfig(min_steps=1, max_steps=4)
    for p in generate_problems(cfg, "train", 200):
        labels = exact_step_labels(p.solution, arithmetic_of(p))
        assert labels == [1.0] * (p.metadata["steps"] + 2)
    p = render(ARITH, random.Random(0), "x")
    assert p.solution.count("\n") == 3 and exact_step_labels(p.solution, arithmetic_of(p)) == [1, 1, 1, 1]


def test_exact_labels_need_synthetic_problems():
    with pytest.raises(ValueError, match="problem 'g1' from 'gsm8k' has none"):
        arithmetic_of(Problem("g1", "q", "3", source="gsm8k"))


def test_process_labels_exact_source_needs_no_rollouts():
    p = render(ARITH, random.Random(0), "x")
    good, bad = p.solution, p.solution.replace("= 8", "= 9")

    class NoEngine:
        def generate(self, *a, **k):
            raise AssertionError("exact labels must not roll out")

    def reward(responses, golds, questions=None):
        return torch.tensor([1.0, 1.0])  # the bad one still boxes 16: the outcome is right, its derivation is not

    ex = process_labels(NoEngine(), [p, p], [good, bad], labels="exact", reward=reward, prompts=["q", "q"])
    assert [e.step_labels for e in ex] == [[1, 1, 1, 1], [1, 0, 0, 0]] and [e.label for e in ex] == [1.0, 1.0]
    with pytest.raises(ValueError, match="rl.rm.step_labels: unknown 'oracle'"):
        process_labels(NoEngine(), [p], [good], labels="oracle")


def test_auc_interval_hanley_mcneil_by_hand():
    # A = 0.8, 10 + 10: Q1 = 2/3, Q2 = 0.71111; SE^2 = (0.16 + 9 * 0.026667 + 9 * 0.071111) / 100 = 0.0104
    lo, hi = auc_interval(0.8, 10, 10)
    assert lo == pytest.approx(0.8 - 1.96 * math.sqrt(0.0104), abs=1e-6) and hi == pytest.approx(min(1.0, 0.8 + 1.96 * math.sqrt(0.0104)))
    assert lo == pytest.approx(0.60012, abs=1e-4)
    narrow = auc_interval(0.8, 1000, 1000)
    assert narrow[1] - narrow[0] < 0.05 < hi - lo  # more held-out labels, a tighter interval
    assert all(math.isnan(x) for x in auc_interval(0.5, 0, 5))
    m = classification_metrics([2.0, 1.0, -1.0, -2.0, 0.5], [1, 1, 0, 0, 0])
    assert m["n_pos"] == 2 and m["n_neg"] == 3 and m["auc"] == 1.0 and len(m["auc_ci95"]) == 2


def test_grpo_trains_a_prm_on_exact_labels(tiny_model_dir, tmp_path):
    """rl.rm.step_labels=exact reaches the RL loop: the PRM of round 0 is trained on exact labels."""
    import json

    from seekmath.config import load_config
    from seekmath.rl.grpo import run_rl

    cfg = load_config("smoke", ["rl.threads=1", "rl.reward=prm", "rl.rm.step_labels=exact", "rl.steps=2", "rl.eval_problems=0",
                                "rl.rm_train_prompts=3", "rl.rm_samples_per_prompt=2", "rl.max_new_tokens=16", "rl.train_problems=100"])
    run_rl(cfg, tiny_model_dir, tmp_path / "prm", progress=False, stop_after=1)  # stopped: the checkpoint is kept
    summary = json.loads((tmp_path / "prm" / "reward_model" / "round-0" / "summary.json").read_text())
    assert summary["kind"] == "process" and summary["examples"] > 0
    # the RM's data (kept for replay) carries exactly the labels step_labels.py gives each response
    (ckpt,) = (tmp_path / "prm" / "checkpoints").glob("step-*")
    items = json.loads((ckpt / "reward_model.json").read_text())["replay"]["items"]
    problems = {p.id: p for p in generate_problems(cfg.tasks, "train", 100)}
    assert len(items) == summary["examples"]
    for x in items:
        want = exact_step_labels(x["response"], arithmetic_of(problems[x["id"]]), final_correct=x["label"] > 0.5)
        assert x["step_labels"] == want
