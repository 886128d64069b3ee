"""Generation engines behind one interface, shared by evaluation and RL.

    from seekmath.generate import make_engine, Completion
    engine = make_engine("hf", model, tokenizer, batch_size=64)        # or make_engine("vllm", "path/to/model", ...)
    outs = engine.generate(["User: 1+1?\\n\\nAssistant:"], n=4, temperature=0.7, top_p=0.95,
                           max_new_tokens=256, stop=["\\nQ:"], seed=0)  # outs[prompt][sample] -> Completion
    engine.update_weights(model)                                        # after an optimiser step (RL)

Prompts are plain strings; the tokenizer adds BOS. temperature 0 = greedy. Deterministic for a seed.
"""

from __future__ import annotations

from seekmath.generate.base import Completion, Engine, cut_at_stop

__all__ = ["Completion", "Engine", "make_engine", "cut_at_stop"]


def make_engine(kind: str, model, tokenizer=None, *, batch_size: int = 64, **kwargs) -> Engine:
    """An engine by name: "hf" (a loaded HF model + tokenizer) or "vllm" (a model path; optional extra)."""
    if kind == "hf":
        from seekmath.generate.hf import HFEngine

        if tokenizer is None:
            raise ValueError("make_engine('hf', ...): a tokenizer is required")
        return HFEngine(model, tokenizer, batch_size=batch_size, **kwargs)
    if kind == "vllm":
        from seekmath.generate.vllm_engine import VLLMEngine

        return VLLMEngine(model, tokenizer, batch_size=batch_size, **kwargs)
    raise ValueError(f"unknown generation engine {kind!r}; expected 'hf' or 'vllm'")
