"""Settings of evaluation (`eval:` section). Owned by the evaluate package.

Defaults are the paper's protocol (spec §5.1): greedy top-1 with up to 1,024 new tokens, and k
samples at temperature > 0 for maj@k / pass@k (the paper reports maj@64 on MATH).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class EvalConfig:
    benches: list[str] = field(default_factory=lambda: ["synthetic"])
    limit: int = 0  # 0 = whole benchmark (synthetic: tasks.num_test problems)
    k: list[int] = field(default_factory=lambda: [1, 8])  # maj@k / pass@k values; max(k) samples per problem
    prompt: str = "zeroshot"  # fewshot | zeroshot | pot | tool
    temperature: float = 0.7  # for maj@k / pass@k samples; greedy uses 0
    top_p: float = 0.95
    max_new_tokens: int = 1024  # the paper's vLLM setting (512 on its HF fallback)
    batch_size: int = 64
    engine: str = "hf"  # hf | vllm
    mode: str = "strict"  # grader: strict | deepseek
    seed: int = 0
    greedy: bool = True  # run the greedy (temperature 0) pass for top-1 accuracy
    vote: str = "equivalent"  # maj@k buckets: "equivalent" (grader's answers_equal) | "string" (normalised text)
    num_shots: int = 4  # synthetic few-shot exemplars drawn from the TRAIN split
    tool_rounds: int = 2  # tool-integrated: generation rounds (spec §5.6)
    exec_timeout: float = 10.0  # sandbox wall seconds per program (DeepSeek: 10 s)
    grade_timeout: float = 1.0  # grader time limit per item
    threads: int = 0  # torch threads (0 = leave as is)
