"""Run by test_rl_distributed.py under `torchrun --nproc-per-node 2`: the same RL run with DDP, then
with FSDP2, in one launch (process start-up dominates on CPU). argv: MODEL_DIR OUT_DIR OVERRIDES..."""

import sys
from pathlib import Path

import torch

from seekmath.config import load_config
from seekmath.rl.grpo import run_rl


def main() -> None:
    model_dir, out, overrides = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    torch.set_num_threads(1)
    torch.distributed.init_process_group("gloo")
    for mode in ("ddp", "fsdp"):
        run_rl(load_config("smoke", [*overrides, f"rl.distributed={mode}"]), model_dir, out / mode, progress=False)
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
