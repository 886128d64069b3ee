"""Settings of the RL stage (`rl:` section). Owned by the rl package."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RLConfig:
    algorithm: str = "grpo"
    lr: float = 1e-6
    beta: float = 0.04  # k3 KL coefficient (eq. 3)
    clip_eps: float = 0.2
    group_size: int = 64  # G
    prompts_per_step: int = 16
    max_new_tokens: int = 1024
    mu: int = 1
    steps: int = 100
    seed: int = 0
