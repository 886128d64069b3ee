"""Reward shaping applied to outcome rewards before advantages: DAPO's soft overlong penalty and a KL
penalty in the reward (PPO/REINFORCE++ style) — pure functions, one per rule.
"""

from __future__ import annotations

import torch

from seekmath.rl.losses import kl_estimate


def soft_overlong_penalty(lengths: torch.Tensor, max_len: int, cache_len: int) -> torch.Tensor:
    """DAPO's soft overlong punishment (Yu et al. 2025, eq. 13), added to the reward of each output:

        0                                   if |o| <= L_max - L_cache
        ((L_max - L_cache) - |o|) / L_cache if L_max - L_cache < |o| <= L_max
        -1                                  if |o| > L_max

    `lengths` are completion lengths in tokens; L_max = `max_len` (the generation budget), L_cache =
    `cache_len` (the punishment interval, 0 < L_cache <= L_max).
    """
    if not 0 < cache_len <= max_len:
        raise ValueError(f"rl.overlong_cache: must be in (0, rl.max_new_tokens={max_len}], got {cache_len}")
    n = torch.as_tensor(lengths, dtype=torch.float64)
    start = max_len - cache_len
    out = torch.where(n <= start, torch.zeros_like(n), (start - n) / cache_len)
    return torch.where(n > max_len, torch.full_like(n, -1.0), out).to(torch.float32)


def kl_penalised_rewards(rewards: torch.Tensor, logp: torch.Tensor, ref_logp: torch.Tensor, mask: torch.Tensor,
                         beta: float, estimator: str = "k1") -> torch.Tensor:
    """KL in the reward instead of the loss: r_i - beta * sum_t KL_t(o_i) (no gradient flows through it).

    This is the InstructGPT/REINFORCE++ placement (the paper's eq. 3 puts k3 in the loss instead);
    `estimator` picks k1/k2/k3 per token (`losses.kl_estimate`), summed over the output's real tokens.
    """
    kl = kl_estimate(logp.detach().to(torch.float64), ref_logp.detach().to(torch.float64), estimator)
    per_output = (kl * mask.to(torch.float64)).sum(dim=1)
    return (torch.as_tensor(rewards, dtype=torch.float64).flatten() - beta * per_output).to(torch.float32)
