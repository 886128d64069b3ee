"""How much GPU memory one RL process needs, part by part (`seekmath rl --plan`), and the early refusal.

Everything is arithmetic on the model's shape and the `rl:` settings (`memory_plan` is pure). Bytes per
GPU, in GiB (2^30 bytes); `--gpu-memory` is in the same unit. The parts:

- fp32 master weights 4P, fp32 gradients 4P, AdamW's two moments 8P: divided by the world size under
  FSDP (sharded), whole on every GPU otherwise (DDP / one process).
- compute copy of the weights when the compute dtype is bf16: autocast's bf16 casts are kept for the
  backward pass, 2P (FSDP: the all-gathered bf16 root + two layers at a time).
- reference pi_ref in the compute dtype (same_device), 0 on the GPU for `cpu` / `none`.
- reward model (rl.reward = orm / prm): a policy-sized causal LM in fp32 on the policy's device, 4P.
- activations of one micro-batch of `micro_batch_size` outputs, each prompt + max_new_tokens tokens
  long (the prompt is counted per output: the packed layout; sharing a group's prompt only lowers it).
  Saved tensors per token per decoder layer, with c bytes per compute element:
      a = c * (4H + 2 kv + 4I) + 8H
  (norm inputs kept in fp32: 2 x 4H; q/k/v, attention output and o_proj input; gate, up, act(gate),
  act(gate) * up). Flash/SDPA attention is assumed (no sequence^2 term). With gradient checkpointing
  only each layer's input is kept (c * H per token per layer) plus one layer's `a` being recomputed.
- log-prob head: the fp32 logits of the completion tokens, K x V x (c + 8) bytes (compute-dtype logits,
  their fp32 copy and its gradient); with `logprob_chunk_tokens` only one chunk's worth exists.
- rollout engine: vLLM takes `gpu_memory_utilization` of the GPU (weights + KV cache) for its whole
  life, except during the update with `sleep_mode`; the hf engine's KV cache is
  generation_batch_size x (prompt + max_new_tokens) x L x 2 kv x c.
- runtime reserve: CUDA context, NCCL buffers, allocator fragmentation: 2 GiB + 5% of the GPU.
- LoRA (rl.lora): gradients and AdamW's moments of the adapters only (r x (in + out) per adapted
  projection, `lora_params`), adapters in fp32 next to the master weights, no reference copy (pi_ref
  is the base with the adapter off); activations counted as without LoRA (the adapters' r-wide
  intermediates are small next to them).

The peak is the larger of the rollout phase (persistent state + engine) and the update phase
(persistent state + gradients + activations + head, + engine unless it sleeps).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

GIB = 2**30
DEFAULT_PROMPT_TOKENS = 512  # a chat-templated MATH question with the CoT instruction fits in this
RESERVE_GIB, RESERVE_SHARE = 2.0, 0.05


class PlanError(ValueError):
    """The run cannot fit in GPU memory; the message is the plan table."""


@dataclass
class ModelShape:
    vocab: int
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    tie_embeddings: bool = False
    qkv_bias: bool = False  # Qwen2
    source: str = ""

    @property
    def kv_dim(self) -> int:
        return self.hidden // self.heads * self.kv_heads

    def layer_params(self) -> int:
        H, kv, I = self.hidden, self.kv_dim, self.intermediate
        attn = H * H * 2 + H * kv * 2 + ((H + 2 * kv) if self.qkv_bias else 0)
        return attn + 3 * H * I + 2 * H  # + the two RMSNorm weights

    def root_params(self) -> int:
        """Embedding, final norm and (untied) LM head: what is not inside a decoder layer."""
        return self.vocab * self.hidden * (1 if self.tie_embeddings else 2) + self.hidden

    def params(self) -> int:
        return self.layers * self.layer_params() + self.root_params()

    def lora_params(self, r: int, target_modules) -> int:
        """LoRA's trainable parameters: r x (in + out) for every adapted projection of every layer."""
        H, kv, I = self.hidden, self.kv_dim, self.intermediate
        dims = {"q_proj": (H, H), "k_proj": (H, kv), "v_proj": (H, kv), "o_proj": (H, H), "gate_proj": (H, I), "up_proj": (H, I),
                "down_proj": (I, H)}
        return self.layers * sum(r * sum(dims[t]) for t in target_modules if t in dims)

    @classmethod
    def from_hf_config(cls, c: dict, source: str = "") -> "ModelShape":
        heads = c["num_attention_heads"]
        return cls(vocab=c["vocab_size"], hidden=c["hidden_size"], layers=c["num_hidden_layers"], heads=heads,
                   kv_heads=c.get("num_key_value_heads") or heads, intermediate=c["intermediate_size"],
                   tie_embeddings=bool(c.get("tie_word_embeddings", False)), qkv_bias=c.get("model_type") == "qwen2",
                   source=source)


def model_shape(cfg, model_path=None) -> ModelShape:
    """The policy's shape: a local HF folder's config.json (--model, else model.name_or_path), else the
    config's `model:` section + `tokenizer.vocab_size` (how deepseekmath-7b states the 7B shape without a download)."""
    for cand in (model_path, cfg.model.name_or_path):
        if cand and (Path(cand) / "config.json").is_file():
            return ModelShape.from_hf_config(json.loads((Path(cand) / "config.json").read_text()), f"{cand}/config.json")
    m = cfg.model
    return ModelShape(vocab=cfg.tokenizer.vocab_size, hidden=m.hidden_size, layers=m.num_layers, heads=m.num_heads,
                      kv_heads=m.num_kv_heads, intermediate=m.intermediate_size, tie_embeddings=m.tie_word_embeddings,
                      qkv_bias=m.arch == "qwen2", source="the config's model section")


@dataclass
class Part:
    name: str
    update: float  # GiB during the policy update
    rollout: float  # GiB during generation
    how: str


@dataclass
class Plan:
    parts: list[Part]
    gpu_gib: float
    world_size: int
    header: str
    problems: list[str] = field(default_factory=list)

    @property
    def peak(self) -> float:
        return max(sum(p.update for p in self.parts), sum(p.rollout for p in self.parts))

    @property
    def fits(self) -> bool:
        return self.peak <= self.gpu_gib and not self.problems

    def verdict(self) -> str:
        where = f"peak {self.peak:.1f} of {self.gpu_gib:.1f} GiB per GPU, {self.world_size} x {self.gpu_gib:g} GiB"
        if self.fits:
            return f"plan: fits ({where})"
        why = list(self.problems)
        if self.peak > self.gpu_gib:
            big = sorted(self.parts, key=lambda p: -max(p.update, p.rollout))[:3]
            why.append("largest: " + ", ".join(f"{p.name} {max(p.update, p.rollout):.1f}" for p in big))
        return f"plan: does not fit ({where}; {'; '.join(why)})"

    def table(self) -> str:
        w = max(len(p.name) for p in self.parts)
        lines = [self.header, f"  {'per GPU (GiB)':<{w}}  {'update':>8}  {'rollout':>8}  how"]
        for p in self.parts:
            lines.append(f"  {p.name:<{w}}  {p.update:8.2f}  {p.rollout:8.2f}  {p.how}")
        lines.append(f"  {'total':<{w}}  {sum(p.update for p in self.parts):8.2f}  {sum(p.rollout for p in self.parts):8.2f}")
        lines.append(self.verdict())
        return "\n".join(lines)


def memory_plan(shape: ModelShape, *, world_size: int = 1, gpu_gib: float = 80.0, sharding: str = "none", compute_bytes: int = 2,
                micro_batch: int = 64, prompt_tokens: int = DEFAULT_PROMPT_TOKENS, max_new_tokens: int = 1024,
                gradient_checkpointing: bool = False, chunk_tokens: int = 0, reference: str = "same_device",
                engine: str = "vllm", vllm_utilization: float = 0.5, sleep_mode: bool = False, tensor_parallel: int = 1,
                generation_batch: int = 64, reward_model: bool = False, lora_params: int = 0, header: str = "") -> Plan:
    """The per-GPU memory plan (pure arithmetic; see the module docstring for every formula)."""
    P, L, H, V, I, kv, c = shape.params(), shape.layers, shape.hidden, shape.vocab, shape.intermediate, shape.kv_dim, compute_bytes
    S = world_size if sharding == "fsdp" else 1
    g = lambda b: b / GIB  # noqa: E731
    parts = []
    if c < 4 or S > 1:
        if S > 1:
            n, how = (shape.root_params() + 2 * shape.layer_params()) * c, f"FSDP all-gathers the root + 2 layers in {c}-byte compute dtype"
        else:
            n, how = P * c, f"autocast's {c}-byte copy of every weight, kept for the backward"
        parts.append(Part("weights (compute copy)", g(n), g(n) if engine == "hf" else 0.0, how))
    shard = f" / {S} (FSDP)" if S > 1 else ""
    T = lora_params or P  # what the optimizer trains
    what = f"LoRA's {T / 1e6:.1f}M adapter params" if lora_params else "params"
    parts.append(Part("fp32 master weights", g(4 * (P + lora_params) / S), g(4 * (P + lora_params) / S),
                      f"4 B x {P / 1e9:.2f}B params{shard}" + (f" + {what}" if lora_params else "")))
    parts.append(Part("gradients (fp32)", g(4 * T / S), 0.0, f"4 B x {what}{shard}; freed between steps"))
    parts.append(Part("AdamW state (fp32 m, v)", g(8 * T / S), g(8 * T / S), f"8 B x {what}{shard}"))
    if lora_params:
        reference = "lora"
    ref = g(P * c) if reference == "same_device" else 0.0
    parts.append(Part("reference pi_ref", ref, ref, {"same_device": f"{c} B x params, whole on each GPU", "cpu": "in CPU RAM",
                                                    "none": "none (beta = 0)", "lora": "the base weights, adapter off (no copy)"}.get(reference, reference)))
    if reward_model:
        parts.append(Part("reward model (orm/prm)", g(4 * P), g(4 * P), "policy-sized, fp32 on the policy's device "
                          "(its training rounds need 12 B x params more, between RL steps)"))
    tokens = micro_batch * (prompt_tokens + max_new_tokens)
    a = c * (4 * H + 2 * kv + 4 * I) + 8 * H
    full, ckpt = tokens * L * a, tokens * L * H * c + tokens * a
    if gradient_checkpointing:
        act, how = ckpt, f"{tokens} tokens x {L} layer inputs + 1 layer recomputed (checkpointing; without: {g(full):.2f})"
    else:
        act, how = full, f"{tokens} tokens x {L} layers x {a / 1024:.0f} KiB (with checkpointing: {g(ckpt):.2f})"
    parts.append(Part(f"activations ({micro_batch} outputs/micro-batch)", g(act), 0.0, how))
    K = micro_batch * max_new_tokens
    rows = min(K, chunk_tokens) if chunk_tokens > 0 else K
    head_how = f"{rows} tokens x vocab {V} x {c + 8} B"
    head_how += f" (chunked; unchunked: {g(K * V * (c + 8)):.2f})" if rows < K else (" (unchunked)" if chunk_tokens <= 0 else "")
    parts.append(Part("log-prob head (fp32 logits)", g(rows * V * (c + 8)), 0.0, head_how))
    problems = []
    if engine == "vllm":
        share = vllm_utilization * gpu_gib
        parts.append(Part("rollout engine (vLLM)", 0.0 if sleep_mode else share, share,
                          f"gpu_memory_utilization {vllm_utilization:g} x {gpu_gib:g} GiB" + ("; asleep during the update" if sleep_mode else "")))
        weights = g(P * 2 / tensor_parallel)
        if share < 1.1 * weights:
            problems.append(f"vLLM's share {share:.1f} GiB cannot hold its {weights:.1f} GiB of bf16 weights "
                            f"(raise rl.vllm.gpu_memory_utilization or tensor_parallel_size)")
    else:
        kvc = generation_batch * (prompt_tokens + max_new_tokens) * L * 2 * kv * c
        parts.append(Part("rollout engine (hf KV cache)", 0.0, g(kvc), f"{generation_batch} rows x {prompt_tokens + max_new_tokens} tokens"))
    reserve = RESERVE_GIB + RESERVE_SHARE * gpu_gib
    parts.append(Part("runtime reserve", reserve, reserve, "CUDA context, NCCL, fragmentation: 2 GiB + 5%"))
    return Plan(parts, gpu_gib, world_size, header, problems)


def plan_for_config(cfg, model_path=None, world_size: int = 1, gpu_gib: float = 80.0) -> Plan:
    """`memory_plan` with the shape and settings a config (and --model) give."""
    rl = cfg.rl
    shape = model_shape(cfg, model_path)
    sharding = getattr(rl, "distributed", None) or ("fsdp" if world_size > 1 else "none")
    compute = 4 if cfg.model.dtype == "float32" else 2
    prompt = rl.vllm.max_model_len - rl.max_new_tokens if rl.vllm.max_model_len > rl.max_new_tokens else DEFAULT_PROMPT_TOKENS
    header = (f"memory plan: {shape.params() / 1e9:.2f}B-parameter policy (hidden {shape.hidden}, {shape.layers} layers, vocab "
              f"{shape.vocab}; from {shape.source}), {cfg.model.dtype} compute, {sharding if world_size > 1 else 'one process'} on "
              f"{world_size} GPU(s) of {gpu_gib:g} GiB; micro-batch {rl.micro_batch_size} x ({prompt} prompt + {rl.max_new_tokens}) tokens")
    return memory_plan(shape, world_size=world_size, gpu_gib=gpu_gib, sharding=sharding, compute_bytes=compute,
                       micro_batch=rl.micro_batch_size, prompt_tokens=prompt, max_new_tokens=rl.max_new_tokens,
                       gradient_checkpointing=rl.gradient_checkpointing, chunk_tokens=rl.logprob_chunk_tokens,
                       reference=rl.reference if (rl.beta > 0 or rl.algorithm == "rft") else "none", engine=rl.engine,
                       vllm_utilization=rl.vllm.gpu_memory_utilization, sleep_mode=rl.vllm.sleep_mode,
                       tensor_parallel=rl.vllm.tensor_parallel_size, generation_batch=rl.generation_batch_size,
                       reward_model=rl.reward in ("orm", "prm"),
                       lora_params=shape.lora_params(rl.lora.r, rl.lora.target_modules) if rl.lora.enabled else 0, header=header)


def check_fits(cfg, model_path, device, gpu_gib: float | None = None) -> Plan | None:
    """Refuse (PlanError with the table) before loading anything when the plan does not fit.

    The budget is `gpu_gib` if given, else the CUDA device's memory; on CPU without a budget: no check.
    """
    import torch

    if gpu_gib is None:
        if getattr(device, "type", str(device)) != "cuda":
            return None
        gpu_gib = torch.cuda.get_device_properties(device).total_memory / GIB
    world = int(os.environ.get("WORLD_SIZE", "1"))
    plan = plan_for_config(cfg, model_path, world, gpu_gib)
    if not plan.fits:
        raise PlanError(plan.table())
    return plan

