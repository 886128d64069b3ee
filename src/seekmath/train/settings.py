"""Settings of the causal-LM trainer (`pretrain:` and `sft:` sections). Owned by the train package."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TrainConfig:
    lr: float = 1e-3
    batch_size: int = 16  # global batch, in sequences; independent of the number of processes
    seq_len: int = 256
    max_steps: int = 200
    seed: int = 0


@dataclass
class PretrainConfig(TrainConfig):
    schedule: str = "multistep"  # linear warmup, 31.6% of peak at 80%, 10% at 90% (paper §2.1)


@dataclass
class SFTConfig(TrainConfig):
    schedule: str = "constant"
