"""Run by test_distributed.py under `torchrun --nproc-per-node 2`: several trainer runs in one launch
(process start-up dominates on CPU). argv: MODEL_DIR OUT_DIR OVERRIDES...

    ddp          DDP, 2 micro-batches per process (exercises no_sync)
    fsdp         FSDP2, same, sharded checkpoints every 2 steps
    fsdp-resume  a copy of fsdp cut back to its step-2 shards (as if killed there), resumed
"""

import shutil
import sys
from pathlib import Path

import torch

from seekmath.config import load_config
from seekmath.train.trainer import train_stage


def main() -> None:
    model_dir, out, overrides = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
    torch.set_num_threads(1)
    for name, mode in (("ddp", "ddp"), ("fsdp", "fsdp")):
        cfg = load_config("smoke", [*overrides, f"pretrain.distributed={mode}", "pretrain.save_every=2"])
        train_stage(cfg, "pretrain", out / name, model_path=model_dir)
    if torch.distributed.get_rank() == 0:  # "killed" after step 2: drop what came later (the stages share one group)
        shutil.copytree(out / "fsdp", out / "fsdp-resume")
        shutil.rmtree(out / "fsdp-resume" / "final")
        for ck in (out / "fsdp-resume" / "checkpoints").glob("step-*"):
            if ck.name != "step-000002":
                shutil.rmtree(ck)
    torch.distributed.barrier()
    cfg = load_config("smoke", [*overrides, "pretrain.distributed=fsdp", "pretrain.save_every=2"])
    train_stage(cfg, "pretrain", out / "fsdp-resume", model_path=model_dir, resume=True)


if __name__ == "__main__":
    main()
