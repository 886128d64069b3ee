"""Settings of the reward model (`rl.reward_model:` section) [P §4.2, spec §2.3].

Paper values where it gives one: init from the base model, learning rate 2e-5 (at 7B), Math-Shepherd
data, 10% historical replay in iterative RL. Everything else (head, loss, epochs, batch) is
unspecified in the paper; the choices here are documented in reward_model.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RewardModelConfig:
    kind: str = "outcome"  # outcome (score at the last token) | process (score at each step end)
    init: str = ""  # backbone checkpoint; "" = the policy's starting checkpoint (paper: the base model)
    lr: float = 2e-5  # paper, 7B; the tiny config raises it
    weight_decay: float = 0.0
    epochs: int = 1
    batch_size: int = 16
    max_length: int = 1024  # prompt + response tokens; longer examples keep their END (where scores sit)
    grad_clip: float = 1.0
    eval_fraction: float = 0.1  # held-out share of the examples for accuracy / AUC
    step_rule: str = "lines"  # segmentation of process supervision: lines | paragraphs | regex:PATTERN
    # data: samples of the policy, labelled by the rule (outcome) or by Math-Shepherd rollouts (process)
    samples_per_question: int = 4
    rollouts_per_step: int = 8  # Math-Shepherd N: completions from every step prefix
    estimation: str = "hard"  # hard: 1 if any rollout reaches the gold answer | soft: the fraction that does
    # process labels: math_shepherd (rollout estimates, above) | exact (synthetic task only: every line's
    # calculation checked against the problem's computation, no rollouts — the upper bound; rl/step_labels.py)
    step_labels: str = "math_shepherd"
    temperature: float = 1.0  # sampling temperature for the RM data and the rollouts
    max_new_tokens: int = 256
    replay_ratio: float = 0.1  # iterative RL: share of historical data in each continued-training set
    buffer_capacity: int = 0  # max historical examples kept (0 = all)
    seed: int = 0
