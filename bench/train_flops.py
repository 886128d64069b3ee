"""How close a training step runs to the machine's matmul peak, and what per-document attention saves.

One training step of the `tiny` model at a stage's shape (SFT: rows of 512 tokens, pretraining: 256;
documents packed and isolated by position_ids, as the trainer does), fp32, forward + backward + AdamW,
on `--threads` threads, twice: attention as transformers' `sdpa` computes it for packed rows (a
block-diagonal mask over the full T x T, every block computed) and as the trainer now does
(`train/packed_attention.py`: each document on its own). FLOPs: `torch.utils.flop_counter` for the
matmuls, attention by its formula as computed. The peer, measured in the same run on the same threads:
one large square `torch.mm` (the machine's practical fp32 peak), and the same in bf16.

    .venv/bin/python bench/train_flops.py                # SFT shape, ~1 min
    .venv/bin/python bench/train_flops.py --stage pretrain

Near 1x of torch.mm, a step is bound by arithmetic: only fewer FLOPs (fewer tokens or steps, attention
that skips what the mask discards, bf16 where the CPU has it) make a stage faster.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def mm_gflops(n: int, dtype: torch.dtype, repeats: int) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    return 2 * n**3 / median_seconds(lambda: torch.mm(a, b), repeats) / 1e9


def main() -> None:
    from torch.utils.flop_counter import FlopCounterMode

    from seekmath.config import load_config
    from seekmath.models import build_model, train_tokenizer
    from seekmath.train.data import filler_documents
    from seekmath.train.packed_attention import NAME
    from seekmath.train.trainer import token_loss_sum

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="tiny")
    ap.add_argument("--stage", choices=["sft", "pretrain"], default="sft")
    ap.add_argument("--rows", type=int, default=0, help="rows per process (default: the stage's batch / 2 processes)")
    ap.add_argument("--doc-tokens", type=int, default=128, help="packed document length (position_ids restart)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    cfg = load_config(args.config)
    stage = getattr(cfg, args.stage)
    rows, seq = args.rows or max(1, stage.batch_size // 2), stage.seq_len
    tok = train_tokenizer(filler_documents(2000), vocab_size=cfg.tokenizer.vocab_size)
    model = build_model(cfg.model, tok).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ids = torch.randint(0, model.config.vocab_size, (rows, seq))
    pos = (torch.arange(seq) % args.doc_tokens).repeat(rows, 1)

    def step() -> None:
        logits = model(input_ids=ids, position_ids=pos, use_cache=False).logits
        s, n = token_loss_sum(logits, ids)
        (s / n).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    with FlopCounterMode(display=False) as counter:
        step()
    # the counter has no formula for the CPU flash-attention kernel (it counts 0 there), so attention is
    # added by hand: QK^T and PV, 2 T^2 d FLOPs each per row and layer forward, x3 with the backward,
    # over the full T x T for sdpa given the block-diagonal mask (its kernel computes the masked blocks
    # too), over each document's own T_i x T_i for per-document attention
    per_t2 = 12 * rows * cfg.model.hidden_size * cfg.model.num_layers
    doc_t2 = sum(min(args.doc_tokens, seq - s) ** 2 for s in range(0, seq, args.doc_tokens))  # sum of T_i^2
    matmuls = counter.get_total_flops()
    flops = {"sdpa": matmuls + per_t2 * seq**2, NAME: matmuls + per_t2 * doc_t2}
    seconds = {}
    for impl in ("sdpa", NAME, "sdpa", NAME):  # alternated: both see the same machine load
        model.set_attn_implementation(impl)
        seconds.setdefault(impl, []).append(median_seconds(step, args.repeats))
    seconds = {k: min(v) for k, v in seconds.items()}
    peak32 = mm_gflops(1024, torch.float32, args.repeats)
    peak16 = mm_gflops(1024, torch.bfloat16, args.repeats)
    params = sum(p.numel() for p in model.parameters())
    print(f"# {args.config} {args.stage}: {rows} rows x {seq} tokens, documents of {args.doc_tokens}, {params / 1e6:.2f}M parameters, "
          f"{args.threads} thread(s), torch {torch.__version__}")
    print(f"# attention: {100 * per_t2 * seq**2 / flops['sdpa']:.0f}% of the sdpa step's FLOPs, "
          f"{100 * (1 - doc_t2 / seq**2):.0f}% of it masked out")
    print("| measure | s / step | GFLOP/s | / torch.mm fp32 | step time / sdpa |")
    print("|---|---|---|---|---|")
    for impl, label in (("sdpa", "training step, sdpa + block-diagonal mask"), (NAME, "training step, per-document attention")):
        g = flops[impl] / seconds[impl] / 1e9
        print(f"| {label} | {seconds[impl]:.3f} | {g:.1f} | {g / peak32:.2f}x | **{seconds[impl] / seconds['sdpa']:.2f}x** |")
    print(f"| torch.mm 1024^3 fp32 (peer) | | {peak32:.1f} | 1.00x | |")
    print(f"| torch.mm 1024^3 bf16 | | {peak16:.1f} | {peak16 / peak32:.2f}x | |")


if __name__ == "__main__":
    main()
