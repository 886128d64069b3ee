"""Group-relative advantages: outcome supervision (§4.1.2) and process supervision (§4.1.3).

Decisions the paper leaves open (spec §3.3), made here once and documented:

- **std estimator**: the sample standard deviation (Bessel, divide by n-1), as TRL does, computed in
  float64 so that nearly-equal rewards cannot cancel into huge advantages (NeMo-RL PR #4158).
- **zero-variance groups**: a group whose rewards are all equal (max - min <= 1e-6 * max(1, |r|max))
  carries no relative signal: EVERY advantage in it is exactly 0 — never NaN, never (r-mean)/eps.
  Its outputs still count in the loss's denominators (their KL term still acts). Such groups are
  counted and reported as `zero_variance_groups`.
- **std normalisation off** (`normalise_std=False`, Dr. GRPO): only the mean is subtracted.
- **process supervision**: a step reward belongs to the token where its step ends; the advantage of
  token t sums the normalised rewards of all steps ending at or after t; tokens after the last
  step's end (e.g. the EOS) get 0 — no step ends at or after them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

_EQUAL_TOL = 1e-6


def _is_constant(values: torch.Tensor) -> bool:
    if values.numel() <= 1:
        return True
    spread = float(values.max() - values.min())
    return spread <= _EQUAL_TOL * max(1.0, float(values.abs().max()))


def _normalise(values: torch.Tensor, normalise_std: bool) -> torch.Tensor:
    """(v - mean) / std (sample std), or v - mean; all-equal values -> zeros."""
    v = values.to(torch.float64)
    if _is_constant(v):
        return torch.zeros_like(v)
    centred = v - v.mean()
    if not normalise_std:
        return centred
    return centred / v.std(unbiased=True)


@dataclass
class Advantages:
    values: torch.Tensor  # [num_outputs] (outcome) or [num_outputs, T] (process)
    zero_variance_groups: int
    num_groups: int

    @property
    def zero_variance_share(self) -> float:
        return self.zero_variance_groups / max(1, self.num_groups)


def outcome_advantages(rewards: torch.Tensor, group_size: int, normalise_std: bool = True) -> Advantages:
    """Outcome supervision: r_tilde_i = (r_i - mean(r)) / std(r) within each group of G outputs.

    `rewards` is flat [num_groups * G], groups contiguous (outputs of one prompt next to each other).
    Returns one advantage per output (float32); every token of o_i gets it (broadcast in the loss).
    """
    rewards = torch.as_tensor(rewards).flatten()
    if group_size < 1 or rewards.numel() % group_size:
        raise ValueError(f"outcome_advantages: {rewards.numel()} rewards do not split into groups of {group_size}")
    if not torch.isfinite(rewards).all():
        raise ValueError("outcome_advantages: rewards contain NaN/inf")
    groups = rewards.view(-1, group_size)
    out = torch.empty(groups.shape, dtype=torch.float64)
    zero = 0
    for g in range(groups.shape[0]):
        zero += _is_constant(groups[g].to(torch.float64))
        out[g] = _normalise(groups[g], normalise_std)
    return Advantages(out.flatten().to(torch.float32), zero, groups.shape[0])


def _groups(rewards, group_size: int, who: str, min_size: int = 1) -> tuple[torch.Tensor, int]:
    """Flat rewards as float64 [num_groups, G] (checked) and the number of zero-variance groups."""
    rewards = torch.as_tensor(rewards).flatten().to(torch.float64)
    if group_size < min_size or rewards.numel() % group_size:
        raise ValueError(f"{who}: {rewards.numel()} rewards do not split into groups of {group_size} (>= {min_size})")
    if not torch.isfinite(rewards).all():
        raise ValueError(f"{who}: rewards contain NaN/inf")
    groups = rewards.view(-1, group_size)
    return groups, int(sum(_is_constant(g) for g in groups))


def rloo_advantages(rewards: torch.Tensor, group_size: int) -> Advantages:
    """RLOO (Ahmadian et al. 2024, eq. 4 after Kool et al. 2019): A_i = r_i - (1/(G-1)) sum_{j != i} r_j.

    Each output's baseline is the mean of the OTHER outputs of its group, which keeps the estimator
    unbiased; it equals G/(G-1) * (r_i - mean(r)) — GRPO without the std and with that factor.
    """
    groups, zero = _groups(rewards, group_size, "rloo_advantages", min_size=2)
    others_mean = (groups.sum(dim=1, keepdim=True) - groups) / (group_size - 1)
    out = groups - others_mean
    out[torch.tensor([_is_constant(g) for g in groups])] = 0.0
    return Advantages(out.flatten().to(torch.float32), int(zero), groups.shape[0])


def reinforce_pp_advantages(rewards: torch.Tensor, group_size: int, group_baseline: bool = False) -> Advantages:
    """REINFORCE++ (Hu et al. 2025): advantages normalised over the whole BATCH, not per group.

    group_baseline=False: A = (r - mean_batch(r)) / std_batch(r) (§3, "global advantage normalisation");
    group_baseline=True (REINFORCE++-baseline): r - mean_group(r) first, then divided by the batch std of
    those centred values. A batch whose values are all equal gets zeros. Groups still matter for the
    zero-variance count (and for rl.zero_variance = skip).
    """
    groups, zero = _groups(rewards, group_size, "reinforce_pp_advantages")
    centred = groups - groups.mean(dim=1, keepdim=True) if group_baseline else groups - groups.mean()
    flat = centred.flatten()
    if _is_constant(flat):  # nothing to normalise: no signal anywhere in the batch
        return Advantages(torch.zeros(flat.shape, dtype=torch.float32), int(zero), groups.shape[0])
    return Advantages((flat / flat.std(unbiased=True)).to(torch.float32), int(zero), groups.shape[0])


ESTIMATORS = ("grpo", "rloo", "reinforce_pp", "reinforce_pp_baseline")


def outcome_advantages_by(estimator: str, rewards: torch.Tensor, group_size: int, normalise_std: bool = True) -> Advantages:
    """The outcome-advantage rule named by `rl.advantage_estimator`: grpo (§4.1.2; Dr. GRPO with
    normalise_std=False), rloo, reinforce_pp or reinforce_pp_baseline."""
    if estimator == "grpo":
        return outcome_advantages(rewards, group_size, normalise_std)
    if estimator == "rloo":
        return rloo_advantages(rewards, group_size)
    if estimator in ("reinforce_pp", "reinforce_pp_baseline"):
        return reinforce_pp_advantages(rewards, group_size, group_baseline=estimator.endswith("baseline"))
    raise ValueError(f"rl.advantage_estimator: unknown {estimator!r}; expected one of {', '.join(ESTIMATORS)}")


def process_advantages(
    step_rewards: Sequence[Sequence[float]],
    step_end_tokens: Sequence[Sequence[int]],
    lengths: Sequence[int],
    group_size: int,
    normalise_std: bool = True,
) -> Advantages:
    """Process supervision: A_hat_{i,t} = sum over steps j of output i with index(j) >= t of r_tilde_i^{index(j)}.

    Args:
        step_rewards: per output, one reward per reasoning step (PRM score at the step's end).
        step_end_tokens: per output, the completion-token index where each step ends (same length
            as its step_rewards); indices past the completion are clamped to its last token.
        lengths: number of completion tokens per output (the T of the returned rows is max(lengths)).
        group_size: G; outputs of one prompt are contiguous.
        normalise_std: divide by std(R) (R = all step rewards of all G outputs) or only subtract mean(R).

    An output with no steps gets advantage 0 on all tokens (but its group's other steps still count).
    """
    n = len(step_rewards)
    if not (len(step_end_tokens) == n == len(lengths)):
        raise ValueError("process_advantages: step_rewards, step_end_tokens and lengths differ in length")
    if group_size < 1 or n % group_size:
        raise ValueError(f"process_advantages: {n} outputs do not split into groups of {group_size}")
    T = max([int(x) for x in lengths] + [0])
    out = torch.zeros((n, T), dtype=torch.float64)
    zero = 0
    for g0 in range(0, n, group_size):
        members = range(g0, g0 + group_size)
        flat: list[float] = []
        for i in members:
            if len(step_rewards[i]) != len(step_end_tokens[i]):
                raise ValueError(f"process_advantages: output {i} has {len(step_rewards[i])} rewards but {len(step_end_tokens[i])} step ends")
            flat.extend(float(r) for r in step_rewards[i])
        R = torch.tensor(flat, dtype=torch.float64)
        if R.numel() and not torch.isfinite(R).all():
            raise ValueError("process_advantages: step rewards contain NaN/inf")
        zero += _is_constant(R)
        normed = _normalise(R, normalise_std) if R.numel() else R
        k = 0
        for i in members:
            L = int(lengths[i])
            for end in step_end_tokens[i]:
                r = normed[k]
                k += 1
                if L == 0:
                    continue
                idx = min(max(int(end), 0), L - 1)
                out[i, : idx + 1] += r  # every token t <= index(j) gets this step's reward
    return Advantages(out.to(torch.float32), zero, n // group_size)


def informative_groups(advantages: torch.Tensor, group_size: int) -> torch.Tensor:
    """Which groups carry a policy-gradient signal: bool [num_groups], False where every advantage of
    every output of the group is exactly 0 (an all-equal-reward group, an all-wrong group under I(o)).

    Such a group's term in eq. 3 is -beta * KL only, so leaving it out of an update (rl.zero_variance
    = skip) changes nothing but that KL term — and nothing at all when beta = 0.
    """
    a = torch.as_tensor(advantages)
    n = a.shape[0]
    if group_size < 1 or n % group_size:
        raise ValueError(f"informative_groups: {n} outputs do not split into groups of {group_size}")
    return (a.reshape(n // group_size, -1) != 0).any(dim=1)


def indicator_advantages(rewards: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Online RFT / RFT gradient coefficient I(o) (Table 10): 1 for a correct output, 0 otherwise."""
    return (torch.as_tensor(rewards).flatten() > threshold).to(torch.float32)
