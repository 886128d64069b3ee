"""A batched sampler over any Hugging Face causal LM, with the model's own KV cache.

Why not `model.generate`: for the small models of the CPU recipe the per-step bookkeeping of
`generate` (logits processors, stopping criteria, cache-position plumbing) costs as much as the
forward pass itself, and a batch runs until its slowest row ends. This loop

- sorts the (prompt x sample) rows by prompt length so a batch carries little left padding;
- prefills once and keeps only the last position's logits (`logits_to_keep=1`);
- drops finished rows from the batch (and from the KV cache) once they are a quarter of it, and stops
  a batch as soon as every row is done (EOS, a stop string or the token budget);
- samples with temperature and nucleus (top-p) filtering from one seeded `torch.Generator` per batch,
  so the same prompts, settings and seed give the same completions (for the same batch_size);
- on CPU, decodes (one query token per row) with the eager attention kernel, which beats SDPA's CPU
  flash kernel there; the prefill keeps the model's own implementation, which is restored afterwards.

Greedy decoding (temperature 0) is argmax and matches `model.generate(do_sample=False)` token for
token on the same padded batch (tested).
"""

from __future__ import annotations

import torch

from seekmath.generate.base import Completion, check_sampling_args, cut_at_stop


def sample_next(logits: torch.Tensor, temperature: float, top_p: float, generator: torch.Generator | None) -> torch.Tensor:
    """Next token per row from last-position logits [B, V]: argmax at temperature 0, else
    softmax(logits / T) restricted to the smallest prefix of the sorted vocabulary whose mass reaches
    top_p (the token that crosses top_p is kept; at least one token always survives)."""
    if temperature == 0.0:
        return logits.argmax(dim=-1)
    logits = logits.float() / temperature
    if top_p < 1.0:
        sorted_logits, sorted_idx = logits.sort(dim=-1, descending=True)
        probs = sorted_logits.softmax(dim=-1)
        mass_before = probs.cumsum(dim=-1) - probs
        sorted_logits = sorted_logits.masked_fill(mass_before >= top_p, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, sorted_idx, sorted_logits)
    probs = logits.softmax(dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


class HFEngine:
    """`make_engine("hf", model, tokenizer, batch_size=64)`; see the package docstring for the contract."""

    def __init__(self, model, tokenizer, *, batch_size: int = 64, show_progress: bool = False,
                 decode_attention: str | None = "auto"):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.decode_attention = decode_attention  # "auto": eager on CPU; None: never switch
        eos = set()
        for source in (getattr(tokenizer, "eos_token_id", None), getattr(model.generation_config, "eos_token_id", None)):
            if isinstance(source, int):
                eos.add(source)
            elif isinstance(source, (list, tuple)):
                eos.update(int(t) for t in source)
        if not eos:
            raise ValueError("the tokenizer has no eos_token_id; generation needs one to stop")
        self.eos_ids = sorted(eos)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.eos_ids[0]

    def update_weights(self, model) -> None:
        """The hf engine holds the live module; swapping it in is all there is to do."""
        self.model = model

    def _decode_impl(self) -> str | None:
        if self.decode_attention == "auto":
            cpu = self.model.device.type == "cpu"
            return "eager" if cpu and self._prefill_impl == "sdpa" else self._prefill_impl
        return self.decode_attention or self._prefill_impl

    def _set_attention(self, impl: str | None) -> None:
        if impl is None or getattr(self.model.config, "_attn_implementation", None) == impl:
            return
        setter = getattr(self.model, "set_attn_implementation", None)
        if setter is not None:
            setter(impl)

    def _cache_kwarg(self) -> str:
        # transformers >= 5.2x names the KV cache argument `cache`; older models call it `past_key_values`.
        import inspect

        params = inspect.signature(self.model.forward).parameters
        return "cache" if "cache" in params else "past_key_values"

    # ------------------------------------------------------------------------------------------
    @torch.inference_mode()
    def generate(self, prompts, *, n=1, temperature=0.0, top_p=1.0, max_new_tokens=256, stop=None, seed=0):
        check_sampling_args(n, temperature, top_p, max_new_tokens)
        if isinstance(prompts, str):
            raise TypeError("generate: prompts must be a list of strings, not one string")
        stop = [s for s in (stop or []) if s]
        if not prompts:
            return []
        prompt_ids = self.tokenizer(list(prompts), add_special_tokens=True)["input_ids"]
        # Greedy samples of one prompt are identical: decode once, copy n times.
        reps = 1 if temperature == 0.0 else n
        rows = [(p, r) for p in range(len(prompts)) for r in range(reps)]
        # Longest first: similar lengths share a batch (little padding) and memory peaks early.
        rows.sort(key=lambda pr: (-len(prompt_ids[pr[0]]), pr[0], pr[1]))
        results: list[list[Completion | None]] = [[None] * n for _ in prompts]
        was_training = self.model.training
        self.model.eval()
        self._prefill_impl = getattr(self.model.config, "_attn_implementation", None)
        try:
            chunks = [rows[i : i + self.batch_size] for i in range(0, len(rows), self.batch_size)]
            it = chunks
            if self.show_progress:
                from tqdm.auto import tqdm

                it = tqdm(chunks, desc="generate", unit="batch", leave=False)
            for ci, chunk in enumerate(it):
                gen = torch.Generator(device=self.model.device if self.model.device.type == "cuda" else "cpu")
                gen.manual_seed(_mix(seed, ci))
                outs = self._generate_batch([prompt_ids[p] for p, _ in chunk], temperature, top_p, max_new_tokens, stop, gen)
                for (p, r), comp in zip(chunk, outs):
                    results[p][r] = comp
        finally:
            self._set_attention(self._prefill_impl)
            if was_training:
                self.model.train()
        if reps == 1 and n > 1:
            for res in results:
                res[1:] = [Completion(res[0].text, list(res[0].token_ids), list(res[0].prompt_ids), res[0].finish_reason) for _ in range(n - 1)]
        return results  # type: ignore[return-value]

    def _generate_batch(self, batch_ids, temperature, top_p, max_new_tokens, stop, gen) -> list[Completion]:
        """Decode one batch of rows; rows with the same prompt share one prefill (their KV cache is copied)."""
        model, device = self.model, self.model.device
        B = len(batch_ids)
        # Prefill each distinct prompt once: the n samples of a prompt start from the same cache rows.
        uniq: dict[tuple[int, ...], int] = {}
        row_map = [uniq.setdefault(tuple(ids), len(uniq)) for ids in batch_ids]
        prompts_u = list(uniq)
        width = max(len(x) for x in prompts_u)
        input_ids = torch.full((len(prompts_u), width), self.pad_id, dtype=torch.long)
        attn = torch.zeros((len(prompts_u), width), dtype=torch.long)
        for i, ids in enumerate(prompts_u):  # left padding
            input_ids[i, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            attn[i, width - len(ids) :] = 1
        input_ids, attn = input_ids.to(device), attn.to(device)
        position_ids = (attn.cumsum(-1) - 1).clamp_min(0)
        eos = torch.tensor(self.eos_ids, device=device)

        cache = _preallocated_cache(model, capacity=width + max_new_tokens)
        ckw = self._cache_kwarg()
        self._set_attention(self._prefill_impl)
        out = model(input_ids=input_ids, attention_mask=attn, position_ids=position_ids, **{ckw: cache},
                    use_cache=True, logits_to_keep=1)
        logits = out.logits[:, -1, :]
        next_pos = position_ids[:, -1:] + 1
        self._set_attention(self._decode_impl())
        # Decode steps get a ready 4D additive mask (0 = attend, dtype-min = left padding), sliced to the
        # current length: transformers then skips rebuilding a mask from the 2D one at every step.
        mask = torch.zeros((len(prompts_u), 1, 1, width + max_new_tokens), dtype=logits.dtype, device=device)
        mask[:, 0, 0, :width].masked_fill_(attn == 0, torch.finfo(logits.dtype).min)
        length = width
        if len(prompts_u) < B or row_map != list(range(B)):
            idx = torch.tensor(row_map, device=device)
            cache.batch_select_indices(idx)
            logits, mask, next_pos = logits[idx], mask[idx], next_pos[idx]

        generated: list[list[int]] = [[] for _ in range(B)]
        sampled_logprobs: list[list[float]] = [[] for _ in range(B)]  # sampling runs only (temperature > 0)
        finish = ["length"] * B
        alive = list(range(B))  # original row index of each row still in the batch
        active = [True] * B  # per batch position: still generating (finished rows linger until compaction)
        window = max((len(s.encode("utf-8")) for s in stop), default=0) + 1  # tokens enough to hold any stop string
        for step in range(max_new_tokens):
            tok = sample_next(logits, temperature, top_p, gen)
            eos_list = torch.isin(tok, eos).tolist()
            tok_list = tok.tolist()
            lp_list = None
            if temperature > 0:
                lp_list = torch.log_softmax(logits.float() / temperature, dim=-1).gather(-1, tok[:, None])[:, 0].tolist()
            live = []
            for j, b in enumerate(alive):
                if not active[j]:
                    continue
                generated[b].append(tok_list[j])
                if lp_list is not None:
                    sampled_logprobs[b].append(lp_list[j])
                if eos_list[j]:
                    finish[b] = "eos"
                    active[j] = False
                else:
                    live.append(j)
            if stop and live:
                tails = self.tokenizer.batch_decode([generated[alive[j]][-window:] for j in live], skip_special_tokens=True)
                for j, tail in zip(live, tails):
                    if any(s in tail for s in stop):
                        finish[alive[j]] = "stop"
                        active[j] = False
            n_active = sum(active)
            if step == max_new_tokens - 1 or n_active == 0:
                break
            # Finished rows leave the batch (and the KV cache) once they are a quarter of it: compacting
            # copies the whole cache, so doing it for every single finished row would cost more than it saves.
            if len(alive) - n_active >= max(1, len(alive) // 4):
                keep = [j for j in range(len(alive)) if active[j]]
                idx = torch.tensor(keep, device=device)
                alive = [alive[j] for j in keep]
                active = [True] * len(alive)
                tok, mask, next_pos = tok[idx], mask[idx], next_pos[idx]
                cache.batch_select_indices(idx)
            length += 1
            out = model(input_ids=tok[:, None], attention_mask=mask[..., :length], position_ids=next_pos,
                        **{ckw: cache}, use_cache=True, logits_to_keep=1)  # the cache object is updated in place
            logits = out.logits[:, -1, :]
            next_pos = next_pos + 1

        completions = []
        for b in range(B):
            ids = generated[b]
            text = self.tokenizer.decode(ids, skip_special_tokens=True)
            if finish[b] == "stop":
                text, _ = cut_at_stop(text, stop)
            elif stop:  # a stop string may only become visible in the final full decode
                cut, found = cut_at_stop(text, stop)
                if found and finish[b] == "length":
                    text, finish[b] = cut, "stop"
            completions.append(Completion(text=text, token_ids=ids, prompt_ids=list(batch_ids[b]), finish_reason=finish[b],
                                          logprobs=sampled_logprobs[b] if temperature > 0 else None))
        return completions


def _preallocated_cache(model, capacity: int):
    """The model's DynamicCache with its full-attention layers swapped for `_PreallocatedLayer`s.

    A DynamicLayer grows by `torch.cat` at every step (copying the whole cache: quadratic in length);
    a preallocated layer writes each new key/value in place and hands attention a view."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    cache = DynamicCache(config=model.config)
    cache.layers = [_PreallocatedLayer(capacity) if type(layer) is DynamicLayer else layer for layer in cache.layers]
    return cache


def _make_layer_class():
    from transformers.cache_utils import DynamicLayer

    class PreallocatedLayer(DynamicLayer):
        def __init__(self, capacity: int):
            super().__init__()
            self.capacity = capacity
            self.length = 0
            self.kbuf = self.vbuf = None

        def update(self, key_states, value_states, *args, **kwargs):
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            q = key_states.shape[-2]
            if self.kbuf is None:
                b, h, _, d = key_states.shape
                self.capacity = max(self.capacity, q)
                self.kbuf = key_states.new_empty((b, h, self.capacity, d))
                self.vbuf = value_states.new_empty((b, h, self.capacity, d))
            if self.length + q > self.capacity:  # grow (only if a caller exceeds the planned length)
                extra = max(self.capacity, q)
                self.kbuf = torch.cat([self.kbuf, self.kbuf.new_empty(self.kbuf.shape[:2] + (extra,) + self.kbuf.shape[3:])], dim=2)
                self.vbuf = torch.cat([self.vbuf, self.vbuf.new_empty(self.vbuf.shape[:2] + (extra,) + self.vbuf.shape[3:])], dim=2)
                self.capacity += extra
            self.kbuf[:, :, self.length : self.length + q] = key_states
            self.vbuf[:, :, self.length : self.length + q] = value_states
            self.length += q
            self.keys = self.kbuf[:, :, : self.length]
            self.values = self.vbuf[:, :, : self.length]
            return self.keys, self.values

        def batch_select_indices(self, indices):
            if self.kbuf is not None:
                self.kbuf = self.kbuf[indices]
                self.vbuf = self.vbuf[indices]
                self.keys = self.kbuf[:, :, : self.length]
                self.values = self.vbuf[:, :, : self.length]

        def reset(self):
            self.kbuf = self.vbuf = None
            self.length = 0
            super().reset()

    return PreallocatedLayer


class _LazyLayer:
    cls = None

    def __call__(self, capacity):
        if _LazyLayer.cls is None:
            _LazyLayer.cls = _make_layer_class()
        return _LazyLayer.cls(capacity)


_PreallocatedLayer = _LazyLayer()


def _mix(seed: int, chunk: int) -> int:
    """A per-batch seed derived from the user's seed (splitmix64-style), so batches draw independent noise."""
    z = (seed * 0x9E3779B97F4A7C15 + chunk + 1) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return (z ^ (z >> 31)) & 0x7FFFFFFFFFFFFFFF

