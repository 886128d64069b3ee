"""The generation-engine interface shared by evaluation and RL: prompts in, `Completion`s out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class Completion:
    """One sampled continuation of one prompt.

    text: the decoded completion, cut at (and without) the first stop string; special tokens removed.
    token_ids: the kept generated tokens — including the final EOS when finish_reason == "eos", and up
        to and including the token that completed the stop string when finish_reason == "stop".
    prompt_ids: the prompt's token ids (with BOS) exactly as the model saw them (no padding).
    finish_reason: "eos" | "stop" | "length".
    logprobs: log-probability of each kept token under the sampling distribution softmax(logits / T)
        (before top-p truncation), as the sampler computed it; None for greedy decoding or an engine
        that does not report them. RL compares them with the trainer's log-probs of the same tokens
        (`logprob_gap`): a gap means the sampler ran other weights or other numerics than the trainer.
    """

    text: str
    token_ids: list[int] = field(default_factory=list)
    prompt_ids: list[int] = field(default_factory=list)
    finish_reason: str = "length"
    logprobs: list[float] | None = None


class Engine(Protocol):
    def generate(
        self,
        prompts: list[str],
        *,
        n: int = 1,
        temperature: float = 0.0,
        top_p: float = 1.0,
        max_new_tokens: int = 256,
        stop: list[str] | None = None,
        seed: int = 0,
    ) -> list[list[Completion]]: ...

    def update_weights(self, model) -> None: ...


def check_sampling_args(n: int, temperature: float, top_p: float, max_new_tokens: int) -> None:
    """Bad sampling arguments fail early with a message naming the argument."""
    if n < 1:
        raise ValueError(f"generate: n must be >= 1, got {n}")
    if temperature < 0:
        raise ValueError(f"generate: temperature must be >= 0, got {temperature}")
    if not 0.0 < top_p <= 1.0:
        raise ValueError(f"generate: top_p must be in (0, 1], got {top_p}")
    if max_new_tokens < 1:
        raise ValueError(f"generate: max_new_tokens must be >= 1, got {max_new_tokens}")


def cut_at_stop(text: str, stop: list[str] | None) -> tuple[str, bool]:
    """Cut `text` at the earliest occurrence of any stop string; (cut text, whether one was found)."""
    if not stop:
        return text, False
    first = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    if first < 0:
        return text, False
    return text[:first], True
