"""The `vllm` engine: the same interface as `hf`, backed by vLLM's offline `LLM` (GPU; optional extra).

UNVERIFIED: written against vLLM's documented offline API (`LLM`, `SamplingParams`, `LLM.generate`,
`RequestOutput.outputs[i].{text, token_ids, finish_reason, stop_reason}`) but never run here (this
project's machine has no GPU). Install with `pip install seekmath[vllm]` / `pip install vllm`.

Weight updates for RL follow the colocated pattern TRL uses: the trainer's state dict is handed to the
vLLM model's `load_weights` in the engine process (`VLLM_ENABLE_V1_MULTIPROCESSING=0` keeps the model
in-process so it can be reached); on vLLM builds where the model lives in worker processes,
`LLM.collective_rpc` calls the same `load_weights` in each worker.
"""

from __future__ import annotations

import os

from seekmath.generate.base import Completion, check_sampling_args


def _require_vllm():
    try:
        import vllm  # noqa: F401
    except ImportError as e:  # the optional extra is missing
        raise ImportError(
            "engine 'vllm' needs the vllm package (GPU only): pip install vllm — or use engine 'hf' "
            "(eval.engine=hf / rl.engine=hf)"
        ) from e
    return vllm


class VLLMEngine:
    def __init__(self, model, tokenizer=None, *, batch_size: int = 256, dtype: str = "auto",
                 gpu_memory_utilization: float = 0.85, max_model_len: int | None = None, seed: int = 0, **llm_kwargs):
        vllm = _require_vllm()
        live = None
        if not isinstance(model, (str, os.PathLike)):
            # A loaded HF module (RL's policy): vLLM loads the checkpoint it came from, then takes its live weights.
            live = model
            model = getattr(getattr(model, "config", None), "_name_or_path", "") or getattr(model, "name_or_path", "")
            if not model or not os.path.exists(str(model)):
                raise TypeError("make_engine('vllm', model): pass the model's path or hub id, or a module loaded from "
                                "a local checkpoint folder (save it first)")
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # keep the model reachable for update_weights
        self.path = str(model)
        self.llm = vllm.LLM(model=self.path, tokenizer=self.path, dtype=dtype, seed=seed,
                            gpu_memory_utilization=gpu_memory_utilization, max_model_len=max_model_len,
                            max_num_seqs=batch_size, enable_prefix_caching=True, **llm_kwargs)
        self.tokenizer = tokenizer or self.llm.get_tokenizer()
        if live is not None:
            self.update_weights(live)

    def generate(self, prompts, *, n=1, temperature=0.0, top_p=1.0, max_new_tokens=256, stop=None, seed=0):
        from vllm import SamplingParams

        check_sampling_args(n, temperature, top_p, max_new_tokens)
        params = SamplingParams(n=n, temperature=temperature, top_p=top_p, max_tokens=max_new_tokens,
                                stop=list(stop or []) or None, seed=seed, skip_special_tokens=True)
        outs = self.llm.generate(list(prompts), params, use_tqdm=False)
        result = []
        for req in outs:
            row = []
            for o in req.outputs:
                # vLLM: finish_reason "stop" covers EOS and stop strings; stop_reason is the matched string (or None for EOS).
                if o.finish_reason == "length":
                    reason = "length"
                else:
                    reason = "stop" if isinstance(o.stop_reason, str) else "eos"
                row.append(Completion(text=o.text, token_ids=list(o.token_ids), prompt_ids=list(req.prompt_token_ids or []),
                                      finish_reason=reason))
            result.append(row)
        return result

    def update_weights(self, model) -> None:
        """Load the policy's current weights into vLLM (colocated: same process / GPU)."""
        state = model.state_dict() if hasattr(model, "state_dict") else dict(model)
        weights = list(state.items())
        try:
            runner_model = self.llm.llm_engine.model_executor.driver_worker.worker.model_runner.model
        except AttributeError:
            runner_model = None
        if runner_model is not None:
            runner_model.load_weights(weights)
        else:
            self.llm.collective_rpc(_load_weights_in_worker, args=(weights,))
        reset = getattr(self.llm, "reset_prefix_cache", None)
        if reset is not None:  # cached prefixes were computed with the old weights
            reset()


def _load_weights_in_worker(worker, weights):
    worker.model_runner.model.load_weights(weights)
