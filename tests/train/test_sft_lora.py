"""sft.lora (seekmath.lora through train/trainer.py): adapter checkpoints, exact resume, merged or adapter final/."""

import torch

from seekmath.config import load_config


def test_sft_lora_resume_is_exact(tmp_path):
    """sft.lora: adapter checkpoints resume bit-identically; final/ is merged by default, adapter on request."""
    from safetensors.torch import load_file

    from seekmath.train.trainer import train_stage

    over = ["sft.lora.enabled=true", "sft.lora.r=4", "sft.save_every=0", "sft.lr=0.01", "sft.precision=fp32", "sft.num_examples=40",
            "sft.batch_size=4", "sft.seq_len=128", "sft.eval_sequences=2", "sft.eval_documents=8"]
    straight = train_stage(load_config("smoke", [*over, "sft.max_steps=4"]), "sft", tmp_path / "a")
    init = tmp_path / "a" / "init"
    half = load_config("smoke", [*over, "sft.max_steps=2"])
    train_stage(half, "sft", tmp_path / "b", model_path=init)
    assert (tmp_path / "b" / "checkpoints" / "step-000002" / "adapter_model.safetensors").is_file()
    resumed = train_stage(load_config("smoke", [*over, "sft.max_steps=4"]), "sft", tmp_path / "b", model_path=init, resume=True)
    wa, wb, w0 = (load_file(str(p / "model.safetensors")) for p in (straight, resumed, init))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert any(not torch.equal(wa[k], w0[k]) for k in w0)
    adapter_only = train_stage(load_config("smoke", [*over, "sft.max_steps=1", "sft.lora.save=adapter"]), "sft", tmp_path / "c", model_path=init)
    assert (adapter_only / "adapter_config.json").is_file() and not (adapter_only / "model.safetensors").exists()
