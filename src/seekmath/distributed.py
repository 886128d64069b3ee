"""Many processes, one implementation: process group, DDP / FSDP2 wrapping, gradient sync, clipping,
full and sharded state. Used by the pretrain/SFT trainer and by the RL stage.

    dist = Dist(cfg.model.device)                      # torchrun's WORLD_SIZE/RANK/LOCAL_RANK, or one process
    model, fsdp = wrap_distributed(model, "fsdp", dist, precision="bf16")
    for m, batch in enumerate(micro_batches):
        with gradient_sync(model, enabled=m == len(micro_batches) - 1):   # reduce once per step
            loss(batch).backward()
    grad_norm = clip_grad_norm(model, 1.0)              # pre-clip global norm, every parameter

The invariant both stages keep: every process scales its summed loss by world / global_denominator,
so DDP's (and FSDP2's) gradient average is exactly the one-process gradient of the global batch.
"""

from __future__ import annotations

import atexit
import contextlib
import os
from pathlib import Path

import torch


class Dist:
    """torchrun environment (WORLD_SIZE/RANK/LOCAL_RANK) or a single process."""

    def __init__(self, device_spec: str = "auto"):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        want_cuda = device_spec.startswith("cuda") or (device_spec == "auto" and torch.cuda.is_available())
        if want_cuda and self.world > 1:
            self.device = torch.device("cuda", self.local_rank)
            torch.cuda.set_device(self.device)
        elif want_cuda:
            self.device = torch.device(device_spec if device_spec.startswith("cuda") else "cuda")
        else:
            self.device = torch.device("cpu")
        self.initialised_here = False  # a private one-process group (ensure_group), destroyed by close()
        if self.world > 1 and not torch.distributed.is_initialized():
            # kept until the process exits: a later stage of the same torchrun process (the recipe) reuses
            # it; destroying and re-creating the default group in one launch races on the store's
            # rendezvous keys (a process can connect to the other's closed socket)
            torch.distributed.init_process_group(backend=self.backend)
            atexit.register(_destroy_default_group)

    @classmethod
    def one_process(cls, device: str = "cpu") -> "Dist":
        """A single process whatever the environment says (callers that run one process's work)."""
        d = cls.__new__(cls)
        d.world, d.rank, d.local_rank, d.device, d.initialised_here = 1, 0, 0, torch.device(device), False
        return d

    @property
    def backend(self) -> str:
        return "nccl" if self.device.type == "cuda" else "gloo"

    @property
    def main(self) -> bool:
        return self.rank == 0

    def ensure_group(self) -> None:
        """FSDP2 needs a process group even on one process: a private one-member group then."""
        if not torch.distributed.is_initialized():
            torch.distributed.init_process_group(self.backend, store=torch.distributed.HashStore(), rank=0, world_size=1)
            self.initialised_here = True

    def barrier(self) -> None:
        if self.world > 1:
            torch.distributed.barrier()

    def all_reduce(self, values, op: str = "sum") -> torch.Tensor:
        """Element-wise sum/max over processes of a float64 vector (a list or a tensor); returned on CPU."""
        t = torch.as_tensor(values, dtype=torch.float64).reshape(-1).clone()
        if self.world == 1:
            return t
        t = t.to(self.device)
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.SUM if op == "sum" else torch.distributed.ReduceOp.MAX)
        return t.cpu()

    def sum(self, value: float) -> float:
        return float(self.all_reduce([value])[0])

    def gather(self, obj) -> list:
        """[rank 0's obj, rank 1's obj, ...] on every process."""
        if self.world == 1:
            return [obj]
        out = [None] * self.world
        torch.distributed.all_gather_object(out, obj)
        return out

    def broadcast_object(self, obj):
        """Rank 0's `obj` on every process."""
        if self.world == 1:
            return obj
        box = [obj]
        torch.distributed.broadcast_object_list(box, src=0)
        return box[0]

    def close(self) -> None:
        if self.initialised_here and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def _destroy_default_group() -> None:
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def unwrap(model):
    """The HF module inside a DDP wrapper (FSDP2 shards in place: the module is its own wrapper)."""
    return model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model


def is_fsdp(model) -> bool:
    from torch.distributed.fsdp import FSDPModule

    return isinstance(model, FSDPModule)


def decoder_layers(model) -> list[torch.nn.Module]:
    """The transformer blocks (one FSDP2 unit each): the classes the HF model(s) inside list as `_no_split_modules`."""
    names = {n for m in model.modules() for n in (getattr(m, "_no_split_modules", None) or [])}
    layers = [m for m in model.modules() if type(m).__name__ in names]
    if not layers:
        raise ValueError(f"{type(model).__name__}: no decoder layers found to shard (its _no_split_modules is {sorted(names)})")
    return layers


def wrap_distributed(model, mode: str, dist: Dist, *, precision: str = "fp32"):
    """(wrapped model, sharded?) for `mode` = ddp | fsdp; one process with ddp leaves the model as is.

    fsdp: FSDP2 `fully_shard` per decoder layer, then the root (embeddings, final norm, LM head). With
    precision bf16 the parameters are all-gathered and computed in bf16 while the sharded fp32 copy
    stays the optimizer's master and gradients are reduced in fp32 (MixedPrecisionPolicy).
    ddp: fp32 weights replicated; bf16 compute comes from autocast; gradients are fp32.
    """
    if mode not in ("ddp", "fsdp"):
        raise ValueError(f"distributed must be ddp or fsdp, not {mode!r}")
    if mode == "fsdp":
        from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

        dist.ensure_group()
        mp = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32) if precision == "bf16" else MixedPrecisionPolicy()
        for layer in decoder_layers(model):
            fully_shard(layer, mp_policy=mp)
        fully_shard(model, mp_policy=mp)
        return model, True
    if dist.world == 1:
        return model, False
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [dist.device.index] if dist.device.type == "cuda" else None
    return DDP(model, device_ids=ids), False


@contextlib.contextmanager
def gradient_sync(model, enabled: bool):
    """Backward passes inside reduce gradients over processes only when `enabled` (the last micro-batch
    of a step); otherwise they accumulate locally (DDP no_sync / FSDP2 set_requires_gradient_sync)."""
    if enabled:
        yield
    elif isinstance(model, torch.nn.parallel.DistributedDataParallel):
        with model.no_sync():
            yield
    elif is_fsdp(model):
        model.set_requires_gradient_sync(False)
        try:
            yield
        finally:
            model.set_requires_gradient_sync(True)
    else:
        yield


def clip_grad_norm(model, max_norm: float) -> float:
    """Clip every trainable parameter's gradient to a global norm of `max_norm` (0 = no clipping) and
    return the norm before clipping.

    The parameter list is taken here, after the backward, on purpose: after a forward without backward
    (an evaluation) FSDP2 leaves the root module's unsharded tensors registered, and a list taken then
    holds tensors that never receive a .grad (embeddings, final norm, LM head: never clipped, missing
    from the norm). After the backward every parameter is the sharded one again.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm if max_norm > 0 else float("inf"))
    if hasattr(norm, "full_tensor"):  # FSDP2: a DTensor (the shards' norms combined over processes)
        norm = norm.full_tensor()
    return float(norm)


# ----------------------------------------------------------------------------------------------
# State


def full_model_state(model, fsdp: bool) -> dict:
    """The full (unsharded) state dict for save_pretrained: gathered on rank 0, on CPU, when sharded (a
    collective: every process calls it; the others get {}). Gathered tensors no longer share storage, so
    the second name of tied weights (an LM head tied to the embeddings) is dropped, as HF saves them."""
    if not fsdp:
        return dict(unwrap(model).state_dict())
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    sd = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    tied = {n for n, _ in model.named_parameters(remove_duplicate=False)} - {n for n, _ in model.named_parameters()}
    return {k: v for k, v in sd.items() if k not in tied}


@torch.no_grad()
def copy_full_weights(sharded, full) -> None:
    """Copy a (maybe FSDP2-sharded) module's parameters into an unsharded copy of it, one tensor at a
    time: the peak is one gathered tensor, not a gathered model (a collective: every process calls it).
    The copy may be in another dtype (a bf16 rollout copy of fp32 masters)."""
    src = dict(sharded.named_parameters())
    for name, q in full.named_parameters():
        p = src[name]
        q.copy_(p.full_tensor() if hasattr(p, "full_tensor") else p)


@contextlib.contextmanager
def shared_atomic_dir(path: Path, dist: Dist):
    """runs.atomic_dir for a folder every process writes into: one temp folder (named by rank 0),
    renamed into place by rank 0 once all processes are done."""
    from seekmath.runs import atomic_dir

    if dist.world == 1:
        with atomic_dir(path) as tmp:
            yield tmp
        return
    if dist.main:
        with atomic_dir(path) as tmp:
            dist.broadcast_object(str(tmp))
            yield tmp
            dist.barrier()
    else:
        tmp = Path(dist.broadcast_object(None))
        yield tmp
        dist.barrier()
    dist.barrier()  # the rename is done before anyone reads the folder


def save_sharded(path: Path, model, optimizer) -> None:
    """Model and optimizer state with torch.distributed.checkpoint: each process writes its own shards
    (no full copy is ever gathered); `path` must be the same folder on every process."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict

    model_sd, optim_sd = get_state_dict(model, optimizer)
    dcp.save({"model": model_sd, "optimizer": optim_sd}, checkpoint_id=str(path))


def load_sharded(path: Path, model, optimizer) -> None:
    """Inverse of save_sharded, in place (the model is already wrapped the same way)."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

    model_sd, optim_sd = get_state_dict(model, optimizer)
    state = {"model": model_sd, "optimizer": optim_sd}
    dcp.load(state, checkpoint_id=str(path))
    set_state_dict(model, optimizer, model_state_dict=state["model"], optim_state_dict=state["optimizer"])

