"""One causal-LM trainer for continued pretraining and SFT (paper §2.1-2.2), in plain PyTorch on HF models.

    final_dir = train_stage(cfg, "pretrain", "runs/tiny/pretrain")
    final_dir = train_stage(cfg, "sft", "runs/tiny/sft", model_path="runs/tiny/pretrain/final")

The loop: every optimizer step consumes a *global* batch of `batch_size` packed rows, generated
identically on every process from the seeded data stream; process r takes its slice and splits it
into micro-batches (gradient accumulation). The loss is the mean over all target tokens of the
global batch: each process scales its summed token loss by world_size / global_targets, and DDP's
gradient average turns that into exactly the single-process gradient. So the number of processes
changes nothing but speed (tested: 2-process torchrun vs 1 process, DDP and FSDP2, in weights and in
pre-clip gradient norm). Wrapping, gradient sync (once per step, on the last micro-batch) and clipping
live in seekmath.distributed, shared with the RL stage.

Checkpoints (`out/checkpoints/step-NNNNNN/`, written with runs.atomic_dir) hold the HF model
(safetensors) and tokenizer plus `trainer_state.pt`: optimizer, scheduler, RNG states and the data
stream's position. With FSDP2 the model and optimizer are written as shards by every process
(torch.distributed.checkpoint, `dcp/`) instead of a gathered copy. `resume=True` continues from the
newest one; on CPU in fp32 the final weights are bit-identical to an uninterrupted run (tested with
SIGKILL; FSDP2 shards on the same number of processes). With `sft.lora` (seekmath.lora) a checkpoint
holds the adapter (PEFT format) instead of the model, and `final/` is merged unless `sft.lora.save=adapter`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import random
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from seekmath.distributed import (
    Dist,
    clip_grad_norm,
    full_model_state,
    gradient_sync,
    load_sharded,
    save_sharded,
    shared_atomic_dir,
    unwrap,
    wrap_distributed,
)
from seekmath.runs import MetricsLogger, atomic_dir, atomic_write_json, prepare_stage_dir, read_metrics, set_threads
from seekmath.train.data import (
    IGNORE_INDEX,
    PackedSFTStream,
    PackedTextStream,
    Row,
    collate,
    load_sft_examples,
    load_text_source,
    parse_data_spec,
    sft_eval_rows,
    tokenize_examples,
)
from seekmath.train.schedules import make_optimizer, make_scheduler

log = logging.getLogger("seekmath.train")

DEFAULT_PRETRAIN_DATA = ["synthetic@0.8", "filler@0.2"]
DEFAULT_SFT_DATA = ["synthetic"]
STATE_FILE = "trainer_state.pt"
SHARDED_DIR = "dcp"  # FSDP2 checkpoints: model + optimizer shards (torch.distributed.checkpoint)


# ----------------------------------------------------------------------------------------------
# Loss


def token_loss_sum(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Summed next-token cross-entropy over targets != IGNORE_INDEX, and how many there were.

    logits[:, t] predicts labels[:, t + 1] (the causal shift); computed in fp32 whatever the autocast.
    """
    shift_logits = logits[:, :-1].float()
    shift_labels = labels[:, 1:]
    loss = F.cross_entropy(shift_logits.reshape(-1, shift_logits.size(-1)), shift_labels.reshape(-1),
                           ignore_index=IGNORE_INDEX, reduction="sum")
    return loss, int((shift_labels != IGNORE_INDEX).sum())


def autocast_context(precision: str, device: torch.device):
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def native_bf16(device: torch.device) -> bool:
    """Whether `device` computes bf16 matmuls in hardware: CUDA with bf16, or a CPU with AVX512-BF16 or AMX.
    Elsewhere autocast emulates bf16 and is slower than fp32."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # torch.cpu's probes (private, so guarded)
        return any(getattr(torch.cpu, name, lambda: False)() for name in probes)
    return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """auto: bf16 autocast where the device has native bf16 (on an AVX512-BF16 CPU the tiny recipe's
    pretraining ran 1.27x faster), fp32 elsewhere."""
    if precision == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"precision must be fp32, bf16 or auto, not {precision!r}")
    return precision


@torch.no_grad()
def evaluate_loss(model, rows: list[Row], device: torch.device, precision: str, micro_batch: int = 8) -> float:
    """Mean held-out token loss (same masking as training)."""
    if not rows:
        return float("nan")
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(rows), micro_batch):
        batch = collate(rows[i: i + micro_batch], device)
        with autocast_context(precision, device):
            logits = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"], use_cache=False).logits
        s, n = token_loss_sum(logits, batch["labels"])
        total += float(s)
        count += n
    model.train(was_training)
    return total / max(1, count)


# ----------------------------------------------------------------------------------------------
# Checkpoints


def list_checkpoints(out_dir: str | Path) -> list[Path]:
    root = Path(out_dir) / "checkpoints"
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("step-*") if p.is_dir() and (p / STATE_FILE).is_file())


def latest_checkpoint(out_dir: str | Path) -> Path | None:
    ckpts = list_checkpoints(out_dir)
    return ckpts[-1] if ckpts else None


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(out_dir: Path, step: int, model, tokenizer, optimizer, scheduler, stream, dist: Dist,
                    keep: int, fsdp: bool = False, extra: dict | None = None) -> Path | None:
    """Full HF model + optimizer from rank 0 (one process, DDP: every process holds the same); FSDP2:
    model and optimizer shards written by every process with torch.distributed.checkpoint (`dcp/`)."""
    path = Path(out_dir) / "checkpoints" / f"step-{step:06d}"
    state = {"step": step, "scheduler": scheduler.state_dict(), "rng": rng_state(), "data": stream.state_dict(),
             "world_size": dist.world, **(extra or {})}
    with shared_atomic_dir(path, dist) as tmp:
        if fsdp:
            save_sharded(tmp / SHARDED_DIR, model, optimizer)
        if dist.main:
            if not fsdp:
                unwrap(model).save_pretrained(tmp, safe_serialization=True)
                state["optimizer"] = optimizer.state_dict()
            tokenizer.save_pretrained(tmp)
            torch.save(state, tmp / STATE_FILE)
    if dist.main:
        for old in list_checkpoints(out_dir)[:-keep] if keep > 0 else []:
            shutil.rmtree(old, ignore_errors=True)
    dist.barrier()
    return path if dist.main else None


# ----------------------------------------------------------------------------------------------
# Data and model set-up


def _data_items(tcfg, kind: str, data) -> list[str]:
    if data:
        return list(data) if isinstance(data, (list, tuple)) else [s for s in str(data).split(",") if s.strip()]
    if tcfg.data:
        return list(tcfg.data)
    return DEFAULT_PRETRAIN_DATA if kind == "pretrain" else DEFAULT_SFT_DATA


def _init_model_dir(cfg, out_dir: Path, dist: Dist, texts: list[str] | None) -> Path:
    """A fresh tiny model (tokenizer trained on `texts`), built once by rank 0 and reused on resume."""
    from seekmath.model_cli import init_model
    from seekmath.models import is_checkpoint

    init_dir = out_dir / "init"
    if dist.main and not is_checkpoint(init_dir):
        init_model(cfg, init_dir, texts=texts)
    dist.barrier()
    return init_dir


def build_streams(cfg, kind: str, tokenizer, tcfg, data_items: list[str], sources=None):
    """(training stream, held-out rows) for the stage."""
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if kind == "pretrain":
        stream = PackedTextStream(sources, tokenizer, tcfg.seq_len, seed=tcfg.seed, n_eval=tcfg.eval_documents,
                                  doc_isolation=tcfg.doc_isolation)
        return stream, stream.eval_rows(tcfg.eval_sequences)
    n = tcfg.num_examples or None
    examples: list = []
    for spec, _w in parse_data_spec(data_items):
        examples.extend(load_sft_examples(spec, cfg, tcfg.formats, n=n, split="train", seed=tcfg.seed))
    train = tokenize_examples(examples, tokenizer, tcfg.seq_len)
    # held out: the synthetic test split when training on synthetic data, else a share of the examples
    # (at most eval_documents, at most 10%) that training then never sees
    if any(spec == "synthetic" for spec, _ in parse_data_spec(data_items)):
        held = load_sft_examples("synthetic", cfg, tcfg.formats, n=tcfg.eval_documents, split="test", seed=tcfg.seed)
        held_tok = tokenize_examples(held, tokenizer, tcfg.seq_len)
    else:
        k = min(tcfg.eval_documents, len(train) // 10)
        held_tok, train = (train[-k:], train[:-k]) if k else ([], train)
    stream = PackedSFTStream(train, tcfg.seq_len, pad_id, seed=tcfg.seed, doc_isolation=tcfg.doc_isolation)
    return stream, sft_eval_rows(held_tok, tcfg.seq_len, pad_id, tcfg.eval_sequences, tcfg.doc_isolation)


# ----------------------------------------------------------------------------------------------
# Plot


def plot_loss(out_dir: Path) -> Path | None:
    rows = read_metrics(out_dir)
    train = [(r["step"], r["loss"]) for r in rows if "loss" in r]
    evals = [(r["step"], r["eval_loss"]) for r in rows if "eval_loss" in r]
    if not train and not evals:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    if train:
        ax.plot(*zip(*train), label="train loss", lw=1)
    if evals:
        ax.plot(*zip(*evals), "o-", label="held-out loss")
    ax.set_xlabel("step")
    ax.set_ylabel("token cross-entropy")
    ax.set_title(out_dir.name)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = out_dir / "loss.png"
    tmp = out_dir / ".loss.png.tmp.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
    return path


# ----------------------------------------------------------------------------------------------
# The stage


def train_stage(cfg, kind: str, out_dir: str | Path, *, model_path: str | Path | None = None, data=None,
                resume: bool = False) -> Path:
    """Train `kind` ("pretrain" | "sft") and return `out_dir/final` (HF model + tokenizer).

    model: `model_path`, else cfg.model.name_or_path, else a fresh tiny model built in `out_dir/init`
    (for pretraining its tokenizer is trained on a sample of the pretraining text). data: `data`
    (list or comma-joined `SOURCE@WEIGHT`), else the section's `data`, else the embedded default.
    """
    if kind not in ("pretrain", "sft"):
        raise ValueError(f"kind must be 'pretrain' or 'sft', not {kind!r}")
    tcfg = cfg.pretrain if kind == "pretrain" else cfg.sft
    out_dir = Path(out_dir)
    dist = Dist(cfg.model.device)
    try:
        return _train(cfg, kind, tcfg, out_dir, dist, model_path, data, resume)
    finally:
        dist.close()


def tokenizer_sample(cfg, sources) -> list[str]:
    """Documents the fresh tokenizer is trained on: a round-robin sample of the pretraining sources."""
    n = cfg.tokenizer.train_documents
    out: list[str] = []
    i = 0
    while len(out) < n and any(i < len(texts) for _, texts, _ in sources):
        for _, texts, _ in sources:
            if i < len(texts) and len(out) < n:
                out.append(texts[i])
        i += 1
    return out


def _train(cfg, kind, tcfg, out_dir, dist, model_path, data, resume) -> Path:
    from seekmath.models import load_model, load_tokenizer

    if dist.main:
        prepare_stage_dir(out_dir, cfg)
    dist.barrier()
    set_threads(cfg.run.threads)
    device = dist.device
    precision = resolve_precision(tcfg.precision, device)
    if tcfg.batch_size % dist.world:
        raise ValueError(f"{kind}.batch_size {tcfg.batch_size} is not divisible by the {dist.world} processes")
    per_rank = tcfg.batch_size // dist.world
    micro = tcfg.micro_batch_size or per_rank
    if per_rank % micro:
        raise ValueError(f"{kind}.micro_batch_size {micro} does not divide the per-process batch {per_rank}")

    lora = getattr(tcfg, "lora", None)  # sft.lora (seekmath.lora); pretraining has none
    lora = lora if lora is not None and lora.enabled else None
    if lora is not None:
        from seekmath.lora import validate_lora

        validate_lora(lora, kind)
        if dist.world > 1 and tcfg.distributed == "fsdp":
            raise ValueError(f"{kind}.lora.enabled under torchrun: use {kind}.distributed=ddp (FSDP2 with LoRA adapters is not supported)")
    items = _data_items(tcfg, kind, data)
    sources = None
    if kind == "pretrain":
        sources = [(spec, load_text_source(spec, cfg, tcfg.text_field), w) for spec, w in parse_data_spec(items)]

    ckpt = latest_checkpoint(out_dir) if resume else None
    if resume and ckpt is None:
        log.info("--resume: no checkpoint in %s, starting from the beginning", out_dir / "checkpoints")
    if model_path:
        base = Path(model_path) if Path(str(model_path)).exists() else model_path
    elif cfg.model.name_or_path:
        base = cfg.model.name_or_path
    else:
        base = _init_model_dir(cfg, out_dir, dist, tokenizer_sample(cfg, sources) if sources else None)
    sharded = ckpt is not None and (ckpt / SHARDED_DIR).is_dir()
    if sharded and tcfg.distributed != "fsdp":
        raise ValueError(f"{ckpt} holds FSDP2 shards; resume it with {kind}.distributed=fsdp")
    source = base if sharded or ckpt is None or lora is not None else ckpt  # shards are loaded after wrapping
    if lora is not None:
        from seekmath.lora import apply_lora, check_target_modules

        check_target_modules(lora, base, kind)
    tokenizer = load_tokenizer(ckpt or base)
    # fp32 master weights whatever model.dtype says: AdamW on bf16 weights loses small updates;
    # bf16 compute comes from autocast (precision: bf16)
    model = load_model(source, dtype="float32", device=str(device))
    model.config.use_cache = False
    if tcfg.doc_isolation:  # the same attention as sdpa's block-diagonal mask, without computing the masked blocks
        from seekmath.train.packed_attention import use_packed_attention

        use_packed_attention(model)
    if tcfg.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if lora is not None:  # a checkpoint of a LoRA run is its adapter (PEFT format) + the trainer state
        model = apply_lora(model, lora, ckpt, seed=tcfg.seed)
    model.train()

    stream, eval_rows = build_streams(cfg, kind, tokenizer, tcfg, items, sources)
    model, fsdp = wrap_distributed(model, tcfg.distributed, dist, precision=precision)
    optimizer = make_optimizer(model, tcfg)
    scheduler = make_scheduler(optimizer, tcfg, tcfg.max_steps)
    start_step = 0
    torch.manual_seed(tcfg.seed)
    if ckpt is not None:
        state = torch.load(ckpt / STATE_FILE, map_location="cpu", weights_only=False)
        if sharded:
            load_sharded(ckpt / SHARDED_DIR, model, optimizer)
        elif fsdp:
            from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

            set_optimizer_state_dict(model, optimizer, state["optimizer"],
                                     options=StateDictOptions(full_state_dict=True))
        else:
            optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        stream.load_state_dict(state["data"])
        set_rng_state(state["rng"])
        start_step = int(state["step"])
        log.info("resumed from %s (step %d)", ckpt, start_step)

    metrics = MetricsLogger(out_dir, resume_from_step=start_step + 1 if ckpt is not None else None) if dist.main else None
    if dist.main:
        log.info("%s: %d steps x %d rows x %d tokens, %d process(es), micro-batch %d, %s, data %s", kind, tcfg.max_steps,
                 tcfg.batch_size, tcfg.seq_len, dist.world, micro, precision, items)
    if start_step == 0:
        init_eval = evaluate_loss(model, eval_rows, device, precision)
        if metrics:
            metrics.log(0, eval_loss=init_eval)
            log.info("held-out loss at initialisation: %.4f", init_eval)

    pbar = None
    if dist.main:
        from tqdm.auto import tqdm

        pbar = tqdm(total=tcfg.max_steps, initial=start_step, desc=kind, unit="step", dynamic_ncols=True,
                    disable=os.environ.get("SEEKMATH_NO_PROGRESS") == "1")
    last_eval = None
    step = start_step
    for step in range(start_step, tcfg.max_steps):
        t0 = time.perf_counter()
        rows = [stream.next_row() for _ in range(tcfg.batch_size)]  # the same global batch on every process
        global_targets = sum(r.num_targets() for r in rows)
        mine = rows[dist.rank * per_rank: (dist.rank + 1) * per_rank]
        loss_sum = 0.0
        n_micro = per_rank // micro
        for m in range(n_micro):
            batch = collate(mine[m * micro: (m + 1) * micro], device)
            with gradient_sync(model, enabled=m == n_micro - 1):  # one gradient reduction per step
                with autocast_context(precision, device):
                    logits = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"],
                                   use_cache=False).logits
                s, _ = token_loss_sum(logits, batch["labels"])
                # mean over the *global* batch's targets; DDP/FSDP2 average over processes, hence x world
                (s * (dist.world / max(1, global_targets))).backward()
            loss_sum += float(s.detach())
        grad_norm = clip_grad_norm(model, tcfg.grad_clip)
        lr = scheduler.get_last_lr()[0]
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        loss = dist.sum(loss_sum) / max(1, global_targets)
        if not math.isfinite(loss):
            raise FloatingPointError(f"{kind}: loss became {loss} at step {step + 1}")
        dt = time.perf_counter() - t0
        done = step + 1
        row_metrics: dict[str, Any] = {}
        if tcfg.eval_every and done % tcfg.eval_every == 0 and done < tcfg.max_steps:
            last_eval = evaluate_loss(model, eval_rows, device, precision)
            row_metrics["eval_loss"] = last_eval
        if metrics and (done % max(1, tcfg.log_every) == 0 or done == tcfg.max_steps or row_metrics):
            metrics.log(done, loss=loss, lr=lr, grad_norm=grad_norm, tokens_per_s=tcfg.batch_size * tcfg.seq_len / dt,
                        targets=global_targets, step_time=dt, **row_metrics)
        if pbar is not None:
            pbar.update(1)
            pbar.set_postfix(loss=f"{loss:.3f}", lr=f"{lr:.2e}")
        if tcfg.save_every and done % tcfg.save_every == 0 and done < tcfg.max_steps:
            save_checkpoint(out_dir, done, model, tokenizer, optimizer, scheduler, stream, dist, tcfg.keep_checkpoints, fsdp)
    if pbar is not None:
        pbar.close()

    final_eval = evaluate_loss(model, eval_rows, device, precision)
    if tcfg.max_steps > start_step or not list_checkpoints(out_dir):
        save_checkpoint(out_dir, tcfg.max_steps, model, tokenizer, optimizer, scheduler, stream, dist,
                        tcfg.keep_checkpoints, fsdp)
    final = out_dir / "final"
    model_sd = full_model_state(model, fsdp) if fsdp else None
    if dist.main:
        with atomic_dir(final) as tmp:
            if lora is not None:  # sft.lora.save: merged (a normal HF folder, what rl and eval load) | adapter
                from seekmath.lora import save_final

                save_final(unwrap(model), tokenizer, tmp, lora.save)
            else:
                kwargs = {"state_dict": model_sd} if model_sd is not None else {}
                unwrap(model).save_pretrained(tmp, safe_serialization=True, **kwargs)
                tokenizer.save_pretrained(tmp)
        assert metrics is not None
        metrics.log(tcfg.max_steps, eval_loss=final_eval)
        metrics.close()
        summary = {"kind": kind, "steps": tcfg.max_steps, "final_eval_loss": final_eval, "processes": dist.world,
                   "precision": precision, "data": items}
        if kind == "pretrain" and hasattr(stream, "token_shares"):
            summary["token_shares"] = stream.token_shares()
        init_rows = [r for r in read_metrics(out_dir) if r.get("step") == 0 and "eval_loss" in r]
        if init_rows:
            summary["init_eval_loss"] = init_rows[0]["eval_loss"]
        atomic_write_json(out_dir / "train_summary.json", summary)
        plot_loss(out_dir)
        log.info("%s done: held-out loss %.4f -> %s", kind, final_eval, final)
    dist.barrier()
    return final
