"""A difficulty curriculum for RL prompts: stop spending rollouts on questions the policy always or never
solves (the "difficulty pool" of peers; DAPO's dynamic sampling filters such groups after sampling, this
avoids sampling them in the first place).

Each question keeps a running accuracy, an exponential moving average of its groups' accuracies:
acc <- (1 - a) * acc + a * group_accuracy (a = `rate`), starting from its first observation. A question
whose running accuracy is exactly 0 or 1 (every group seen so far was all-wrong or all-right) is
sampled with weight `extreme_weight`; unseen and partly-solved questions with weight 1. A step's
questions are drawn without replacement with those weights from a generator seeded by the step, so a
run resumed from a checkpoint (state_dict) draws exactly what the uninterrupted run drew.
"""

from __future__ import annotations

import torch


class DifficultyPool:
    def __init__(self, n_questions: int, *, extreme_weight: float = 0.1, rate: float = 0.5):
        if n_questions < 1:
            raise ValueError("DifficultyPool: needs at least one question")
        if not 0 < extreme_weight <= 1:
            raise ValueError(f"rl.curriculum_extreme_weight must be in (0, 1], got {extreme_weight}")
        if not 0 < rate <= 1:
            raise ValueError(f"rl.curriculum_rate must be in (0, 1], got {rate}")
        self.extreme_weight, self.rate = float(extreme_weight), float(rate)
        self.accuracy = torch.zeros(n_questions, dtype=torch.float64)
        self.seen = torch.zeros(n_questions, dtype=torch.bool)

    def weights(self) -> torch.Tensor:
        """Sampling weight per question: `extreme_weight` where the running accuracy is 0 or 1, else 1."""
        extreme = self.seen & ((self.accuracy == 0) | (self.accuracy == 1))
        return torch.where(extreme, torch.full_like(self.accuracy, self.extreme_weight), torch.ones_like(self.accuracy))

    def sample(self, k: int, seed: int, exclude=()) -> list[int]:
        """k distinct question indices drawn with `weights()` from a generator seeded with `seed`, none
        of them in `exclude` (the questions a step already drew, when dynamic sampling draws again)."""
        w = self.weights()
        w[list(exclude)] = 0.0
        if k > int((w > 0).sum()):
            raise ValueError(f"DifficultyPool.sample: {k} questions asked from a pool of {int((w > 0).sum())}")
        g = torch.Generator().manual_seed(int(seed))
        return torch.multinomial(w, k, replacement=False, generator=g).tolist()

    def update(self, indices: list[int], group_accuracy: list[float]) -> None:
        """Fold each sampled question's group accuracy (share of its G outputs that were correct) in."""
        for i, acc in zip(indices, group_accuracy):
            acc = float(acc)
            if self.seen[i]:
                self.accuracy[i] = (1 - self.rate) * self.accuracy[i] + self.rate * acc
            else:
                self.accuracy[i], self.seen[i] = acc, True

    def stats(self) -> dict:
        seen = int(self.seen.sum())
        w = self.weights()
        return {"curriculum_seen": seen, "curriculum_solved": int((self.seen & (self.accuracy == 1)).sum()),
                "curriculum_unsolved": int((self.seen & (self.accuracy == 0)).sum()),
                "curriculum_weight_share_extreme": float(w[w < 1].sum() / w.sum())}

    def state_dict(self) -> dict:
        return {"accuracy": self.accuracy.tolist(), "seen": self.seen.tolist(),
                "extreme_weight": self.extreme_weight, "rate": self.rate}

    def load_state_dict(self, state: dict) -> None:
        if len(state["accuracy"]) != self.accuracy.numel():
            raise ValueError(f"curriculum state has {len(state['accuracy'])} questions, the run has {self.accuracy.numel()}")
        self.accuracy = torch.tensor(state["accuracy"], dtype=torch.float64)
        self.seen = torch.tensor(state["seen"], dtype=torch.bool)
