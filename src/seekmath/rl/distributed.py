"""GRPO over many processes (`torchrun -m seekmath rl`): which groups a process samples and trains, with
which seeds, and the global totals that make N processes compute exactly what one process does.

- Each process holds a contiguous share of the step's groups (`rank_groups`). Advantages are
  per group, so a process holding whole groups computes them exactly as one process would.
- Sampling does not depend on the number of processes: groups are generated in calls of a fixed
  number of groups (`generation_calls`, at most rl.generation_batch_size rows) whose seed is a
  function of the step and of the call's first group (`call_seed`), never of the rank. The same
  call on one process or on eight draws the same tokens.
- The loss weights use the whole batch's denominators (`batch_totals`: outputs and tokens summed over
  processes), and every process scales its loss by the world size: DDP/FSDP2 average gradients, so the
  result is the one-process gradient.
- FSDP2 runs collectives inside every forward, so all processes run the same number of training
  forwards: one with fewer micro-batches runs `idle_micro_batch`es (zero loss) to catch up.
"""

from __future__ import annotations

import torch


def rank_groups(n_groups: int, world: int, rank: int) -> range:
    """The step's groups (questions) process `rank` samples and trains: a contiguous share."""
    if n_groups % world:
        raise ValueError(f"rl.prompts_per_step {n_groups} is not divisible by the {world} processes")
    k = n_groups // world
    return range(rank * k, (rank + 1) * k)


def generation_unit(group_size: int, generation_batch_size: int) -> int:
    """Groups per generation call: as many as fit in one generation batch (at least one)."""
    return max(1, generation_batch_size // group_size)


def generation_calls(groups: range, unit: int) -> list[range]:
    """`groups` cut at the global multiples of `unit`: the calls are the same whatever the split of the
    step's groups over processes, as long as each process's share is a multiple of `unit`."""
    out, start = [], groups.start
    while start < groups.stop:
        stop = min(groups.stop, (start // unit + 1) * unit)
        out.append(range(start, stop))
        start = stop
    return out


def call_seed(base: int, first_group: int) -> int:
    """Sampling seed of the generation call that starts at `first_group` (the first call keeps `base`)."""
    return (base + first_group * 2_654_435_761) % (2**31 - 1)


def batch_totals(mask: torch.Tensor, dist) -> tuple[int, float]:
    """(outputs, real completion tokens) of the whole step's batch, summed over processes."""
    t = dist.all_reduce([mask.shape[0], float(mask.sum())])
    return int(t[0]), float(t[1])


def idle_micro_batch(scorer, pad_id: int) -> None:
    """A forward/backward with zero loss on a two-token stand-in: it runs the same collectives as a real
    micro-batch (FSDP2 all-gathers and reduce-scatters, DDP's all-reduce) and adds nothing to any gradient."""
    from seekmath.rl.rollout import GroupedRollout, score_outputs

    stand_in = GroupedRollout([[pad_id]], [[pad_id, pad_id]], [0], pad_id)
    logp, _, _ = score_outputs(scorer, stand_in, None)
    (logp.sum() * 0.0).backward()
