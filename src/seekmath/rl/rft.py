"""Offline rejection-sampling fine-tuning data (RFT, Table 10 row 2; App. A.1.2, eq. 8-10).

RFT's data source is q ~ P_sft(Q), o ~ pi_sft(O|q): sample several outputs per SFT question from the
SFT model, keep those whose answer is correct (the rule reward), and fine-tune on them with the SFT
loss (gradient coefficient I(o)). `rft_dataset` builds that dataset once, up front — the "findings"
study trains on it with the ordinary SFT trainer (`seekmath sft --data rft.jsonl`), in contrast to
online RFT, which samples from the current policy at every step (`seekmath rl rl.algorithm=online_rft`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

log = logging.getLogger("seekmath.rl.rft")


def sample_labelled(engine, problems: Sequence, samples_per_question: int, reward=None, *,
                    prompts: Sequence[str] | None = None, temperature: float = 1.0, top_p: float = 1.0,
                    max_new_tokens: int = 256, stop: list[str] | None = None, seed: int = 0) -> list[dict]:
    """`samples_per_question` sampled responses per problem, each graded by `reward` (default RuleReward).

    Rows: {"id", "prompt", "response", "gold", "label" (1.0 correct / 0.0), "finish_reason"}. Default
    prompt: the CoT prompt in the engine tokenizer's prompt format (auto; what the SFT stage trains on).
    """
    from seekmath.rl.rewards import RuleReward

    if samples_per_question < 1:
        raise ValueError(f"samples_per_question must be >= 1, got {samples_per_question}")
    if prompts is None:
        from seekmath.rl.grpo import policy_prompt  # the model's prompt format (auto), as RL prompts it

        prompts = [policy_prompt(p.question, getattr(engine, "tokenizer", None)) for p in problems]
    if len(prompts) != len(problems):
        raise ValueError(f"{len(prompts)} prompts but {len(problems)} problems")
    reward = reward or RuleReward()
    outs = engine.generate(list(prompts), n=samples_per_question, temperature=temperature, top_p=top_p,
                           max_new_tokens=max_new_tokens, stop=stop, seed=seed) if prompts else []
    rows = []
    for p, q, group in zip(problems, prompts, outs):
        for c in group:
            rows.append({"id": str(p.id), "prompt": q, "response": c.text, "gold": str(p.answer),
                         "finish_reason": c.finish_reason})
    labels = reward([r["response"] for r in rows], [r["gold"] for r in rows]).tolist() if rows else []
    for r, y in zip(rows, labels):
        r["label"] = float(y)
    return rows


def rft_dataset(engine, problems: Sequence, samples_per_question: int, reward=None, *, dedupe: bool = True,
                out_path: str | Path | None = None, **sampling) -> list[dict]:
    """Offline RFT: sample from the (SFT) policy behind `engine`, keep correct outputs, dedupe.

    Returns SFT examples {"prompt", "completion", "id"} (the jsonl rows `seekmath sft --data` reads);
    duplicates are identical completions (after trimming whitespace) of the same question — RFT's
    "distinct reasoning paths" (Yuan et al. 2023). With `out_path` the rows are also written (atomic
    jsonl). `sampling`: prompts, temperature, top_p, max_new_tokens, stop, seed (see sample_labelled).
    """
    from seekmath.runs import atomic_write_jsonl

    rows = sample_labelled(engine, problems, samples_per_question, reward, **sampling)
    seen: set[tuple[str, str]] = set()
    out = []
    for r in rows:
        if r["label"] < 0.5:
            continue
        key = (r["prompt"], " ".join(r["response"].split()))
        if dedupe and key in seen:
            continue
        seen.add(key)
        out.append({"prompt": r["prompt"], "completion": r["response"], "id": r["id"]})
    n_correct = sum(r["label"] >= 0.5 for r in rows)
    log.info("rft: %d samples, %d correct, %d kept after dedupe, %d of %d questions covered",
             len(rows), n_correct, len(out), len({r["id"] for r in out}), len(problems))
    if out_path is not None:
        atomic_write_jsonl(out_path, out)
    return out
