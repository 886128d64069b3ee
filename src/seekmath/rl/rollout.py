"""Rollout tensors: pack sampled (prompt, completion) pairs into one padded batch and score tokens.

Layout of a packed batch (what the policy, the sampler and the reference all see):

    [pad pad <bos> prompt ... | completion ... <eos> pad pad]
     <- prompt block, left-padded -> <- completion block, right-padded ->

The completion block starts at the same column for every row, so the logits that predict the
completion are one contiguous slice, and `logits_to_keep` lets the LM head run only over the
completion block (+1) instead of the (long, chat-templated) prompt. Position ids are
cumsum(attention_mask) - 1, exactly what the generation engine used, so the trainer's log-probs of
a sampled token equal the sampler's.

Training scores through `TokenScorer` (below): the decoder's hidden states, then the LM head and the
log-softmax over the real completion tokens only, a chunk of tokens at a time, so the fp32
full-vocabulary logits of a whole micro-batch never exist (a 7B model's vocabulary of 102,400 makes
them 0.4 MB per token).
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
# removes close to half of the forward/backward work of both the policy and the reference. A
# micro-batch may hold any number of outputs: a group split over k micro-batches runs its prompt k times.


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

    def output_slices(self, outputs_per_slice: int) -> list[slice]:
        """Consecutive slices of at most `outputs_per_slice` outputs (any size: a group may be split).

        The loss weights come from the whole batch, so any cut gives the same update; a slice that
        spans whole groups runs each prompt once, a group split over k slices runs its prompt k times.
        """
        n, k = len(self.owner), max(1, outputs_per_slice)
        return [slice(s, min(s + k, n)) for s in range(0, n, k)]


def _cache_kwarg(model) -> str:
    import inspect

    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def chunked_token_logprobs(hidden: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor, head, temperature: float = 1.0,
                           chunk_tokens: int = 0, with_entropy: bool = False):
    """log softmax(head(h_t) / temperature)[o_t] for the real tokens, `chunk_tokens` at a time.

    hidden [n, T, H] (the decoder's last hidden states that predict tokens [n, T]); only positions
    with mask = True are scored. With chunk_tokens > 0 the full-vocabulary fp32 logits exist for one
    chunk at a time: under autograd each chunk is checkpointed (its logits are recomputed in the
    backward pass instead of being kept), so what stays alive is the hidden states, not n x T x V
    floats. Returns (logp [n, T] fp32, 0 on padding; entropy [n, T] or None).
    """
    from torch.utils.checkpoint import checkpoint

    n, T = tokens.shape
    sel = mask.nonzero(as_tuple=True)
    h, tok = hidden[sel], tokens[sel]  # [K, H], [K]

    def score(hc, tc):
        logits = head(hc).float()
        if temperature not in (0.0, 1.0):
            logits = logits / temperature
        lp, ent = sequence_logprobs_entropy(logits[None], tc[None], with_entropy=with_entropy)
        return lp[0], (ent[0] if ent is not None else None)

    K = h.shape[0]
    if chunk_tokens <= 0 or K <= chunk_tokens:
        parts = [score(h, tok)]
    else:
        grad = torch.is_grad_enabled()
        parts = [checkpoint(score, h[i : i + chunk_tokens], tok[i : i + chunk_tokens], use_reentrant=False) if grad
                 else score(h[i : i + chunk_tokens], tok[i : i + chunk_tokens]) for i in range(0, K, chunk_tokens)]
    lp = torch.cat([p[0] for p in parts]) if parts else h.new_zeros(0, dtype=torch.float32)
    logp = torch.zeros((n, T), dtype=torch.float32, device=hidden.device).index_put(sel, lp)
    entropy = None
    if with_entropy:
        entropy = torch.zeros((n, T), dtype=torch.float32, device=hidden.device)
        entropy[sel] = torch.cat([p[1] for p in parts]).detach() if parts else 0.0
    return logp, entropy


def scoring_inputs(rollout: GroupedRollout, sl: slice | None, device, shared_prompt: bool = True) -> dict:
    """Tensors of outputs `sl` for `TokenScorer.forward`.

    shared_prompt: each prompt of the slice once (p_*), its outputs attend to its KV cache (`rows`
    maps output -> prompt); else packed rows [prompt | completion] (needed under gradient
    checkpointing, which drops the KV cache inside the checkpointed layers).
    """
    sl = sl or slice(0, rollout.num_outputs)
    owners = rollout.owner[sl]
    comps = rollout.completions[sl]
    pad = rollout.pad_id
    n = len(comps)
    T = max([len(c) for c in comps] + [1])
    c_ids = torch.full((n, T), pad, dtype=torch.long)
    c_mask = torch.zeros((n, T), dtype=torch.bool)
    for i, c in enumerate(comps):
        if c:
            c_ids[i, : len(c)] = torch.tensor(c, dtype=torch.long)
            c_mask[i, : len(c)] = True
    if not shared_prompt:
        b = pack([rollout.prompts[o] for o in owners], comps, pad)
        out = {"input_ids": b.input_ids, "attention_mask": b.attention_mask, "position_ids": b.position_ids,
               "c_ids": b.completion_ids, "c_mask": b.completion_mask}
        return {k: v.to(device) for k, v in out.items()} | {"prompt_width": b.prompt_width}
    uniq = sorted(set(owners))
    local = {u: k for k, u in enumerate(uniq)}
    prompts = [rollout.prompts[u] for u in uniq]
    P = max(len(p) for p in prompts)
    p_ids = torch.full((len(prompts), P), pad, dtype=torch.long)
    p_attn = torch.zeros((len(prompts), P), dtype=torch.long)
    for k, p in enumerate(prompts):
        p_ids[k, P - len(p) :] = torch.tensor(p, dtype=torch.long)
        p_attn[k, P - len(p) :] = 1
    p_pos = (p_attn.cumsum(-1) - 1).clamp_min(0)
    rows = torch.tensor([local[o] for o in owners], dtype=torch.long)
    out = {"p_ids": p_ids, "p_attn": p_attn, "p_pos": p_pos, "rows": rows, "c_ids": c_ids, "c_mask": c_mask}
    return {k: v.to(device) for k, v in out.items()}


class TokenScorer(torch.nn.Module):
    """The module RL trains: policy -> log pi(o_t | q, o_<t) of sampled tokens (what DDP/FSDP wrap).

    `precision` is the compute precision ("fp32" | "bf16"): the policy's parameters are the fp32
    master weights and the forward runs under the trainer's autocast (`train.trainer.autocast_context`),
    so AdamW updates fp32 weights whatever the compute dtype. The LM head runs only over real
    completion tokens, `chunk_tokens` at a time (`chunked_token_logprobs`).
    """

    def __init__(self, policy, precision: str = "fp32", chunk_tokens: int = 0):
        super().__init__()
        self.policy = policy
        self.precision = precision
        self.chunk_tokens = chunk_tokens

    @property
    def device(self) -> torch.device:
        return next(self.policy.parameters()).device

    def shares_prompts(self) -> bool:
        """Prompt-once-per-group needs the KV cache, which HF's gradient checkpointing drops in training.
        Under FSDP2 a forward must call each layer once (two calls desynchronise its all-gathers across ranks)."""
        from seekmath.distributed import is_fsdp

        if is_fsdp(self):
            return False
        if not (self.training and torch.is_grad_enabled()):
            return True
        return not any(getattr(m, "gradient_checkpointing", False) for m in self.policy.modules())

    def forward(self, c_ids, c_mask, temperature: float = 1.0, with_entropy: bool = False, **inputs):
        from seekmath.train.trainer import autocast_context

        with autocast_context(self.precision, c_ids.device):
            hidden = self._hidden(c_ids, c_mask, **inputs)
            return chunked_token_logprobs(hidden, c_ids, c_mask, self.policy.get_output_embeddings(), temperature,
                                          self.chunk_tokens, with_entropy)

    def _hidden(self, c_ids, c_mask, p_ids=None, p_attn=None, p_pos=None, rows=None, input_ids=None, attention_mask=None,
                position_ids=None, prompt_width: int = 0) -> torch.Tensor:
        """Last hidden states [n, T, H]; position t predicts completion token t."""
        dec = self.policy.get_decoder()
        T = c_ids.shape[1]
        if p_ids is None:  # packed rows: position P-1+t predicts completion token t
            h = dec(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, use_cache=False).last_hidden_state
            return h[:, prompt_width - 1 : prompt_width - 1 + T]
        from transformers import DynamicCache

        cache = DynamicCache(config=self.policy.config)
        ckw = _cache_kwarg(dec)
        hp = dec(input_ids=p_ids, attention_mask=p_attn, position_ids=p_pos, **{ckw: cache}, use_cache=True).last_hidden_state
        first = hp[:, -1, :].index_select(0, rows)  # predicts completion token 0
        if T == 1:
            return first[:, None, :]
        cache.batch_select_indices(rows)  # each output gets its prompt's KV (differentiable indexing)
        attn = torch.cat([p_attn.index_select(0, rows), c_mask.long()], dim=1)
        pos = p_attn.sum(1).index_select(0, rows)[:, None] + torch.arange(T, device=c_ids.device)[None, :]
        hc = dec(input_ids=c_ids[:, :-1], attention_mask=attn[:, :-1], position_ids=pos[:, :-1], **{ckw: cache}, use_cache=True).last_hidden_state
        return torch.cat([first[:, None, :], hc], dim=1)


def _inner(scorer) -> TokenScorer:
    """The TokenScorer behind a DDP/FSDP wrapper (or the scorer itself)."""
    return scorer.module if hasattr(scorer, "module") else scorer


def score_outputs(scorer, rollout: GroupedRollout, sl: slice | None = None, temperature: float = 1.0, with_entropy: bool = False):
    """(logp [n, T], entropy or None, mask [n, T]) of outputs `sl` through `scorer` (a TokenScorer, maybe wrapped)."""
    inner = _inner(scorer)
    inputs = scoring_inputs(rollout, sl, inner.device, shared_prompt=inner.shares_prompts())
    logp, ent = scorer(temperature=temperature, with_entropy=with_entropy, **inputs)
    return logp, ent, inputs["c_mask"]


@torch.no_grad()
def scorer_logprobs_nograd(scorer, rollout: GroupedRollout, outputs_per_pass: int, temperature: float = 1.0) -> torch.Tensor:
    """No-grad log-probs of all outputs (the reference / the old policy), on the CPU."""
    mask = rollout.completion_mask()
    out = torch.zeros(mask.shape, dtype=torch.float32)
    was_training = scorer.training
    scorer.eval()
    try:
        for sl in rollout.output_slices(outputs_per_pass):
            lp, _, _ = score_outputs(scorer, rollout, sl, temperature)
            out[sl, : lp.shape[1]] = lp.float().cpu()
    finally:
        scorer.train(was_training)
    return out

