"""Greedy accuracy of a model on held-out synthetic problems (CoT prompt in the model's prompt format, `\\boxed{}` answer).

A quick check for the trainer's runs and tests; the full harness is `seekmath eval`.
"""

from __future__ import annotations

from pathlib import Path


def greedy_accuracy(model_path: str | Path, cfg, n: int = 100, max_new_tokens: int = 160, batch_size: int = 50,
                    model=None, tokenizer=None) -> dict:
    """{"n", "correct", "accuracy"} on the first `n` synthetic test problems, greedy decoding."""
    from seekmath.evaluate.boxed import last_boxed
    from seekmath.generate import make_engine
    from seekmath.models import COT_SUFFIX, load_model, load_tokenizer, render_prompt
    from seekmath.tasks.synthetic import generate_problems

    tokenizer = tokenizer or load_tokenizer(model_path)
    model = model or load_model(model_path, device="cpu")
    model.eval()
    probs = generate_problems(cfg.tasks, "test", n)
    engine = make_engine("hf", model, tokenizer, batch_size=batch_size)
    fmt = getattr(getattr(cfg, "model", None), "prompt_format", "auto")
    outs = engine.generate([render_prompt(tokenizer, p.question + COT_SUFFIX, fmt) for p in probs], temperature=0.0,
                           max_new_tokens=max_new_tokens)
    correct = sum(1 for p, o in zip(probs, outs) if (last_boxed(o[0].text) or "").strip() == p.answer.strip())
    return {"n": len(probs), "correct": correct, "accuracy": correct / max(1, len(probs))}
