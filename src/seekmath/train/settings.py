"""Settings of the causal-LM trainer (`pretrain:` and `sft:` sections). Owned by the train package.

Defaults are the paper's values where it gives one (spec §2.1-2.2): AdamW (0.9, 0.95), weight
decay 0.1, multi-step decay to 31.6% of peak at 80% and 10% at 90% of training for pretraining,
constant LR for SFT. Sizes (batch, steps, context) default to the CPU-scale tiny recipe; the
`deepseekmath-7b` config sets the paper's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from seekmath.lora import LoRAConfig


@dataclass
class TrainConfig:
    lr: float = 1e-3  # peak learning rate
    batch_size: int = 16  # global batch, in packed sequences; independent of the number of processes
    micro_batch_size: int = 0  # sequences per forward on one process; 0 = batch_size / processes (no accumulation)
    seq_len: int = 256  # context length sequences are packed to
    max_steps: int = 200  # optimizer steps
    seed: int = 0  # data order and mixture sampling
    # optimizer (paper §1.7/§2.1: AdamW 0.9/0.95, wd 0.1); weight decay skips 1-D params (norms, biases)
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    weight_decay: float = 0.1
    grad_clip: float = 1.0  # max global grad norm; 0 = no clipping
    warmup_steps: int = 0
    schedule: str = "constant"  # constant | multistep | cosine
    # numerics: fp32 | bf16 (autocast) | auto (bf16 where the device has native bf16: GPUs, CPUs with AVX512-BF16/AMX)
    precision: str = "auto"
    gradient_checkpointing: bool = False
    distributed: str = "ddp"  # ddp | fsdp (FSDP2 fully_shard per decoder layer; bf16 precision = bf16 params, fp32 reductions)
    # data: list of "SOURCE" or "SOURCE@WEIGHT" (token share); see seekmath.train.data.parse_data_spec
    data: list[str] = field(default_factory=list)
    text_field: str = "text"
    doc_isolation: bool = True  # no attention/loss across packed documents (position_ids resets)
    eval_documents: int = 200  # held-out documents/examples for the loss evaluation
    eval_sequences: int = 32  # packed held-out sequences evaluated
    eval_every: int = 0  # also evaluate every N steps (0 = only at the start and the end)
    save_every: int = 0  # checkpoint every N steps (0 = only at the end)
    keep_checkpoints: int = 2
    log_every: int = 1


@dataclass
class PretrainConfig(TrainConfig):
    schedule: str = "multistep"  # linear warmup, 31.6% of peak at 80%, 10% at 90% (paper §2.1)
    warmup_steps: int = 20  # paper: 2,000 of ~50,000 steps
    decay_at: list[float] = field(default_factory=lambda: [0.8, 0.9])
    decay_to: list[float] = field(default_factory=lambda: [0.316, 0.1])
    # the embedded default data (`synthetic@W,filler@W`): generated worked problems + non-math prose
    synthetic_documents: int = 20000
    filler_documents: int = 4000


@dataclass
class SFTConfig(TrainConfig):
    schedule: str = "constant"  # paper §2.2: constant LR
    # formats of the default synthetic data: cot (COT_SUFFIX, worked solution), tool (TOOL_SUFFIX,
    # reasoning + python + output block), pot (program of thought); one is picked per example
    formats: list[str] = field(default_factory=lambda: ["cot"])
    num_examples: int = 0  # SFT examples drawn from the synthetic train split (0 = tasks.num_train)
    lora: LoRAConfig = field(default_factory=LoRAConfig)  # LoRA adapters (seekmath.lora); final/ merged by default
