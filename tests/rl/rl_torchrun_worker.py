"""Run by test_rl_distributed.py under `torchrun --nproc-per-node 2`: `seekmath rl` (the CLI that
`torchrun -m seekmath rl` runs) with DDP, with FSDP2, and with FSDP2 stopped after step 1 and resumed,
then one update with uneven shares (rank 0: 2 micro-batches, rank 1: 1 and an idle one), in one launch
(process start-up dominates on CPU; the stages share the process group as the recipe's stages do).
argv: MODEL_DIR OUT_DIR OVERRIDES..."""

import json
import sys

import torch

from seekmath.cli import main


def uneven_rollout():
    """3 groups of 2 outputs and their advantages (shared with the one-process reference in the test)."""
    from seekmath.rl.rollout import GroupedRollout

    g = torch.Generator().manual_seed(5)
    comps = [torch.randint(3, 500, (int(torch.randint(1, 6, (1,), generator=g)),), generator=g).tolist() for _ in range(6)]
    rollout = GroupedRollout([[1, 40, 41], [1, 50], [1, 60, 61, 62]], comps, [0, 0, 1, 1, 2, 2], 0)
    return rollout, torch.randn(6, generator=g)


def uneven_update(model_dir: str, out: str) -> None:
    """One train_on_batch per mode; rank 0 holds groups 0-1 (2 micro-batches of 2), rank 1 group 2."""
    from seekmath.config import load_config
    from seekmath.distributed import Dist, wrap_distributed
    from seekmath.models import load_model
    from seekmath.rl.grpo import train_on_batch
    from seekmath.rl.rollout import GroupedRollout, TokenScorer

    rl = load_config("smoke", ["rl.micro_batch_size=2", "rl.mu=1"]).rl
    dist = Dist("cpu")
    rollout, adv = uneven_rollout()
    rows = range(0, 4) if dist.rank == 0 else range(4, 6)
    mine = GroupedRollout(rollout.prompts, [rollout.completions[i] for i in rows], [rollout.owner[i] for i in rows], 0)
    for mode in ("ddp", "fsdp"):
        scorer, _ = wrap_distributed(TokenScorer(load_model(model_dir, dtype="float32", device="cpu")), mode, dist)
        opt = torch.optim.SGD(scorer.parameters(), lr=0.0)
        stats = train_on_batch(scorer, opt, mine, adv[list(rows)], ref_logp=None, rl=rl, algorithm="online_rft", dist=dist)
        if dist.main:
            with open(f"{out}/uneven-{mode}.json", "w") as f:
                json.dump(stats, f)


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
    uneven_update(sys.argv[1], out)
