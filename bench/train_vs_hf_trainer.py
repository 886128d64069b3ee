"""Training throughput: seekmath's trainer vs the HF Trainer on the same model, data and batch.

Both train the same freshly initialised tiny model (a copy each) on the same packed rows
(`seekmath.train.data`, documents isolated by position_ids), fp32, AdamW (0.9, 0.95, wd 0.1),
constant LR, one process. Throughput = tokens per step / median wall time between consecutive
step ends (first step excluded). The two trainers alternate `--repeats` times so that both see the
same machine load; the ratio is ours / HF (goal >= 1).

    .venv/bin/python bench/train_vs_hf_trainer.py                 # tiny h256-L4, ~2-3 min
    .venv/bin/python bench/train_vs_hf_trainer.py --config smoke --steps 20
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SEEKMATH_NO_PROGRESS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def ours(cfg, model_dir: Path, out: Path) -> list[float]:
    from seekmath.runs import read_metrics
    from seekmath.train.trainer import train_stage

    train_stage(cfg, "pretrain", out, model_path=model_dir)
    times = [r["time"] for r in read_metrics(out) if "loss" in r]
    return [b - a for a, b in zip(times, times[1:])]


def hf_trainer(cfg, model_dir: Path, out: Path, rows) -> list[float]:
    import torch
    from transformers import Trainer, TrainerCallback, TrainingArguments

    from seekmath.models import load_model

    tc = cfg.pretrain
    ends: list[float] = []

    class StepTimes(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            ends.append(time.perf_counter())

    class Rows(torch.utils.data.Dataset):
        def __len__(self):
            return len(rows)

        def __getitem__(self, i):
            r = rows[i]
            return {"input_ids": torch.tensor(r.input_ids), "labels": torch.tensor(r.labels),
                    "position_ids": torch.tensor(r.position_ids)}

    args = TrainingArguments(
        output_dir=str(out), per_device_train_batch_size=tc.batch_size, max_steps=tc.max_steps,
        learning_rate=tc.lr, adam_beta1=tc.beta1, adam_beta2=tc.beta2, weight_decay=tc.weight_decay,
        max_grad_norm=tc.grad_clip, lr_scheduler_type="constant", warmup_steps=0, logging_steps=1,
        save_strategy="no", report_to=[], use_cpu=True, dataloader_num_workers=0, disable_tqdm=True,
        seed=tc.seed,
    )
    model = load_model(model_dir, device="cpu")
    trainer = Trainer(model=model, args=args, train_dataset=Rows(), callbacks=[StepTimes()])
    trainer.train()
    return [b - a for a, b in zip(ends, ends[1:])]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="tiny")
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq-len", type=int, default=256)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()

    import torch

    from seekmath.config import load_config
    from seekmath.model_cli import init_model
    from seekmath.models import count_parameters, load_tokenizer
    from seekmath.train.data import PackedTextStream, load_text_source

    torch.set_num_threads(args.threads)
    cfg = load_config(args.config, [
        f"pretrain.max_steps={args.steps}", f"pretrain.batch_size={args.batch}", f"pretrain.seq_len={args.seq_len}",
        "pretrain.schedule=constant", "pretrain.warmup_steps=0", "pretrain.save_every=0", "pretrain.eval_every=0",
        "pretrain.eval_sequences=1", f"run.threads={args.threads}", "pretrain.data=[synthetic]",
    ])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        texts = load_text_source("synthetic", cfg)
        model, _ = init_model(cfg, tmp / "init", texts=list(texts[:2000]))
        tok = load_tokenizer(tmp / "init")
        stream = PackedTextStream([("synthetic", texts, 1.0)], tok, args.seq_len, seed=cfg.pretrain.seed,
                                  n_eval=cfg.pretrain.eval_documents)
        rows = [stream.next_row() for _ in range(args.steps * args.batch)]  # the rows our trainer sees, in order
        results: dict[str, list[float]] = {"seekmath": [], "HF Trainer": []}
        for r in range(args.repeats):
            results["seekmath"] += ours(cfg, tmp / "init", tmp / f"ours{r}")
            results["HF Trainer"] += hf_trainer(cfg, tmp / "init", tmp / f"hf{r}", rows)
        tokens = args.batch * args.seq_len
        print(f"\ntraining throughput, {args.config} model ({count_parameters(model) / 1e6:.2f}M params), "
              f"batch {args.batch} x {args.seq_len} tokens, fp32, {args.threads} thread(s), "
              f"{args.steps} steps x {args.repeats} repeats (median step, first step of each run excluded)\n")
        print(f"| trainer | median s/step | tokens/s |")
        print(f"|---|---|---|")
        tps = {}
        for name, dts in results.items():
            med = statistics.median(dts)
            tps[name] = tokens / med
            print(f"| {name} | {med:.3f} | {tps[name]:,.0f} |")
        ratio = tps["seekmath"] / tps["HF Trainer"]
        print(f"\nratio seekmath / HF Trainer: {ratio:.2f}x (goal >= 1)")
        print(json.dumps({"tokens_per_s": tps, "ratio": ratio}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
