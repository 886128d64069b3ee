"""Rollout tensors: pack sampled (prompt, completion) pairs into one padded batch and score tokens.

Layout of a packed batch (what the policy, the sampler and the reference all see):

    [pad pad <bos> prompt ... | completion ... <eos> pad pad]
     <- prompt block, left-padded -> <- completion block, right-padded ->

The completion block starts at the same column for every row, so the logits that predict the
completion are one contiguous slice, and `logits_to_keep` lets the LM head run only over the
completion block (+1) instead of the (long, chat-templated) prompt. Position ids are
cumsum(attention_mask) - 1, exactly what the generation engine used, so the trainer's log-probs of
a sampled token equal the sampler's.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from seekmath.rl.losses import sequence_logprobs_entropy


@dataclass
class PackedBatch:
    input_ids: torch.Tensor  # [N, P + T]
    attention_mask: torch.Tensor  # [N, P + T]
    position_ids: torch.Tensor  # [N, P + T]
    completion_ids: torch.Tensor  # [N, T]
    completion_mask: torch.Tensor  # [N, T] bool
    prompt_width: int  # P

    @property
    def num_rows(self) -> int:
        return self.input_ids.shape[0]

    @property
    def completion_width(self) -> int:
        return self.completion_ids.shape[1]

    def rows(self, sl: slice) -> "PackedBatch":
        """A micro-batch of rows, trimmed to its own widest prompt/completion (less padding to run)."""
        mask = self.completion_mask[sl]
        attn = self.attention_mask[sl]
        prompt_attn = attn[:, : self.prompt_width]
        first = int((prompt_attn.sum(0) > 0).nonzero()[0]) if prompt_attn.any() else 0
        t = int(mask.sum(1).max()) if mask.numel() else 0
        t = max(t, 1)
        end = self.prompt_width + t
        return PackedBatch(
            self.input_ids[sl, first:end],
            attn[:, first:end],
            self.position_ids[sl, first:end],
            self.completion_ids[sl, :t],
            mask[:, :t],
            self.prompt_width - first,
        )


def pack(prompt_ids: list[list[int]], completion_ids: list[list[int]], pad_id: int, device=None) -> PackedBatch:
    if len(prompt_ids) != len(completion_ids):
        raise ValueError(f"pack: {len(prompt_ids)} prompts but {len(completion_ids)} completions")
    n = len(prompt_ids)
    P = max(len(p) for p in prompt_ids)
    T = max([len(c) for c in completion_ids] + [1])
    ids = torch.full((n, P + T), pad_id, dtype=torch.long)
    attn = torch.zeros((n, P + T), dtype=torch.long)
    comp = torch.full((n, T), pad_id, dtype=torch.long)
    cmask = torch.zeros((n, T), dtype=torch.bool)
    for i, (p, c) in enumerate(zip(prompt_ids, completion_ids)):
        ids[i, P - len(p) : P] = torch.tensor(p, dtype=torch.long)
        attn[i, P - len(p) : P] = 1
        if c:
            ids[i, P : P + len(c)] = torch.tensor(c, dtype=torch.long)
            attn[i, P : P + len(c)] = 1
            comp[i, : len(c)] = torch.tensor(c, dtype=torch.long)
            cmask[i, : len(c)] = True
    pos = (attn.cumsum(-1) - 1).clamp_min(0)
    b = PackedBatch(ids, attn, pos, comp, cmask, P)
    if device is not None:
        b = PackedBatch(*(x.to(device) if isinstance(x, torch.Tensor) else x for x in (ids, attn, pos, comp, cmask)), P)
    return b


def completion_logprobs(model, batch: PackedBatch, temperature: float = 1.0, with_entropy: bool = False):
    """log pi(o_t | q, o_<t) for every completion position of `batch` (one forward, grads if enabled).

    Logits are divided by the sampling temperature, so these are the log-probs of the policy that
    actually sampled the tokens (the pi_old of eq. 3's ratio). Returns (logp [N, T], entropy or None).
    """
    T = batch.completion_width
    out = model(
        input_ids=batch.input_ids,
        attention_mask=batch.attention_mask,
        position_ids=batch.position_ids,
        use_cache=False,
        logits_to_keep=T + 1,
    )
    logits = out.logits[:, :-1, :]  # position P-1+t predicts completion token t
    if temperature not in (0.0, 1.0):
        logits = logits / temperature
    return sequence_logprobs_entropy(logits, batch.completion_ids, with_entropy=with_entropy)


@torch.no_grad()
def batched_logprobs(model, batch: PackedBatch, micro_batch_size: int, temperature: float = 1.0) -> torch.Tensor:
    """No-grad log-probs of the whole batch in micro-batches of rows (reference / old policy)."""
    out = torch.zeros(batch.completion_ids.shape, dtype=torch.float32, device=batch.input_ids.device)
    was_training = model.training
    model.eval()
    try:
        for s in range(0, batch.num_rows, micro_batch_size):
            sl = slice(s, s + micro_batch_size)
            mb = batch.rows(sl)
            lp, _ = completion_logprobs(model, mb, temperature)
            out[sl, : lp.shape[1]] = lp
    finally:
        model.train(was_training)
    return out
