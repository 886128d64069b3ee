"""LoRA (seekmath.lora) in RL: merged weights, the adapter-off reference, what an update moves, the saved
models, exact resume, DDP, the memory plan and the early refusals. SFT's LoRA: tests/train/test_sft_lora.py."""

import pytest
import torch

from seekmath.config import ConfigError, load_config
from seekmath.lora import LoRAConfig, apply_lora, lora_layers, merged_state_dict, save_final


def _cfg(*overrides):
    return load_config("smoke", ["rl.threads=1", *overrides])


def _lora_model(model_dir, r=4, alpha=8.0, seed=0):
    """The tiny model with adapters whose B is random (fresh adapters have B = 0: nothing to see)."""
    from seekmath.models import load_model

    model = load_model(model_dir, device="cpu")
    peft_model = apply_lora(model, LoRAConfig(enabled=True, r=r, alpha=alpha))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
    return model, peft_model


def _base_weights(model_dir):
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


def test_merged_state_dict_is_w_plus_scaled_ba(tiny_model_dir):
    """vLLM's weights: base names, W + (alpha / r) B @ A by hand; the training model is not merged."""
    model, peft_model = _lora_model(tiny_model_dir, r=4, alpha=8.0)
    x = torch.tensor([[1, 40, 41, 42, 43]])
    with torch.no_grad():
        before = model(input_ids=x).logits
    merged = merged_state_dict(peft_model)
    base = _base_weights(tiny_model_dir)
    assert set(merged) == set(base) | {"lm_head.weight"} or set(merged) == set(base)  # the base model's own names
    adapted = dict(lora_layers(peft_model))
    assert len(adapted) == 2 * 7  # 2 layers x (q, k, v, o, gate, up, down)
    for name, layer in adapted.items():
        A, B = layer.lora_A["default"].weight, layer.lora_B["default"].weight  # [r, in], [out, r]
        hand = base[f"{name}.weight"] + (8.0 / 4) * B.detach() @ A.detach()
        assert torch.allclose(merged[f"{name}.weight"], hand, atol=1e-6), name
        assert torch.equal(layer.base_layer.weight, base[f"{name}.weight"])  # not merged in place
    for key in set(base) - {f"{n}.weight" for n in adapted}:
        assert torch.equal(merged[key], base[key]), key
    with torch.no_grad():
        assert torch.equal(model(input_ids=x).logits, before)


def test_saved_models_give_the_lora_models_outputs(tiny_model_dir, tmp_path):
    """final/ merged is a normal HF folder with the LoRA model's outputs; adapter-only reloads with peft."""
    from peft import PeftModel

    from seekmath.models import load_model, load_tokenizer

    model, peft_model = _lora_model(tiny_model_dir)
    tok = load_tokenizer(tiny_model_dir)
    x = torch.tensor([[1, 40, 41, 42, 43, 44, 45]])
    with torch.no_grad():
        want = model(input_ids=x).logits
    save_final(peft_model, tok, tmp_path / "merged", "merged")
    save_final(peft_model, tok, tmp_path / "adapter", "adapter")
    assert (tmp_path / "merged" / "config.json").is_file() and not (tmp_path / "merged" / "adapter_config.json").exists()
    assert (tmp_path / "adapter" / "adapter_config.json").is_file() and not (tmp_path / "adapter" / "model.safetensors").exists()
    with torch.no_grad():
        got = load_model(tmp_path / "merged", device="cpu")(input_ids=x).logits
        again = PeftModel.from_pretrained(load_model(tiny_model_dir, device="cpu"), str(tmp_path / "adapter"))(input_ids=x).logits
    assert torch.allclose(got, want, atol=1e-5)
    assert torch.equal(again, want)


def test_rl_step_trains_only_the_adapters_against_the_base_reference(tiny_model_dir):
    """One grpo_step with beta > 0: pi_ref's log-probs are the base model's (adapter off) before and after;
    the base weights stay bit-identical, the adapters move, and pi_theta then differs from pi_ref."""
    from seekmath.generate import make_engine
    from seekmath.lora import reference_scorer
    from seekmath.models import load_model, load_tokenizer
    from seekmath.rl.grpo import build_optimizer, grpo_step
    from seekmath.rl.rollout import GroupedRollout, TokenScorer, scorer_logprobs_nograd
    from seekmath.tasks.synthetic import generate_problems

    cfg = _cfg("rl.group_size=4", "rl.prompts_per_step=2", "rl.max_new_tokens=8", "rl.beta=0.04", "rl.lr=0.05",
               "rl.lora.enabled=true", "rl.lora.r=4")
    torch.manual_seed(0)
    tok = load_tokenizer(tiny_model_dir)
    policy = load_model(tiny_model_dir, device="cpu")
    peft_model = apply_lora(policy, cfg.rl.lora)
    scorer = TokenScorer(policy)
    ref = reference_scorer(peft_model, scorer)
    opt, sched = build_optimizer([p for p in scorer.parameters() if p.requires_grad], cfg.rl)
    trainable = {n for n, p in policy.named_parameters() if p.requires_grad}
    assert trainable and all(".lora_A." in n or ".lora_B." in n for n in trainable)  # only adapters in the optimizer
    assert sum(p.numel() for g in opt.param_groups for p in g["params"]) == sum(p.numel() for n, p in policy.named_parameters() if n in trainable)
    before = {n: p.detach().clone() for n, p in policy.named_parameters()}
    base_model = load_model(tiny_model_dir, device="cpu")  # pi_ref as a separate copy would be
    ro = GroupedRollout([[1, 40, 41, 42], [1, 50]], [[70, 71, 72], [73, 74], [75], [76, 77, 78, 79]], [0, 0, 1, 1], pad_id=0)
    lp_base = scorer_logprobs_nograd(TokenScorer(base_model), ro, 4)
    assert torch.equal(scorer_logprobs_nograd(ref, ro, 4), lp_base)

    problems = generate_problems(cfg.tasks, "train", n=8)
    rule = lambda texts, golds: torch.tensor([1.0, 0, 0, 1, 0, 1, 1, 0])  # noqa: E731 - scripted verdicts, both groups informative
    row = grpo_step(0, scorer, opt, sched, tok, problems, rule, None, make_engine("hf", policy, tok, batch_size=8), ref, cfg.rl, "cpu")
    assert row["grad_norm"] > 0
    after = dict(policy.named_parameters())
    for n, p in after.items():
        if n in trainable:
            continue
        assert torch.equal(p, before[n]), n  # base weights bit-identical
    assert any(not torch.equal(after[n], before[n]) for n in trainable if ".lora_B." in n)
    assert torch.equal(scorer_logprobs_nograd(ref, ro, 4), lp_base)  # pi_ref is still the base model
    lp_policy = scorer_logprobs_nograd(scorer, ro, 4)
    mask = ro.completion_mask()
    assert (lp_policy - lp_base)[mask].abs().max() > 1e-4


def test_rft_sampler_runs_the_base_weights(tiny_model_dir):
    """rl.algorithm=rft with LoRA samples from the initial policy: the same engine with the adapter off."""
    from seekmath.generate import make_engine
    from seekmath.lora import AdapterOffEngine
    from seekmath.models import load_model, load_tokenizer

    model, peft_model = _lora_model(tiny_model_dir)
    tok = load_tokenizer(tiny_model_dir)
    prompts = ["User: What is 3 + 4?\n\nAssistant:", "User: 12 - 5 = ?\n\nAssistant:"]
    kw = dict(n=2, temperature=1.0, max_new_tokens=8, seed=3)
    base = make_engine("hf", load_model(tiny_model_dir, device="cpu"), tok, batch_size=4).generate(prompts, **kw)
    engine = make_engine("hf", model, tok, batch_size=4)
    off = AdapterOffEngine(engine, peft_model).generate(prompts, **kw)
    on = engine.generate(prompts, **kw)
    flat = lambda outs: [c for g in outs for c in g]  # noqa: E731
    assert [c.token_ids for c in flat(off)] == [c.token_ids for c in flat(base)]
    assert all(torch.allclose(torch.tensor(a.logprobs), torch.tensor(b.logprobs), atol=1e-5) for a, b in zip(flat(off), flat(base)))
    assert [c.token_ids for c in flat(on)] != [c.token_ids for c in flat(base)]  # the adapters are live otherwise


class _LengthReward:
    """A rule stand-in with graded verdicts for an untrained model (the grader gives it all zeros)."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, texts, golds):
        return torch.tensor([float(len(t) % 3 == 0) for t in texts])


def test_rl_lora_resume_is_exact_and_final_is_merged(tiny_model_dir, tmp_path, monkeypatch):
    """Stop after step 1 (adapter + optimizer checkpointed), resume: the same merged final/ as a straight run."""
    from safetensors.torch import load_file

    from seekmath.rl import rewards
    from seekmath.rl.grpo import run_rl

    monkeypatch.setattr(rewards, "RuleReward", _LengthReward)
    cfg = _cfg("rl.steps=3", "rl.save_every=1", "rl.eval_problems=0", "rl.lr=0.01", "rl.beta=0.04", "rl.lora.enabled=true", "rl.lora.r=4")
    straight = run_rl(cfg, tiny_model_dir, tmp_path / "a", progress=False)
    ckpt = run_rl(cfg, tiny_model_dir, tmp_path / "b", stop_after=1, progress=False)
    step = next(ckpt.iterdir())
    assert (step / "adapter" / "adapter_model.safetensors").is_file() and not (step / "policy").exists() and not (step / "ref.pt").exists()
    resumed = run_rl(cfg, tiny_model_dir, tmp_path / "b", resume=True, progress=False)
    wa, wb, init = (load_file(str(p / "model.safetensors")) for p in (straight, resumed, tiny_model_dir))
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    assert any(not torch.equal(wa[k], init[k]) for k in init)  # the merged adapters moved the weights
    assert all(torch.equal(wa[k], init[k]) for k in init if "proj" not in k)  # embeddings and norms are not adapted


def test_memory_plan_counts_adapters_not_a_reference(tiny_model_dir):
    """--plan with rl.lora: the adapter count is peft's own; gradients and moments are the adapters', no pi_ref."""
    from seekmath.lora import trainable_parameters
    from seekmath.rl.memory_plan import GIB, ModelShape, model_shape, plan_for_config

    cfg = _cfg("rl.lora.enabled=true", "rl.lora.r=4", "rl.beta=0.04", "rl.engine=hf")
    shape = model_shape(cfg, tiny_model_dir)
    _, peft_model = _lora_model(tiny_model_dir, r=4)
    assert shape.lora_params(4, cfg.rl.lora.target_modules) == trainable_parameters(peft_model)[0]
    smol = ModelShape(vocab=49152, hidden=576, layers=30, heads=9, kv_heads=3, intermediate=1536, tie_embeddings=True)
    assert smol.lora_params(16, LoRAConfig().target_modules) == 4_884_480  # what peft trains on SmolLM2-135M (bench/rl_memory.py)
    parts = {p.name: p for p in plan_for_config(cfg, tiny_model_dir).parts}
    T, P = shape.lora_params(4, cfg.rl.lora.target_modules), shape.params()
    assert parts["gradients (fp32)"].update * GIB == pytest.approx(4 * T)
    assert parts["AdamW state (fp32 m, v)"].update * GIB == pytest.approx(8 * T)
    assert parts["fp32 master weights"].update * GIB == pytest.approx(4 * (P + T))
    assert parts["reference pi_ref"].update == 0.0
    full = {p.name: p for p in plan_for_config(_cfg("rl.beta=0.04", "rl.engine=hf"), tiny_model_dir).parts}
    assert full["AdamW state (fp32 m, v)"].update * GIB == pytest.approx(8 * P) and full["reference pi_ref"].update > 0


def test_bad_lora_settings_fail_early_naming_the_key(tiny_model_dir, tmp_path):
    from seekmath.rl.grpo import run_rl, validate

    with pytest.raises(ConfigError, match=r"rl\.lora\.rank"):
        _cfg("rl.lora.rank=8")
    for override, msg in [("rl.lora.r=0", r"rl\.lora\.r"), ("rl.lora.save=gguf", r"rl\.lora\.save"), ("rl.reference=cpu", r"rl\.reference=cpu"),
                          ("rl.iterations=2", r"rl\.iterations")]:
        with pytest.raises(ValueError, match=msg):
            validate(_cfg("rl.lora.enabled=true", override).rl)
    validate(_cfg("rl.reference=cpu").rl)  # without LoRA nothing changes
    with pytest.raises(ValueError, match=r"rl\.lora\.target_modules: \['c_attn'\] match no Linear layer"):
        run_rl(_cfg("rl.lora.enabled=true", "rl.lora.target_modules=[q_proj,c_attn]"), tiny_model_dir, tmp_path / "x", progress=False)
    assert not (tmp_path / "x" / "checkpoints").exists()


@pytest.mark.slow  # one torchrun launch (2 processes) + one process: ~1-2 min on the shared 2-core CPU
def test_rl_lora_ddp_two_processes_equal_one(tmp_path, tiny_model_dir, torchrun):
    """torchrun -m seekmath rl with rl.lora under DDP (adapter gradients all-reduced) = one process."""
    from pathlib import Path

    from safetensors.torch import load_file

    import seekmath
    from seekmath.rl.grpo import run_rl
    from seekmath.rl.reward_model import RewardModel

    rm = tmp_path / "rm"  # an untrained outcome RM: graded rewards for an untrained policy, so the adapters move
    RewardModel.from_backbone(tiny_model_dir, kind="outcome").save(rm)
    over = ["rl.threads=1", "rl.steps=2", "rl.prompts_per_step=4", "rl.group_size=4", "rl.generation_batch_size=8", "rl.max_new_tokens=12",
            "rl.micro_batch_size=3", "rl.lr=0.001", "rl.beta=0.04", "rl.eval_problems=0", "rl.save_every=0", "rl.reward=orm",
            f"rl.reward_model={rm}", "rl.lora.enabled=true", "rl.lora.r=4", "rl.distributed=ddp"]
    torchrun(Path(seekmath.__file__).with_name("__main__.py"), "rl", "--config", "smoke", "--model", tiny_model_dir,
             "--out", tmp_path / "two", *over)
    run_rl(load_config("smoke", over), tiny_model_dir, tmp_path / "one", progress=False)
    a, b, init = (load_file(str(p / "model.safetensors")) for p in (tmp_path / "two" / "final", tmp_path / "one" / "final", tiny_model_dir))
    assert any(not torch.equal(b[k], init[k]) for k in init)
    diff = max(float((a[k] - b[k]).abs().max()) for k in b)
    assert diff < 1e-5, diff
