"""Rule-based reward: 1 if the response's final answer equals the gold answer, else 0 [P §4.2, §5.2.1].

The paper's "Rule" reward (Table 10) is answer correctness judged by the evaluation grader; its
learned reward models are trained on labels from the same judgement. So the reward is a thin layer
over `seekmath.evaluate.grade.grade_batch` — one verifier for evaluation, RL and reward-model labels,
no second, drifting copy.

Verdicts are "correct" | "incorrect" | "unverifiable" (no answer found, a timeout, an answer the
checker cannot parse). Unverifiable scores 0 like incorrect — a policy must not be paid for output
the checker cannot confirm — but it is counted separately (`last_stats`) so a run can report how
much of its signal is "could not check" rather than "wrong" (peers-rl §"What users want" item 9:
verifiers that silently return 1 or crash on unparsable answers).

A response must commit to an answer: the grader's last-number fallback is OFF here (only few-shot
benchmark protocols define it), so a chain of thought cut off at the token limit, or an empty "the
answer is", is not paid for the intermediate number it happens to end on. A completion that stopped at
the token limit (finish_reason "length") gets `truncation_reward` whatever its text — the usual overlong
filter (DAPO's "overlong" shaping in its simplest form): 0.0 by default, a negative value punishes length.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Sequence

import torch

log = logging.getLogger("seekmath.rl.rewards")

VERDICT_REWARD = {"correct": 1.0, "incorrect": 0.0, "unverifiable": 0.0}


def truncation_rule(rewards: torch.Tensor, finish_reasons: Sequence[str | None] | None,
                    truncation_reward: float = 0.0) -> torch.Tensor:
    """Rewards with every completion that stopped at the token limit (finish_reason == "length")
    replaced by `truncation_reward`; `finish_reasons` None leaves them as they are."""
    if finish_reasons is None:
        return rewards
    if len(finish_reasons) != len(rewards):
        raise ValueError(f"truncation_rule: {len(finish_reasons)} finish reasons for {len(rewards)} rewards")
    cut = torch.tensor([f == "length" for f in finish_reasons], dtype=torch.bool)
    return torch.where(cut, torch.full_like(rewards, float(truncation_reward)), rewards)


class RuleReward:
    """`RuleReward(mode="strict")(responses, golds, questions=None) -> Tensor[N]` of 1.0 / 0.0.

    mode: the grader's mode ("strict" = DeepSeekMath's extraction + math_equal; see the grader).
    bench: passed to the grader for benchmark-specific extraction (None = generic boxed/"answer is").
    timeout: hard per-item time limit of the grader, seconds; a timeout counts as unverifiable.
    workers: grader worker threads (0 = in-line).
    last_number_fallback: score the last number of a response that states no answer (False: a
        response commits to an answer or gets 0; True only to reproduce an old run).
    truncation_reward: the reward of a completion with finish_reason "length" (when the call passes
        `finish_reasons`).

    After each call, `last_verdicts` holds the grader's Verdicts and `last_stats` the counts
    {"correct", "incorrect", "unverifiable", "n"}; `total_stats` accumulates over calls.
    """

    def __init__(self, mode: str = "strict", *, bench: str | None = None, timeout: float = 1.0, workers: int = 0,
                 last_number_fallback: bool = False, truncation_reward: float = 0.0):
        self.mode = mode
        self.last_number_fallback = last_number_fallback
        self.truncation_reward = truncation_reward
        self.bench = bench
        self.timeout = timeout
        self.workers = workers
        self.last_verdicts: list = []
        self.last_stats: dict[str, int] = {}
        self.total_stats: Counter = Counter()

    def verdicts(self, responses: Sequence[str], golds: Sequence[str], questions: Sequence[str] | None = None) -> list:
        """The grader's Verdict for each (response, gold) pair."""
        from seekmath.evaluate.grade import grade_batch

        if isinstance(responses, str) or isinstance(golds, str):
            raise TypeError("RuleReward: responses and golds must be lists of strings, not a single string")
        if len(responses) != len(golds):
            raise ValueError(f"RuleReward: {len(responses)} responses but {len(golds)} gold answers")
        if questions is not None and len(questions) != len(responses):
            raise ValueError(f"RuleReward: {len(questions)} questions but {len(responses)} responses")
        items = []
        for i, (r, g) in enumerate(zip(responses, golds)):
            if g is None:
                raise ValueError(f"RuleReward: gold answer {i} is None")
            item = {"response": r, "gold": str(g)}
            if self.bench is not None:
                item["bench"] = self.bench
            if questions is not None:
                item["question"] = questions[i]
            items.append(item)
        if not items:
            return []
        return grade_batch(items, mode=self.mode, timeout=self.timeout, workers=self.workers,
                           last_number_fallback=self.last_number_fallback)

    def __call__(self, responses: Sequence[str], golds: Sequence[str], questions: Sequence[str] | None = None,
                 finish_reasons: Sequence[str | None] | None = None) -> torch.Tensor:
        """Rewards; with `finish_reasons`, completions cut at the token limit get `truncation_reward`."""
        if finish_reasons is not None and len(finish_reasons) != len(responses):
            raise ValueError(f"RuleReward: {len(finish_reasons)} finish reasons but {len(responses)} responses")
        verdicts = self.verdicts(responses, golds, questions)
        rewards = []
        for v in verdicts:
            if v.verdict not in VERDICT_REWARD:
                raise ValueError(f"RuleReward: grader returned unknown verdict {v.verdict!r}")
            rewards.append(VERDICT_REWARD[v.verdict])
        stats = Counter(v.verdict for v in verdicts)
        self.last_verdicts = verdicts
        self.last_stats = {k: stats.get(k, 0) for k in VERDICT_REWARD} | {"n": len(verdicts)}
        self.total_stats.update(self.last_stats)
        if self.last_stats["unverifiable"]:
            log.debug("rule reward: %d of %d responses unverifiable (scored 0)", self.last_stats["unverifiable"], len(verdicts))
        return self.apply_truncation(torch.tensor(rewards, dtype=torch.float32), finish_reasons)

    def apply_truncation(self, rewards: torch.Tensor, finish_reasons: Sequence[str | None] | None) -> torch.Tensor:
        """`rewards` with completions stopped at the token limit set to `truncation_reward` (GRPO calls
        this after grading, so its accuracy metric stays the grader's verdicts)."""
        return truncation_rule(rewards, finish_reasons, self.truncation_reward)

    def __repr__(self) -> str:
        return f"RuleReward(mode={self.mode!r}, bench={self.bench!r}, timeout={self.timeout})"
