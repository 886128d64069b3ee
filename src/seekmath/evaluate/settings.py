"""Settings of evaluation (`eval:` section). Owned by the evaluate package."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class EvalConfig:
    benches: list[str] = field(default_factory=lambda: ["synthetic"])
    limit: int = 0  # 0 = whole benchmark
    k: list[int] = field(default_factory=lambda: [1, 8])
    prompt: str = "zeroshot"  # fewshot | zeroshot | pot | tool
    temperature: float = 0.7  # for maj@k / pass@k samples; greedy uses 0
    top_p: float = 0.95
    max_new_tokens: int = 1024
    batch_size: int = 64
    engine: str = "hf"  # hf | vllm
    mode: str = "strict"  # grader: strict | deepseek
    seed: int = 0
