"""The training loop end to end on the smoke config: outputs, accumulation invariance, exact resume after SIGKILL."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from seekmath.config import load_config
from seekmath.runs import read_metrics
from seekmath.train.trainer import list_checkpoints, train_stage

from run_compare import assert_same_training

REPO = Path(__file__).resolve().parents[2]
FAST = ["run.threads=1", "pretrain.batch_size=4", "pretrain.seq_len=64", "pretrain.eval_sequences=2"]


def _weights(d: Path) -> dict:
    return load_file(str(d / "model.safetensors"))


def test_pretrain_then_sft_outputs(tmp_path, tiny_model_dir):
    cfg = load_config("smoke", FAST + ["pretrain.max_steps=6", "pretrain.save_every=2", "pretrain.keep_checkpoints=2",
                                       "pretrain.eval_every=3", "sft.max_steps=3", "sft.batch_size=2", "run.threads=1"])
    final = train_stage(cfg, "pretrain", tmp_path / "pre", model_path=tiny_model_dir)
    assert (final / "model.safetensors").is_file() and (final / "tokenizer.json").is_file()
    rows = read_metrics(tmp_path / "pre")
    steps = [r for r in rows if "loss" in r]
    assert [r["step"] for r in steps] == list(range(1, 7))
    assert all({"loss", "lr", "grad_norm", "tokens_per_s"} <= r.keys() for r in steps)
    evals = [r["step"] for r in rows if "eval_loss" in r]
    assert evals[0] == 0 and 3 in evals and evals[-1] == 6
    assert [p.name for p in list_checkpoints(tmp_path / "pre")] == ["step-000004", "step-000006"]  # keep 2
    assert (tmp_path / "pre" / "loss.png").stat().st_size > 1000
    assert list((tmp_path / "pre" / "tb").iterdir())
    summary = json.loads((tmp_path / "pre" / "train_summary.json").read_text())
    assert set(summary["token_shares"]) == {"synthetic", "filler"}
    sft_final = train_stage(cfg, "sft", tmp_path / "sft", model_path=final)
    assert (sft_final / "model.safetensors").is_file()
    assert json.loads((tmp_path / "sft" / "train_summary.json").read_text())["steps"] == 3


def test_pretraining_lowers_held_out_loss(tmp_path, tiny_model_dir):
    cfg = load_config("smoke", ["run.threads=1", "pretrain.max_steps=25", "pretrain.lr=3.0e-3", "pretrain.save_every=0",
                                "pretrain.batch_size=8", "pretrain.seq_len=128"])
    train_stage(cfg, "pretrain", tmp_path / "pre", model_path=tiny_model_dir)
    s = json.loads((tmp_path / "pre" / "train_summary.json").read_text())
    assert s["final_eval_loss"] < s["init_eval_loss"] - 1.0, s


def test_global_batch_is_independent_of_micro_batches(tmp_path, tiny_model_dir):
    """Accumulating 4 micro-batches of 1 equals one batch of 4 (the same normalisation DDP relies on):
    losses, pre-clip gradient norms and weights. A missing `/ accumulation` leaves the losses equal
    (they are computed apart from the backward) and Adam almost undoes the scale: the norm catches it."""
    for micro in (4, 1):
        cfg = load_config("smoke", FAST + ["pretrain.max_steps=4", "pretrain.save_every=0", f"pretrain.micro_batch_size={micro}",
                                           "pretrain.precision=fp32"])  # auto is bf16 on a native-bf16 CPU: 1e-4 apart
        train_stage(cfg, "pretrain", tmp_path / f"m{micro}", model_path=tiny_model_dir)
    assert len([r for r in read_metrics(tmp_path / "m4") if "loss" in r]) == 4
    assert_same_training(tmp_path / "m1", tmp_path / "m4")


def test_sigkill_then_resume_gives_bit_identical_weights(tmp_path):
    overrides = FAST + ["pretrain.max_steps=30", "pretrain.save_every=5", "pretrain.keep_checkpoints=3"]
    killed = tmp_path / "killed"
    env = dict(os.environ, SEEKMATH_NO_PROGRESS="1", PYTHONPATH=str(REPO / "src"))
    proc = subprocess.Popen([sys.executable, "-m", "seekmath", "pretrain", "--config", "smoke", "--out", str(killed),
                             *overrides], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    try:
        while not (killed / "checkpoints" / "step-000010").is_dir():
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.time() < deadline, "no checkpoint within 180 s"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (killed / "final").exists(), "the run finished before SIGKILL; nothing was tested"
    cfg = load_config("smoke", overrides)
    train_stage(cfg, "pretrain", killed, resume=True)
    ref = tmp_path / "ref"
    train_stage(cfg, "pretrain", ref)
    a, b = _weights(killed / "final"), _weights(ref / "final")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # metrics hold each step once, losses equal to the uninterrupted run's
    la = [(r["step"], r["loss"]) for r in read_metrics(killed) if "loss" in r]
    lb = [(r["step"], r["loss"]) for r in read_metrics(ref) if "loss" in r]
    assert la == lb


def test_cli_errors_are_clear(tmp_path, capsys):
    from seekmath.cli import main

    rc = main(["pretrain", "--config", "smoke", "--out", str(tmp_path / "x"), "--data", str(tmp_path / "nope"),
               "run.threads=1"])
    assert rc == 2
    assert "no such file or folder" in capsys.readouterr().err
    with pytest.raises(ValueError, match="not divisible by"):
        cfg = load_config("smoke", ["pretrain.batch_size=3"])
        os.environ["WORLD_SIZE"] = "2"
        try:
            from seekmath.train.trainer import Dist, _train

            class FakeDist(Dist):
                def __init__(self):
                    self.world, self.rank, self.local_rank, self.device = 2, 0, 0, torch.device("cpu")
                    self.initialised_here = False

                def barrier(self):
                    pass

            _train(cfg, "pretrain", cfg.pretrain, tmp_path / "y", FakeDist(), None, None, False)
        finally:
            del os.environ["WORLD_SIZE"]


def test_auto_precision_is_bf16_only_where_the_device_computes_it_natively(monkeypatch):
    from seekmath.train.trainer import resolve_precision

    cpu = torch.device("cpu")
    for avx512_bf16, amx, expected in ((False, False, "fp32"), (True, False, "bf16"), (False, True, "bf16")):
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda v=avx512_bf16: v, raising=False)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda v=amx: v, raising=False)
        assert resolve_precision("auto", cpu) == expected
        assert resolve_precision("fp32", cpu) == "fp32"  # an explicit choice is kept
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported")  # a torch without the probes: fp32
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported")
    assert resolve_precision("auto", cpu) == "fp32"
    with pytest.raises(ValueError, match="fp16"):
        resolve_precision("fp16", cpu)
