"""LoRA (PEFT) for the policy of SFT and RL: `sft.lora.*` and `rl.lora.*` (the same `LoRAConfig`).

What LoRA changes and what it does not:
- The trainable parameters are the adapters' A and B only (peft freezes the base weights), so the
  optimizer state is that of the adapters: AdamW's 2 fp32 moments of a few % of the weights (3.6% for
  SmolLM2-135M at r 16).
- RL's reference pi_ref is the policy with its adapter switched off (peft's `disable_adapter()`):
  the base weights, never a second copy of them (`ReferenceScorer`).
- Rollouts: the hf engine runs the live module (adapters included); vLLM receives merged weights
  under the base model's parameter names, W + (alpha / r) * B @ A, built from a copy
  (`merged_state_dict`) so the training model is never merged/unmerged (unmerging is not exact in
  floating point: the base weights would drift).
- Checkpoints hold the adapter (PEFT format) and the optimizer; the final model is merged into a
  normal HF folder (`save: merged`, what eval and rl load) or left as the adapter (`save: adapter`).

peft (and torch) are imported lazily: the config loads this module's dataclass without them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# attention + MLP projections of Llama-like decoders (Llama, Qwen2, Mistral, DeepSeek's dense models, SmolLM2)
LLAMA_PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
SAVE = ("merged", "adapter")
ADAPTER_DIR = "adapter"  # the adapter's folder inside a checkpoint


@dataclass
class LoRAConfig:
    """`rl.lora.*` / `sft.lora.*`: low-rank adapters on the policy (Hu et al. 2021, W' = W + (alpha/r) B A)."""

    enabled: bool = False
    r: int = 16  # rank of B A
    alpha: float = 32.0  # scale alpha / r
    # dropout on the adapter's input; 0 keeps RL's sampler and trainer forwards identical (pi_old = pi_theta at mu = 1)
    dropout: float = 0.0
    target_modules: list[str] = field(default_factory=lambda: list(LLAMA_PROJECTIONS))  # module names (suffixes)
    save: str = "merged"  # final/: merged (a normal HF model folder) | adapter (PEFT adapter + tokenizer only)


def validate_lora(lcfg: LoRAConfig, section: str) -> None:
    """Cheap checks that need no model; the message names `section`.lora.KEY."""
    if not lcfg.enabled:
        return
    key = f"{section}.lora"
    if lcfg.r < 1:
        raise ValueError(f"{key}.r must be >= 1, got {lcfg.r}")
    if lcfg.alpha <= 0:
        raise ValueError(f"{key}.alpha must be > 0, got {lcfg.alpha}")
    if not 0 <= lcfg.dropout < 1:
        raise ValueError(f"{key}.dropout must be in [0, 1), got {lcfg.dropout}")
    if not lcfg.target_modules:
        raise ValueError(f"{key}.target_modules is empty; e.g. {LLAMA_PROJECTIONS}")
    if lcfg.save not in SAVE:
        raise ValueError(f"{key}.save: unknown {lcfg.save!r}; expected one of {', '.join(SAVE)}")


def check_target_modules(lcfg: LoRAConfig, model_ref, section: str) -> None:
    """One clear line when a target module matches no Linear layer of the model — read from its config
    on the meta device (no weights loaded)."""
    if not lcfg.enabled:
        return
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from seekmath.models import _source

    name, kw = _source(model_ref)  # a folder, a .gguf file or a hub id, as load_model reads it
    config = AutoConfig.from_pretrained(name, **kw)
    with torch.device("meta"):
        skeleton = AutoModelForCausalLM.from_config(config)
    linear = {path.rsplit(".", 1)[-1] for path, m in skeleton.named_modules() if isinstance(m, torch.nn.Linear)}
    linear.discard("lm_head")  # tied to the embeddings in small models; an adapter there is not what anyone means
    bad = [t for t in lcfg.target_modules if t not in linear]
    if bad:
        raise ValueError(f"{section}.lora.target_modules: {bad} match no Linear layer of {model_ref} "
                         f"({config.model_type}); its projections are {sorted(linear)}")


def apply_lora(model, lcfg: LoRAConfig, adapter: str | Path | None = None, seed: int = 0):
    """The PeftModel around `model` (adapters injected in place: `model` itself now runs with them).

    Fresh adapters: A random (peft's Kaiming init, drawn from `seed` so two runs start alike, without
    touching the global RNG), B = 0, so the policy starts exactly at the base model.
    adapter: a saved adapter folder (resume) to load instead."""
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if adapter is not None:
            return PeftModel.from_pretrained(model, str(adapter), is_trainable=True)
        spec = LoraConfig(r=lcfg.r, lora_alpha=lcfg.alpha, lora_dropout=lcfg.dropout, target_modules=list(lcfg.target_modules),
                          bias="none", task_type="CAUSAL_LM")
        return get_peft_model(model, spec)


def lora_layers(peft_model):
    """(name in the base model, LoRA layer) of every adapted module."""
    from peft.tuners.lora import LoraLayer

    base = peft_model.get_base_model()
    return [(name, m) for name, m in base.named_modules() if isinstance(m, LoraLayer)]


def merged_state_dict(peft_model) -> dict:
    """The base model's state dict with every adapter merged in: W + (alpha / r) * B @ A, under the base
    model's own parameter names (what vLLM's reload and save_pretrained expect). The training model is
    not touched; unadapted tensors are the model's own (no copies)."""
    import torch

    base = peft_model.get_base_model()
    delta = {}
    with torch.no_grad():
        for name, layer in lora_layers(peft_model):
            for adapter in layer.active_adapters:
                if adapter in layer.lora_A:
                    delta[f"{name}.weight"] = delta.get(f"{name}.weight", 0) + layer.get_delta_weight(adapter)
    out = {}
    for key, value in base.state_dict().items():
        if ".lora_" in key:
            continue
        name = key.replace(".base_layer.", ".")
        out[name] = (value + delta[name].to(value.dtype)).detach() if name in delta else value
    return out


def save_merged(peft_model, out_dir: Path) -> None:
    """A normal HF model folder (config + safetensors, base names) holding the merged weights."""
    peft_model.get_base_model().save_pretrained(out_dir, safe_serialization=True, state_dict=merged_state_dict(peft_model))


def save_final(peft_model, tokenizer, out_dir: Path, how: str) -> None:
    """final/: merged (default; eval and rl load it like any model) or the adapter alone (PEFT format)."""
    if how == "merged":
        save_merged(peft_model, out_dir)
    else:
        peft_model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def trainable_parameters(peft_model) -> tuple[int, int]:
    """(trainable, all) parameter counts."""
    params = list(peft_model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


# ----------------------------------------------------------------------------------------------
# RL: the reference and the rollout engine


def reference_scorer(peft_model, policy_scorer):
    """pi_ref = the base weights: the policy's own TokenScorer run with the adapter disabled."""
    from seekmath.rl.rollout import TokenScorer

    class ReferenceScorer(TokenScorer):
        def forward(self, *args, **kwargs):
            with peft_model.disable_adapter():
                return super().forward(*args, **kwargs)

    # the same module as the policy's scorer (no copy); never given to an optimizer
    return ReferenceScorer(policy_scorer.policy, policy_scorer.precision, policy_scorer.chunk_tokens)


class AdapterOffEngine:
    """An hf engine generating from the base weights (rl.algorithm=rft samples from the initial policy)."""

    def __init__(self, engine, peft_model):
        self.engine, self.peft_model = engine, peft_model

    def generate(self, *args, **kwargs):
        with self.peft_model.disable_adapter():
            return self.engine.generate(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.engine, name)


def rollout_weights(peft_model, engine_kind: str):
    """What `engine.update_weights` gets after an update: the live module for hf (it already runs the
    adapters), merged base-named weights for vllm."""
    return merged_state_dict(peft_model) if engine_kind == "vllm" else peft_model.get_base_model()



def validate_rl_lora(rl) -> None:
    """What LoRA cannot do in RL (yet), refused before anything loads."""
    validate_lora(rl.lora, "rl")
    if not rl.lora.enabled:
        return
    if rl.reference == "cpu":
        raise ValueError("rl.reference=cpu: with rl.lora.enabled the reference is the policy's base weights (adapter off), "
                         "there is no copy to place; use rl.reference=same_device (the default)")
    if rl.algorithm == "grpo" and rl.beta > 0 and rl.iterations > 1:
        raise ValueError("rl.iterations > 1 with rl.lora.enabled: the reference reset pi_ref <- pi_theta would need the adapter "
                         "merged into the base weights; run the iterations as separate rl stages (merged final/ -> next model)")
    if rl.algorithm == "rft" and rl.engine == "vllm":
        raise ValueError("rl.algorithm=rft with rl.lora.enabled samples from the base weights through the hf engine; "
                         "use rl.engine=hf")
