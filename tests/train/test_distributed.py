"""`torchrun --nproc-per-node 2` (DDP over gloo on CPU) gives the losses of one process with the same global batch."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from seekmath.config import load_config
from seekmath.runs import read_metrics
from seekmath.train.trainer import train_stage

REPO = Path(__file__).resolve().parents[2]
OVERRIDES = ["run.threads=1", "pretrain.batch_size=4", "pretrain.seq_len=64", "pretrain.max_steps=4",
             "pretrain.save_every=0", "pretrain.eval_sequences=2"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # ~35-50 s on the shared 2-core CPU; the fast variant is test_global_batch_is_independent_of_micro_batches
def test_two_process_ddp_matches_one_process(tmp_path, tiny_model_dir):
    env = dict(os.environ, SEEKMATH_NO_PROGRESS="1", PYTHONPATH=str(REPO / "src"), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", "2",
           "--master-addr", "127.0.0.1", "--master-port", str(_free_port()),
           "-m", "seekmath", "pretrain", "--config", "smoke", "--model", str(tiny_model_dir),
           "--out", str(tmp_path / "ddp"), *OVERRIDES]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    train_stage(load_config("smoke", OVERRIDES), "pretrain", tmp_path / "one", model_path=tiny_model_dir)
    ddp = [r["loss"] for r in read_metrics(tmp_path / "ddp") if "loss" in r]
    one = [r["loss"] for r in read_metrics(tmp_path / "one") if "loss" in r]
    assert len(ddp) == len(one) == 4
    for a, b in zip(ddp, one):
        assert abs(a - b) < 1e-5, (ddp, one)
    assert (tmp_path / "ddp" / "final" / "model.safetensors").is_file()
