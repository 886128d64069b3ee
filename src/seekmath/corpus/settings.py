"""Settings of the corpus stage (`corpus:` section of a config). Owned by the corpus package."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CorpusConfig:
    seed: int = 0
    demo_pages: int = 3000  # pages of the generated mini-crawl (`corpus demo-crawl`)
    engine: str = "local"  # local | ray
    workers: int = 2
    # fastText, the paper's settings (§1.1)
    dim: int = 256
    lr: float = 0.1
    word_ngrams: int = 3
    min_count: int = 3
    epochs: int = 3
    # recall loop (§1.3-1.5)
    max_iterations: int = 4
    stop_overlap: float = 0.98
    domain_threshold: float = 0.10
    benchmarks: list[str] = field(default_factory=lambda: ["gsm8k", "math500", "cmath", "gaokao_mathcloze", "gaokao_mathqa"])
