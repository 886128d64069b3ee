"""FSDP2 (fully_shard) in the trainer, on CPU over gloo: every parameter is clipped and counted in grad_norm."""

import pytest
import torch
from safetensors.torch import load_file

from seekmath.config import load_config
from seekmath.runs import read_metrics
from seekmath.train.trainer import train_stage

# grad_clip far below the gradient norm: clipping is active at every step, so a parameter left out of
# the clipped list gets a 1/clip-times larger update than the others
OVERRIDES = ["run.threads=1", "pretrain.batch_size=4", "pretrain.seq_len=64", "pretrain.max_steps=3",
             "pretrain.save_every=0", "pretrain.eval_sequences=2", "pretrain.grad_clip=0.05", "pretrain.precision=fp32"]


def _run(tmp_path, name, model_dir, extra):
    train_stage(load_config("smoke", OVERRIDES + extra), "pretrain", tmp_path / name, model_path=model_dir)
    rows = [r for r in read_metrics(tmp_path / name) if "loss" in r]
    return rows, load_file(str(tmp_path / name / "final" / "model.safetensors"))


def test_fsdp_clips_every_parameter(tmp_path, tiny_model_dir, one_process_group):
    """The initial held-out evaluation runs a forward before the first step; FSDP2 then leaves the root
    module's unsharded tensors (embeddings, final norm, LM head) registered. A parameter list taken at
    that moment holds tensors that never get a .grad: those were neither clipped nor in grad_norm."""
    fsdp_rows, fsdp_w = _run(tmp_path, "fsdp", tiny_model_dir, ["pretrain.distributed=fsdp"])
    torch.distributed.barrier()
    plain_rows, plain_w = _run(tmp_path, "plain", tiny_model_dir, ["pretrain.distributed=ddp"])
    assert len(fsdp_rows) == len(plain_rows) == 3
    for a, b in zip(fsdp_rows, plain_rows):
        assert abs(a["grad_norm"] - b["grad_norm"]) <= 1e-5 * b["grad_norm"], (a["grad_norm"], b["grad_norm"])
        assert abs(a["loss"] - b["loss"]) < 1e-5
    assert fsdp_w.keys() == plain_w.keys()
    for k in plain_w:
        assert torch.allclose(fsdp_w[k], plain_w[k], atol=1e-6, rtol=0), (k, float((fsdp_w[k] - plain_w[k]).abs().max()))


def _tiny_pair(model_dir):
    from seekmath.models import load_model

    torch.manual_seed(0)
    return load_model(model_dir, dtype="float32", device="cpu"), load_model(model_dir, dtype="float32", device="cpu")


def _loss(model, ids):
    return model(input_ids=ids, use_cache=False).logits.float().logsumexp(-1).mean()


def test_fsdp_gradient_sync_waits_for_the_last_micro_batch(tiny_model_dir, one_process_group):
    """Intermediate micro-batches accumulate unsharded gradients locally (no reduce-scatter, no sharded
    .grad yet); the last one reduces the sum, equal to the plain model's accumulated gradient."""
    from seekmath.distributed import Dist, clip_grad_norm, gradient_sync, wrap_distributed

    sharded, plain = _tiny_pair(tiny_model_dir)
    sharded, fsdp = wrap_distributed(sharded, "fsdp", Dist("cpu"))
    assert fsdp
    g = torch.Generator().manual_seed(1)
    micro = [torch.randint(0, 500, (2, 12), generator=g) for _ in range(3)]
    for m, ids in enumerate(micro):
        with gradient_sync(sharded, enabled=m == len(micro) - 1):
            _loss(sharded, ids).backward()
        if m < len(micro) - 1:
            assert all(p.grad is None for p in sharded.parameters()), "a gradient was reduced before the last micro-batch"
        _loss(plain, ids).backward()
    assert clip_grad_norm(sharded, 0) == pytest.approx(clip_grad_norm(plain, 0), rel=1e-6)
    for (name, p), q in zip(sharded.named_parameters(), plain.parameters()):
        assert torch.allclose(p.grad.full_tensor(), q.grad, atol=1e-6), name


def test_fsdp_bf16_mixed_precision_keeps_fp32_masters(tiny_model_dir, one_process_group):
    """precision bf16: layers compute in bf16 while the sharded parameters (the optimizer's) and their
    gradients stay fp32."""
    from seekmath.distributed import Dist, wrap_distributed

    model, _ = _tiny_pair(tiny_model_dir)
    model, _ = wrap_distributed(model, "fsdp", Dist("cpu"), precision="bf16")
    seen = []
    hook = model.model.layers[0].mlp.register_forward_hook(lambda mod, inp, out: seen.append(out.dtype))
    _loss(model, torch.randint(0, 500, (2, 12))).backward()
    hook.remove()
    assert seen == [torch.bfloat16]
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert {p.grad.dtype for p in model.parameters()} == {torch.float32}
