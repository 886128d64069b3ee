"""seekmath GRPO vs TRL's GRPOTrainer: same model, tokenizer, prompts, reward and settings, one run.

Settings (both sides): DeepSeekMath outcome-supervision GRPO — loss_type "grpo" (mean over an
output's tokens, then over outputs), group-std scaling, beta 0.04 (k3 KL in the loss, reference
model loaded), epsilon 0.2, mu 1, G 8, 4 prompts per step, at most 64 new tokens, temperature 1,
top-p 1, every group in the update (seekmath's rl.zero_variance=keep, as TRL does), lr constant, AdamW,
grad-norm clip 1, fp32 (bf16 off), no gradient checkpointing, CPU,
the same torch thread count. Prompts: DeepSeekMath's zero-shot chat prompt over the same pool of
synthetic train problems, and the SAME prompts at every step: TRL's dataset is laid out in the
order seekmath's loop draws prompts (`prompt_indices`) and TRL's shuffling is off, so the two reward
curves differ only through the policies and the sampling noise (compared step by step: paired mean
difference with its standard error). Reward: seekmath's RuleReward (the grader) for both.

Timing: wall seconds of each optimizer step including generation (TRL: a TrainerCallback between
on_step_begin and on_step_end; seekmath: the step's own clock), median over steps after the first
`--warmup` ones. The machine is shared, so both run back to back in one process and the ratio is what
to read. The last line is `seekmath/TRL time per step: X`.

    .venv/bin/python bench/grpo_vs_trl.py --model runs/tiny/sft/final          # a warm-started policy
    .venv/bin/python bench/grpo_vs_trl.py --steps 12 --threads 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DEFAULT_MODEL = str(Path(__file__).resolve().parents[1] / "runs" / "tiny" / "sft" / "final")  # what `make run` leaves
TASK_OVERRIDES = ["tasks.min_steps=1", "tasks.max_steps=2", "tasks.max_value=10"]  # solutions fit in 64 tokens


def warm_start(out: Path, seconds_steps: int) -> Path:
    """No policy given: SFT the tiny model briefly with seekmath's trainer (GRPO needs a warm start)."""
    from seekmath.config import load_config
    from seekmath.train.trainer import train_stage

    cfg = load_config("tiny", TASK_OVERRIDES + [f"sft.max_steps={seconds_steps}"])
    print(f"# no --model: SFT warm start of the tiny model ({seconds_steps} steps) -> {out}", flush=True)
    return Path(train_stage(cfg, "sft", out))


def run_trl(model_path: Path, problems, args, out: Path) -> tuple[list[float], list[float]]:
    """TRL's GRPOTrainer over `problems`, visited in seekmath's per-step prompt order."""
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from seekmath.models import load_model, load_tokenizer
    from seekmath.rl.grpo import policy_prompt, prompt_indices
    from seekmath.rl.rewards import RuleReward

    rule = RuleReward()

    def correctness(prompts, completions, answer, **kw):
        return rule(list(completions), list(answer)).tolist()

    order = [i for step in range(args.steps) for i in prompt_indices(len(problems), args.prompts, step, args.seed)]
    ds = Dataset.from_list([{"prompt": policy_prompt(problems[i].question), "answer": problems[i].answer} for i in order])
    cfg = GRPOConfig(
        output_dir=str(out), use_cpu=True, bf16=False, fp16=False, gradient_checkpointing=False,
        report_to="none", save_strategy="no", push_to_hub=False, disable_tqdm=True, logging_steps=1,
        per_device_train_batch_size=args.prompts * args.group, gradient_accumulation_steps=1,
        num_generations=args.group, max_completion_length=args.max_new_tokens, max_steps=args.steps,
        learning_rate=args.lr, lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0, max_grad_norm=1.0,
        beta=args.beta, loss_type="grpo", scale_rewards="group", epsilon=0.2, num_iterations=1,
        temperature=1.0, top_p=1.0, seed=args.seed, dataloader_num_workers=0, use_vllm=False,
        shuffle_dataset=False,  # step k takes rows [k*prompts, (k+1)*prompts): seekmath's prompts of step k
    )
    times: list[float] = []
    rewards: list[float] = []

    class Clock(TrainerCallback):
        def on_step_begin(self, a, s, c, **kw):
            self.t = time.perf_counter()

        def on_step_end(self, a, s, c, **kw):
            times.append(time.perf_counter() - self.t)

        def on_log(self, a, s, c, logs=None, **kw):
            if logs and "reward" in logs:
                rewards.append(float(logs["reward"]))

    tok = load_tokenizer(model_path)
    model = load_model(model_path, device="cpu")
    torch.manual_seed(args.seed)
    trainer = GRPOTrainer(model=model, reward_funcs=[correctness], args=cfg, train_dataset=ds, processing_class=tok, callbacks=[Clock()])
    trainer.train()
    return times, rewards


def run_seekmath(model_path: Path, problems, args, out: Path) -> tuple[list[float], list[float]]:
    from seekmath.config import load_config
    from seekmath.rl.grpo import run_rl
    from seekmath.runs import read_metrics

    cfg = load_config("tiny", TASK_OVERRIDES + [
        f"rl.group_size={args.group}", f"rl.prompts_per_step={args.prompts}", f"rl.max_new_tokens={args.max_new_tokens}",
        f"rl.beta={args.beta:.8f}", f"rl.lr={args.lr:.10f}", f"rl.steps={args.steps}", "rl.iterations=1", "rl.mu=1",
        "rl.aggregation=seq_mean_token_mean", "rl.normalise_std=true", "rl.zero_variance=keep", "rl.clip_eps=0.2", "rl.temperature=1.0", "rl.top_p=1.0",
        "rl.max_grad_norm=1.0", "rl.weight_decay=0.0", "rl.eval_problems=0", "rl.save_every=0",
        f"rl.micro_batch_size={args.prompts * args.group}", f"rl.generation_batch_size={args.prompts * args.group}",
        f"rl.train_problems={len(problems)}", f"rl.seed={args.seed}", f"rl.threads={args.threads}",
    ])
    run_rl(cfg, model_path, out, progress=False)
    rows = [r for r in read_metrics(out) if "seconds_step" in r]
    return [r["seconds_step"] for r in rows], [r["reward_mean"] for r in rows]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help=f"warm-started policy folder (default: {DEFAULT_MODEL} if present, else a short SFT)")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=2, help="steps left out of the median")
    ap.add_argument("--group", type=int, default=8)
    ap.add_argument("--prompts", type=int, default=4)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--beta", type=float, default=0.04)
    ap.add_argument("--lr", type=float, default=1e-5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sft-steps", type=int, default=150)
    ap.add_argument("--order", default="trl,seekmath", help="which runs first (the machine drifts)")
    ap.add_argument("--task", action="append", default=None, help=f"task overrides (default: {' '.join(TASK_OVERRIDES)})")
    args = ap.parse_args(argv)
    if args.task:
        TASK_OVERRIDES[:] = args.task

    import torch

    torch.set_num_threads(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    from seekmath.config import load_config
    from seekmath.tasks.synthetic import generate_problems

    work = Path(tempfile.mkdtemp(prefix="grpo_vs_trl."))
    model = Path(args.model) if args.model else (Path(DEFAULT_MODEL) if Path(DEFAULT_MODEL, "config.json").is_file() else None)
    if model is None:
        model = warm_start(work / "sft", args.sft_steps)
    problems = generate_problems(load_config("tiny", TASK_OVERRIDES).tasks, "train", n=max(64, args.steps * args.prompts))
    print(f"# model {model}; {args.steps} steps x {args.prompts} prompts x G={args.group}, <= {args.max_new_tokens} new tokens, "
          f"beta {args.beta}, lr {args.lr}, {args.threads} thread(s), fp32, CPU", flush=True)

    res = {}
    for name in args.order.split(","):
        t0 = time.perf_counter()
        fn = run_trl if name == "trl" else run_seekmath
        res[name] = fn(model, problems, args, work / name)
        print(f"# {name}: {len(res[name][0])} steps in {time.perf_counter() - t0:.1f} s wall", flush=True)

    def med(ts):
        tail = ts[args.warmup:] or ts
        return statistics.median(tail)

    (t_trl, r_trl), (t_sm, r_sm) = res["trl"], res["seekmath"]
    m_trl, m_sm = med(t_trl), med(t_sm)
    print()
    print(f"| system   | median s/step | mean reward (all steps) | mean reward (2nd half) |")
    print(f"|----------|---------------|-------------------------|------------------------|")
    for name, m, r in (("TRL", m_trl, r_trl), ("seekmath", m_sm, r_sm)):
        half = r[len(r) // 2:] or r
        print(f"| {name:<8} | {m:13.3f} | {statistics.mean(r):23.3f} | {statistics.mean(half):22.3f} |")
    print()
    print("reward curve TRL:     ", " ".join(f"{x:.2f}" for x in r_trl))
    print("reward curve seekmath:", " ".join(f"{x:.2f}" for x in r_sm))
    diffs = [a - b for a, b in zip(r_sm, r_trl)]  # same prompts at each step: a paired comparison
    se = statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else float("nan")
    print(f"reward, seekmath - TRL (paired by step, same prompts): {statistics.mean(diffs):+.3f} +- {se:.3f} (1 s.e., {len(diffs)} steps)")
    print("s/step TRL:           ", " ".join(f"{x:.2f}" for x in t_trl))
    print("s/step seekmath:      ", " ".join(f"{x:.2f}" for x in t_sm))
    print(f"seekmath/TRL time per step: {m_sm / m_trl:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
