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
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Sequence

import torch

log = logging.getLogger("seekmath.rl.rewards")

VERDICT_REWARD = {"correct": 1.0, "incorrect": 0.0, "unverifiable": 0.0}


class RuleReward:
    """`RuleReward(mode="strict")(responses, golds, questions=None) -> Tensor[N]` of 1.0 / 0.0.

    mode: the grader's mode ("strict" = DeepSeekMath's extraction + math_equal; see the grader).
    bench: passed to the grader for benchmark-specific extraction (None = generic boxed/"answer is").
    timeout: hard per-item time limit of the grader, seconds; a timeout counts as unverifiable.
    workers: grader worker threads (0 = in-line).

    After each call, `last_verdicts` holds the grader's Verdicts and `last_stats` the counts
    {"correct", "incorrect", "unverifiable", "n"}; `total_stats` accumulates over calls.
    """

    def __init__(self, mode: str = "strict", *, bench: str | None = None, timeout: float = 1.0, workers: int = 0):
        self.mode = mode
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
        return grade_batch(items, mode=self.mode, timeout=self.timeout, workers=self.workers)

    def __call__(self, responses: Sequence[str], golds: Sequence[str], questions: Sequence[str] | None = None) -> torch.Tensor:
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
        return torch.tensor(rewards, dtype=torch.float32)

    def __repr__(self) -> str:
        return f"RuleReward(mode={self.mode!r}, bench={self.bench!r}, timeout={self.timeout})"
