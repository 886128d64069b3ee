"""Which questions a GRPO step samples (`rl.curriculum`), as one stream whose state is checkpointed.

- ``none``: consecutive slices of a per-epoch seeded permutation of the questions. The stream's cursor
  (questions handed out so far) is its whole state; a step that draws exactly rl.prompts_per_step leaves
  it at step * prompts_per_step, so without resampling the questions of a step are a pure function of
  the step (what checkpoints written before this state existed assume).
- ``difficulty``: `rl/curriculum.py`'s DifficultyPool — a question's weight comes from its running
  accuracy (folded in after every step, `observe`); a step's questions are drawn without replacement
  from a generator seeded by (seed, step, round).

Dynamic sampling (`rl/dynamic_sampling.py`) draws more questions inside a step, round after round:
from the cursor onwards (none) or among the questions the step has not drawn yet (difficulty). The
state (cursor, pool) is saved in the RL checkpoint, so a resumed run draws exactly what the
uninterrupted run drew.
"""

from __future__ import annotations

import torch

from seekmath.rl.curriculum import DifficultyPool

CURRICULA = ("none", "difficulty")


def _seed(seed: int, step: int, salt: int) -> int:
    from seekmath.rl.grpo import step_seed  # the loop's one seed formula (grpo imports this module)

    return step_seed(seed, step, salt)


def permutation_slice(n: int, start: int, k: int, seed: int) -> list[int]:
    """Positions [start, start + k) of the endless stream epoch 0, epoch 1, ... where epoch e is a
    seeded permutation of range(n)."""
    out, cursor = [], start
    while len(out) < k:
        epoch, pos = divmod(cursor, n)
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(_seed(seed, epoch, salt=1)))
        take = min(k - len(out), n - pos)
        out.extend(perm[pos : pos + take].tolist())
        cursor += take
    return out


class QuestionStream:
    """The RL questions' order: `draw` a round's questions, `observe` their groups' accuracies."""

    def __init__(self, n_questions: int, rl, start_step: int = 0):
        if rl.curriculum not in CURRICULA:
            raise ValueError(f"rl.curriculum: unknown {rl.curriculum!r}; expected one of {', '.join(CURRICULA)}")
        if rl.curriculum == "difficulty" and rl.prompts_per_step > n_questions:
            raise ValueError(f"rl.curriculum=difficulty draws rl.prompts_per_step={rl.prompts_per_step} distinct questions "
                             f"per step from {n_questions}")
        self.n, self.seed = n_questions, rl.seed
        self.cursor = start_step * rl.prompts_per_step
        self.pool = (DifficultyPool(n_questions, extreme_weight=rl.curriculum_extreme_weight, rate=rl.curriculum_rate)
                     if rl.curriculum == "difficulty" else None)

    def draw(self, step: int, round_: int, k: int, exclude: list[int] = ()) -> list[int]:
        """Up to k questions for round `round_` of `step` (fewer only when a curriculum runs out of
        questions the step has not drawn: `exclude`)."""
        if self.pool is None:
            out = permutation_slice(self.n, self.cursor, k, self.seed)
            self.cursor += k
            return out
        k = min(k, self.n - len(set(exclude)))
        return self.pool.sample(k, _seed(self.seed, step, salt=11 + round_), exclude=exclude) if k > 0 else []

    def observe(self, indices: list[int], group_accuracy: torch.Tensor) -> None:
        """Fold each drawn question's group accuracy into the curriculum (nothing without one)."""
        if self.pool is not None:
            self.pool.update(indices, [float(a) for a in group_accuracy])

    def stats(self) -> dict:
        return self.pool.stats() if self.pool is not None else {}

    def state_dict(self) -> dict:
        return {"cursor": self.cursor, "curriculum": self.pool.state_dict() if self.pool is not None else None}

    def load_state_dict(self, state: dict) -> None:
        self.cursor = int(state["cursor"])
        if (state.get("curriculum") is None) != (self.pool is None):
            raise ValueError("rl.curriculum differs from the checkpoint's (resume with the run's own settings)")
        if self.pool is not None:
            self.pool.load_state_dict(state["curriculum"])
