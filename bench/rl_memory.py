"""Peak memory of one GRPO update on the tiny model: micro-batch size x chunked log-probs x checkpointing.

One fixed batch (8 questions x G 8 = 64 outputs, prompts of ~60 tokens, completions of 20-96 tokens,
random tokens and advantages, beta 0.04 so the reference pass runs too) goes through one
`train_on_batch` update in every setting: micro-batches of 1, 8 and 64 outputs; plain (the whole
micro-batch's fp32 logits at once), chunked log-probs (`rl.logprob_chunk_tokens`), chunked +
gradient checkpointing.

How memory is measured, and why: tracemalloc sees only Python-heap allocations, not torch's CPU
tensors, and torch has no CPU `max_memory_allocated`. So each setting runs in a FRESH subprocess
(no memory retained from another setting), with glibc's mmap threshold fixed at 64 KiB
(MALLOC_MMAP_THRESHOLD_: every tensor above that is its own mapping, returned to the OS on free, so
the resident size follows the live tensors), and reads the kernel's resident high-water mark:
`/proc/self/clear_refs` <- 5 resets VmHWM to the current RSS just before the update, VmHWM after it is
the update's peak. Reported: peak - RSS before the update (MiB) = what the update itself needed.
The update is the same in every setting: one SGD step at lr 1 (the weights move by exactly minus the
clipped gradient), and the script prints the max |weight difference| against the 64-output plain run
next to the largest weight change of the update itself.

    .venv/bin/python bench/rl_memory.py                    # fresh tiny model (shape of configs/tiny.yaml)
    .venv/bin/python bench/rl_memory.py --model runs/tiny/sft/final
    .venv/bin/python bench/rl_memory.py --vocab 32768    # the tiny shape with a real model's vocabulary size

The tiny model's 1,024-token vocabulary makes its logits small next to its activations; `--vocab`
builds the same shape with a real vocabulary (random weights; the batch is random tokens anyway),
where the fp32 logits are what chunking removes.

`--lora R`: full fine-tuning vs LoRA rank R (rl.lora.*) instead, each in a fresh subprocess, on the
whole RL step's memory: the peak RSS during the reference pass + one AdamW update over the process's
RSS after imports (`step peak`: policy + reference + optimizer + gradients + activations; the weights
are memory-mapped safetensors, resident once the step reads them, and AdamW's moments appear at its
first step, so `built`, the RSS once everything is constructed, is small). Full: pi_ref is a second copy of the weights, AdamW holds two
moments of every weight. LoRA: pi_ref is the same weights with the adapter off, AdamW holds the
adapters' moments only.

    .venv/bin/python bench/rl_memory.py --lora 16 --model runs/models/smollm2-135m --micro 8
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SETTINGS = {  # name -> rl.* overrides (on top of the micro-batch size)
    "plain": ["rl.logprob_chunk_tokens=0", "rl.gradient_checkpointing=false"],
    "chunked": ["rl.logprob_chunk_tokens=256", "rl.gradient_checkpointing=false"],
    "chunked+ckpt": ["rl.logprob_chunk_tokens=256", "rl.gradient_checkpointing=true"],
}
MICRO = (1, 8, 64)


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(args) -> None:
    """One setting: build everything, reset the high-water mark, one update, report peak and weights."""
    import torch

    torch.set_num_threads(1)
    from seekmath.config import load_config
    from seekmath.rl.grpo import build_policy, build_reference, train_on_batch
    from seekmath.rl.rollout import GroupedRollout, scorer_logprobs_nograd

    lora = ["rl.lora.enabled=true", f"rl.lora.r={args.lora}", f"rl.lora.alpha={2 * args.lora}"] if args.lora else []
    cfg = load_config("tiny", ["model.device=cpu", "rl.beta=0.04", "rl.max_grad_norm=0", f"rl.micro_batch_size={args.micro}", *SETTINGS[args.setting], *lora])
    import peft  # noqa: F401 - imported in both settings so that `start` holds the same code
    import transformers.models.llama.modeling_llama  # noqa: F401

    start = _rss_kib("VmRSS")
    policy, scorer = build_policy(cfg, args.model, "cpu")
    if args.lora:  # pi_ref = the policy with its adapter off, as run_rl builds it
        from seekmath.lora import apply_lora, reference_scorer

        ref = reference_scorer(apply_lora(policy, cfg.rl.lora), scorer)
    else:
        _, ref = build_reference(cfg, args.model, None, "cpu")
    trainable = [p for p in scorer.parameters() if p.requires_grad]
    if args.adamw:  # RL's own optimizer (build_optimizer): its state is part of the step's memory
        from seekmath.rl.grpo import build_optimizer

        opt, _ = build_optimizer(trainable, cfg.rl)
    else:
        # SGD at lr 1 without clipping moves each weight by exactly minus its gradient, so the weight differences
        # between settings ARE the gradient differences; AdamW's first step g / (|g| + eps) would blow float
        # rounding up on coordinates whose gradient is near eps
        opt = torch.optim.SGD(trainable, lr=1.0)
    built = _rss_kib("VmRSS")  # small: the safetensors weights are memory-mapped, resident once the step reads them
    g = torch.Generator().manual_seed(0)
    V, Q, G = policy.config.vocab_size, 8, 8
    prompts = [torch.randint(3, V, (int(torch.randint(50, 70, (1,), generator=g)),), generator=g).tolist() for _ in range(Q)]
    comps = [torch.randint(3, V, (int(torch.randint(20, 97, (1,), generator=g)),), generator=g).tolist() for _ in range(Q * G)]
    rollout = GroupedRollout(prompts, comps, [u for u in range(Q) for _ in range(G)], pad_id=0)
    adv = torch.randn(Q * G, generator=g)

    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := current RSS
    before = _rss_kib("VmRSS")
    ref_logp = scorer_logprobs_nograd(ref, rollout, cfg.rl.micro_batch_size, cfg.rl.temperature)
    train_on_batch(scorer, opt, rollout, adv, ref_logp=ref_logp, rl=cfg.rl)
    peak = _rss_kib("VmHWM")
    if args.weights:
        torch.save({n: p.detach() for n, p in policy.named_parameters()}, args.weights)
    print(json.dumps({"peak_mib": (peak - before) / 1024, "rss_before_mib": before / 1024, "built_mib": (built - start) / 1024,
                      "step_peak_mib": (peak - start) / 1024, "trainable": sum(p.numel() for p in trainable)}))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="policy folder (default: a fresh tiny model)")
    ap.add_argument("--vocab", type=int, default=0, help="build the tiny shape with this vocabulary size instead")
    ap.add_argument("--lora", type=int, default=0, help="compare full fine-tuning with LoRA of this rank (AdamW, whole step)")
    ap.add_argument("--micro", type=int, default=64, help="outputs per micro-batch (--lora; the default table runs 1, 8, 64)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--adamw", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--setting", default="plain", help=argparse.SUPPRESS)
    ap.add_argument("--weights", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args)
        return 0
    import torch

    tmp = Path(tempfile.mkdtemp(prefix="rl_memory."))
    model = args.model
    if model is None and args.vocab:
        from transformers import LlamaConfig, LlamaForCausalLM

        from seekmath.config import load_config

        m = load_config("tiny").model
        torch.manual_seed(0)
        model = str(tmp / f"tiny-v{args.vocab}")
        LlamaForCausalLM(LlamaConfig(vocab_size=args.vocab, hidden_size=m.hidden_size, num_hidden_layers=m.num_layers,
                                     num_attention_heads=m.num_heads, num_key_value_heads=m.num_kv_heads,
                                     intermediate_size=m.intermediate_size, tie_word_embeddings=m.tie_word_embeddings,
                                     max_position_embeddings=m.max_position_embeddings)).save_pretrained(model)
    elif model is None:
        from seekmath.config import load_config
        from seekmath.model_cli import init_model

        model = str(tmp / "tiny")
        init_model(load_config("tiny"), Path(model))
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    if args.lora:
        return lora_table(model, args, env)
    print(f"# one GRPO update, 64 outputs (8 x G 8), tiny model {model}; peak RSS of the update over RSS before it (MiB)")
    print(f"{'setting':<14} {'micro-batch':>11} {'peak MiB':>9} {'max |dw| vs 64/plain':>21}")
    base = None
    rows = []
    for setting in SETTINGS:
        for micro in sorted(MICRO, reverse=True):
            w = tmp / f"{setting}-{micro}.pt"
            r = subprocess.run([sys.executable, __file__, "--child", "--model", model, "--setting", setting, "--micro", str(micro),
                                "--weights", str(w)], env=env, capture_output=True, text=True)
            if r.returncode:
                print(r.stderr[-2000:], file=sys.stderr)
                return 1
            res = json.loads(r.stdout.strip().splitlines()[-1])
            weights = torch.load(w)
            if base is None:
                base = weights
            diff = max(float((weights[k] - base[k]).abs().max()) for k in base)
            rows.append((setting, micro, res["peak_mib"], diff))
            print(f"{setting:<14} {micro:>11} {res['peak_mib']:>9.1f} {diff:>21.2e}", flush=True)
    from safetensors.torch import load_file

    init = load_file(str(Path(model) / "model.safetensors"))
    moved = max(float((base[k] - init[k]).abs().max()) for k in base if k in init)
    print(f"# the update itself moves weights by up to {moved:.2e} (SGD lr 1 = the gradient): the differences above are float rounding")
    return 0


def lora_table(model: str, args, env: dict) -> int:
    """Full fine-tuning vs LoRA: one RL step (reference pass + one AdamW update), fresh subprocess each."""
    print(f"# one GRPO step (pi_ref pass + AdamW update), 64 outputs (8 x G 8), micro-batch {args.micro}, chunked log-probs, "
          f"1 thread; model {model}")
    print("# RSS in MiB over the subprocess's RSS after imports; built = policy + reference + optimizer before the step")
    print(f"{'policy':<10} {'trainable':>12} {'built MiB':>10} {'step peak MiB':>14} {'update MiB':>11}")
    rows = {}
    for name, rank in (("full", 0), (f"lora r{args.lora}", args.lora)):
        r = subprocess.run([sys.executable, __file__, "--child", "--adamw", "--model", model, "--setting", "chunked", "--micro",
                            str(args.micro), "--lora", str(rank)], env=env, capture_output=True, text=True)
        if r.returncode:
            print(r.stderr[-2000:], file=sys.stderr)
            return 1
        res = rows[name] = json.loads(r.stdout.strip().splitlines()[-1])
        print(f"{name:<10} {res['trainable']:>12,} {res['built_mib']:>10.1f} {res['step_peak_mib']:>14.1f} {res['peak_mib']:>11.1f}", flush=True)
    full, lora = rows["full"], rows[f"lora r{args.lora}"]
    print(f"# LoRA / full: built {lora['built_mib'] / full['built_mib']:.2f}, step peak {lora['step_peak_mib'] / full['step_peak_mib']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
