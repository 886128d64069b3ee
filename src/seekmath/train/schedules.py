"""Learning-rate schedules and the optimizer (paper §1.7 / §2.1-2.2; spec §2).

Pretraining: linear warmup to the peak, then a *multi-step* decay — 31.6% of the peak after 80% of
the steps and 10% after 90% (DeepSeek LLM's schedule, reused by DeepSeekMath). SFT: constant LR.
The schedules are pure functions of the step, wrapped in a `LambdaLR` so their position is part of
the checkpoint.
"""

from __future__ import annotations

import math

import torch


def lr_factor(
    step: int,
    total_steps: int,
    *,
    schedule: str = "multistep",
    warmup_steps: int = 0,
    decay_at: tuple[float, ...] | list[float] = (0.8, 0.9),
    decay_to: tuple[float, ...] | list[float] = (0.316, 0.1),
) -> float:
    """Multiplier of the peak LR used for optimizer step `step` (0-based).

    warmup: (step + 1) / warmup_steps for the first `warmup_steps` steps (never 0, so step 0 learns).
    multistep: 1 until decay_at[0] * total, then decay_to[0] until decay_at[1] * total, then decay_to[1].
    cosine: half-cosine from 1 to 0.1 after warmup. constant: 1.
    """
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if len(decay_at) != len(decay_to):
        raise ValueError(f"decay_at {list(decay_at)} and decay_to {list(decay_to)} must have the same length")
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    if schedule == "multistep":
        factor = 1.0
        for frac, to in zip(decay_at, decay_to):
            if step >= frac * total_steps:
                factor = to
        return factor
    if schedule == "cosine":
        span = max(1, total_steps - warmup_steps)
        progress = min(1.0, (step - warmup_steps) / span)
        return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress))
    raise ValueError(f"unknown schedule {schedule!r}; expected constant, multistep or cosine")


def make_scheduler(optimizer: torch.optim.Optimizer, tcfg, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    decay_at = getattr(tcfg, "decay_at", (0.8, 0.9))
    decay_to = getattr(tcfg, "decay_to", (0.316, 0.1))

    def factor(step: int) -> float:
        return lr_factor(step, total_steps, schedule=tcfg.schedule, warmup_steps=tcfg.warmup_steps,
                         decay_at=decay_at, decay_to=decay_to)

    factor(0)  # fail on a bad schedule name now, not at the first step
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Decay matrices and embeddings; not 1-D params (RMSNorm gains, biases), as in Llama/nanoGPT."""
    decay, no_decay = [], []
    for _, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (decay if p.ndim >= 2 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def make_optimizer(model: torch.nn.Module, tcfg) -> torch.optim.AdamW:
    """AdamW(beta1, beta2, weight decay) — paper: (0.9, 0.95), 0.1."""
    return torch.optim.AdamW(
        param_groups(model, tcfg.weight_decay), lr=tcfg.lr, betas=(tcfg.beta1, tcfg.beta2), eps=tcfg.eps
    )
