"""`torchrun --nproc-per-node 2` (gloo on CPU) trains exactly like one process with the same global batch:
DDP and FSDP2, compared in loss, pre-clip gradient norm and weights; FSDP2's sharded checkpoint resumes
bit-identically on the same number of processes."""

from pathlib import Path

import pytest
import torch

from seekmath.config import load_config
from seekmath.train.trainer import train_stage

from run_compare import assert_same_training, steps, weights

# 2 rows per process in micro-batches of 1: gradient accumulation and the once-per-step sync are both on
# the path; a multistep schedule with warm-up makes the lr vary by step (resume must restore it)
OVERRIDES = ["run.threads=1", "pretrain.batch_size=4", "pretrain.micro_batch_size=1", "pretrain.seq_len=64",
             "pretrain.max_steps=4", "pretrain.eval_sequences=2", "pretrain.precision=fp32"]


@pytest.mark.slow  # ~60-90 s on the shared 2-core CPU; fast variants: test_fsdp.py, test_trainer.py's accumulation test
def test_two_processes_equal_one_ddp_and_fsdp(tmp_path, tiny_model_dir, torchrun):
    torchrun(Path(__file__).with_name("torchrun_worker.py"), tiny_model_dir, tmp_path, *OVERRIDES)
    train_stage(load_config("smoke", [*OVERRIDES, "pretrain.save_every=0"]), "pretrain", tmp_path / "one", model_path=tiny_model_dir)
    assert_same_training(tmp_path / "ddp", tmp_path / "one")
    assert_same_training(tmp_path / "fsdp", tmp_path / "one")
    # sharded checkpoints: every process wrote its shard; resuming from step 2 is bit-identical
    assert list((tmp_path / "fsdp-resume" / "checkpoints" / "step-000002" / "dcp").glob("*.distcp"))
    a, b = weights(tmp_path / "fsdp-resume"), weights(tmp_path / "fsdp")
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert [(r["step"], r["loss"]) for r in steps(tmp_path / "fsdp-resume")] == [(r["step"], r["loss"]) for r in steps(tmp_path / "fsdp")]
