"""DAPO's dynamic sampling (Yu et al. 2025, §3.2, eq. 11's constraint 0 < |{correct o_i}| < G), with
resampling: a group whose G rewards are all equal has advantage 0 and gives no policy gradient, so
the step keeps drawing NEW questions and generating their groups until it holds rl.prompts_per_step
informative groups (reward variance > 0), at most rl.max_generation_rounds rounds.

Round 0 samples rl.prompts_per_step questions (what a step without dynamic sampling samples, with the
same seeds); each later round samples as many new questions as informative groups are still missing
(no group is generated that could not be used). Zero-variance groups are dropped. When the bound is
hit the step trains on the informative groups it has (fewer than prompts_per_step; none: no update),
and logs how many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

from seekmath.rl.advantages import informative_groups, outcome_advantages


def varied_groups(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """bool [num_groups]: True where the group's rewards are not all equal (the advantages' own
    equality tolerance: a group is informative exactly when its group-centred rewards are not all 0)."""
    return informative_groups(outcome_advantages(rewards, group_size, normalise_std=False).values, group_size)


@dataclass
class Round:
    """One round's sampled groups: question indices and, per output, the (shaped) reward and correctness."""

    indices: list[int]
    rewards: torch.Tensor
    correct: torch.Tensor
    extra: dict = field(default_factory=dict)  # whatever the caller needs back (the completions)


def fill_batch(sample_round: Callable[[int, int], Round], want: int, max_rounds: int, group_size: int) -> tuple[list[Round], list[list[int]], dict]:
    """Run rounds until `want` informative groups are found or `max_rounds` rounds have run.

    sample_round(r, k) samples k new questions' groups for round r (it may return fewer questions when
    there are no new ones left; an empty round ends the step). Returns the rounds, the informative
    group positions kept in each, and the step's metrics (generation_rounds, informative_groups,
    questions_drawn).
    """
    rounds, kept, found = [], [], 0
    for r in range(max_rounds):
        got = sample_round(r, want if r == 0 else want - found)
        if not got.indices:
            break
        info = varied_groups(got.rewards, group_size).tolist()
        keep = [u for u, ok in enumerate(info) if ok][: want - found]
        rounds.append(got)
        kept.append(keep)
        found += len(keep)
        if found >= want:
            break
    stats = {"generation_rounds": len(rounds), "informative_groups": found,
             "questions_drawn": sum(len(g.indices) for g in rounds)}
    return rounds, kept, stats
