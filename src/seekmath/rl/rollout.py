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


# ----------------------------------------------------------------------------------------------
# Shared-prompt scoring: a group's G outputs share one prompt, so run the prompt ONCE per group and
# let the G completions attend to its KV cache (expanded with an index_select, which autograd follows:
# the prompt's activations receive the gradient of all G completions). With DeepSeekMath's chat
# prompt plus the CoT instruction the prompt is about half of every row on the tiny task, so this
# removes close to half of the forward/backward work of both the policy and the reference.


@dataclass
class GroupedRollout:
    """Sampled outputs of one step: `prompts[u]` (unique prompt ids), completion ids per output, and
    `owner[i]` = the prompt of output i (outputs of one prompt are contiguous, G of them)."""

    prompts: list[list[int]]
    completions: list[list[int]]
    owner: list[int]
    pad_id: int
    sampler_logprobs: list[list[float]] | None = None  # per completion token, as the sampler computed them (if it did)

    def sampler_logprob_tensor(self, sl: slice, width: int) -> torch.Tensor | None:
        """The sampler's log-probs of outputs `sl` as [n, width] (0 on padding), or None if unknown."""
        if self.sampler_logprobs is None:
            return None
        rows = self.sampler_logprobs[sl]
        out = torch.zeros((len(rows), width), dtype=torch.float32)
        for i, lp in enumerate(rows):
            out[i, : len(lp)] = torch.tensor(lp[:width], dtype=torch.float32)
        return out

    @property
    def num_outputs(self) -> int:
        return len(self.completions)

    def completion_mask(self) -> torch.Tensor:
        T = max([len(c) for c in self.completions] + [1])
        m = torch.zeros((len(self.completions), T), dtype=torch.bool)
        for i, c in enumerate(self.completions):
            m[i, : len(c)] = True
        return m

    def group_slices(self, outputs_per_slice: int) -> list[slice]:
        """Consecutive output slices of whole groups, each at most `outputs_per_slice` outputs (or one group)."""
        starts = [i for i in range(len(self.owner)) if i == 0 or self.owner[i] != self.owner[i - 1]]
        ends = starts[1:] + [len(self.owner)]
        bounds, cur = [], 0
        for s, e in zip(starts, ends):
            if e - cur > outputs_per_slice and s > cur:  # this group would overflow: close the slice before it
                bounds.append(slice(cur, s))
                cur = s
        if cur < len(self.owner):
            bounds.append(slice(cur, len(self.owner)))
        return bounds


def _cache_kwarg(model) -> str:
    import inspect

    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def grouped_logprobs(model, rollout: GroupedRollout, sl: slice | None = None, temperature: float = 1.0, with_entropy: bool = False):
    """log pi(o_t | q, o_<t) of outputs `sl` (whole groups), the prompt run once per group.

    Returns (logp [n, T], entropy [n, T] or None, mask [n, T]) with T = the longest completion in `sl`.
    Numerically the same as `completion_logprobs` on the packed rows (tested), gradients included.
    """
    from transformers import DynamicCache

    sl = sl or slice(0, rollout.num_outputs)
    owners = rollout.owner[sl]
    uniq = sorted(set(owners))
    local = {u: k for k, u in enumerate(uniq)}
    device = next(model.parameters()).device
    pad = rollout.pad_id

    prompts = [rollout.prompts[u] for u in uniq]
    P = max(len(p) for p in prompts)
    p_ids = torch.full((len(prompts), P), pad, dtype=torch.long)
    p_attn = torch.zeros((len(prompts), P), dtype=torch.long)
    for k, p in enumerate(prompts):
        p_ids[k, P - len(p) :] = torch.tensor(p, dtype=torch.long)
        p_attn[k, P - len(p) :] = 1
    p_pos = (p_attn.cumsum(-1) - 1).clamp_min(0)

    comps = rollout.completions[sl]
    n = len(comps)
    T = max([len(c) for c in comps] + [1])
    c_ids = torch.full((n, T), pad, dtype=torch.long)
    c_mask = torch.zeros((n, T), dtype=torch.bool)
    for i, c in enumerate(comps):
        if c:
            c_ids[i, : len(c)] = torch.tensor(c, dtype=torch.long)
            c_mask[i, : len(c)] = True
    rows = torch.tensor([local[o] for o in owners], dtype=torch.long)

    p_ids, p_attn, p_pos, c_ids, c_mask, rows = (x.to(device) for x in (p_ids, p_attn, p_pos, c_ids, c_mask, rows))
    cache = DynamicCache(config=model.config)
    ckw = _cache_kwarg(model)
    out = model(input_ids=p_ids, attention_mask=p_attn, position_ids=p_pos, **{ckw: cache}, use_cache=True, logits_to_keep=1)
    first = out.logits[:, -1, :].index_select(0, rows)  # predicts completion token 0
    cache.batch_select_indices(rows)  # each output gets its prompt's KV (differentiable indexing)
    attn = torch.cat([p_attn.index_select(0, rows), c_mask.long()], dim=1)
    pos = p_attn.sum(1).index_select(0, rows)[:, None] + torch.arange(T, device=device)[None, :]
    if T > 1:
        out2 = model(input_ids=c_ids[:, :-1], attention_mask=attn[:, :-1], position_ids=pos[:, :-1], **{ckw: cache}, use_cache=True)
        logits = torch.cat([first[:, None, :], out2.logits], dim=1)
    else:
        logits = first[:, None, :]
    if temperature not in (0.0, 1.0):
        logits = logits / temperature
    logp, ent = sequence_logprobs_entropy(logits, c_ids, with_entropy=with_entropy)
    return logp, ent, c_mask


@torch.no_grad()
def grouped_logprobs_nograd(model, rollout: GroupedRollout, outputs_per_pass: int, temperature: float = 1.0) -> torch.Tensor:
    """No-grad log-probs of all outputs (the reference / the old policy), whole groups per pass."""
    mask = rollout.completion_mask()
    out = torch.zeros(mask.shape, dtype=torch.float32)
    was_training = model.training
    model.eval()
    try:
        for sl in rollout.group_slices(outputs_per_pass):
            lp, _, _ = grouped_logprobs(model, rollout, sl, temperature)
            out[sl, : lp.shape[1]] = lp.float().cpu()
    finally:
        model.train(was_training)
    return out
