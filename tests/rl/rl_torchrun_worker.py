"""Run by test_rl_distributed.py under `torchrun --nproc-per-node 2`: `seekmath rl` (the CLI that
`torchrun -m seekmath rl` runs) with DDP, with FSDP2, and with FSDP2 stopped after step 1 and resumed,
in one launch (process start-up dominates on CPU; the stages share the process group as the recipe's
stages do). argv: MODEL_DIR OUT_DIR OVERRIDES..."""

import sys

import torch

from seekmath.cli import main


def run(*args: str) -> None:
    rc = main(["rl", "--config", "smoke", "--model", sys.argv[1], *args, *sys.argv[3:]])
    if rc != 0:
        raise SystemExit(f"seekmath rl {args} exited with {rc}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    out = sys.argv[2]
    run("--out", f"{out}/ddp", "rl.distributed=ddp")
    run("--out", f"{out}/fsdp", "rl.distributed=fsdp")
    run("--out", f"{out}/fsdp-resume", "--stop-after", "1", "rl.distributed=fsdp")
    run("--out", f"{out}/fsdp-resume", "--resume", "rl.distributed=fsdp")
