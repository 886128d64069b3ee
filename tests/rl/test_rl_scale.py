"""GRPO at real scale on CPU-sized models: bf16 master weights, micro-batches smaller than a group,
chunked log-probs, gradient checkpointing, reference placement, rl.vllm settings, real questions."""

import dataclasses
import json

import pytest
import torch

from seekmath.config import load_config
from seekmath.rl.grpo import build_optimizer, build_policy, build_reference, train_on_batch, validate
from seekmath.rl.rollout import GroupedRollout


def _cfg(*overrides):
    return load_config("smoke", ["rl.threads=1", "model.device=cpu", *overrides])


def _rollout(vocab: int, groups: int = 3, G: int = 4, seed: int = 0):
    """Prompts and completions of random tokens (lengths vary, one empty completion), advantages +-1."""
    g = torch.Generator().manual_seed(seed)
    prompts = [torch.randint(3, vocab, (int(torch.randint(3, 9, (1,), generator=g)),), generator=g).tolist() for _ in range(groups)]
    comps = []
    for i in range(groups * G):
        n = 0 if i == 5 else int(torch.randint(1, 12, (1,), generator=g))
        comps.append(torch.randint(3, vocab, (n,), generator=g).tolist())
    owner = [u for u in range(groups) for _ in range(G)]
    adv = torch.randn(groups * G, generator=g)
    return GroupedRollout(prompts, comps, owner, pad_id=0), adv


def _train(cfg, model_dir, steps: int = 3, optimizer: str = "adamw", rollout=None, adv=None):
    """`steps` train_on_batch updates on one fixed rollout (same samples for every configuration)."""
    policy, scorer = build_policy(cfg, model_dir, "cpu")
    _, ref = build_reference(cfg, model_dir, None, "cpu")
    if optimizer == "sgd":  # weights move by exactly -gradient: compares gradients, not Adam's normalised steps
        opt = torch.optim.SGD(scorer.parameters(), lr=1.0)
    else:
        opt, _ = build_optimizer([p for p in scorer.parameters() if p.requires_grad], cfg.rl)
    if rollout is None:
        rollout, adv = _rollout(policy.config.vocab_size)
    from seekmath.rl.rollout import scorer_logprobs_nograd

    ref_logp = scorer_logprobs_nograd(ref, rollout, 64, cfg.rl.temperature) if ref is not None else None
    stats = [train_on_batch(scorer, opt, rollout, adv, ref_logp=ref_logp, rl=cfg.rl) for _ in range(steps)]
    return {n: p.detach().clone() for n, p in policy.named_parameters()}, stats


def test_rl_bf16_master_weights(tiny_model_dir):
    """bf16 RL at the paper's lr 1e-6: AdamW updates fp32 master weights, so (almost) every weight moves,
    and 3 steps stay within a stated tolerance of the fp32 run.

    On bf16 weights (the bug) 3 AdamW steps at 1e-6 move ~2% of them: an update below half a bf16 ulp
    (2^-8 relative) rounds away. Tolerance: the bf16 run's total update differs from the fp32 run's by at
    most 15% (relative L2 over all weights) and points the same way (cosine > 0.99); measured 7.2% and
    0.997 (99.998% of the weights moved; AdamW on bf16 weights, the old code: 2.0%).
    """
    from seekmath.models import load_model

    init = {n: p.detach().clone() for n, p in load_model(tiny_model_dir, device="cpu").named_parameters()}
    common = ["rl.lr=1e-6", "rl.beta=0.04", "rl.micro_batch_size=5"]
    w32, _ = _train(_cfg("model.dtype=float32", *common), tiny_model_dir)
    w16, s16 = _train(_cfg("model.dtype=bfloat16", *common), tiny_model_dir)
    assert all(w.dtype == torch.float32 for w in w16.values())  # master weights stay fp32
    moved = sum(int((w16[n] != init[n]).sum()) for n in init) / sum(p.numel() for p in init.values())
    assert moved >= 0.99, f"bf16 RL moved only {moved:.2%} of the weights"
    d32 = torch.cat([(w32[n] - init[n]).flatten() for n in init]).double()
    d16 = torch.cat([(w16[n] - init[n]).flatten() for n in init]).double()
    rel = float((d16 - d32).norm() / d32.norm())
    cos = float(d16 @ d32 / (d16.norm() * d32.norm()))
    assert rel < 0.15 and cos > 0.99, (rel, cos)
    assert s16[0]["kl"] < 1e-2  # bf16 reference vs bf16-autocast policy: only rounding apart at the start


@pytest.mark.parametrize("variant", [["rl.micro_batch_size=1"], ["rl.micro_batch_size=3"],
                                     ["rl.micro_batch_size=3", "rl.logprob_chunk_tokens=7"],
                                     ["rl.micro_batch_size=3", "rl.gradient_checkpointing=true", "rl.logprob_chunk_tokens=5"]])
def test_micro_batch_smaller_than_group_same_update(tiny_model_dir, variant):
    """Micro-batches of 1 or 3 outputs (groups of 4 are split), chunked log-probs and checkpointed layers
    give the whole-groups update: compared on the weights after SGD steps (= the summed gradients), beta > 0, mu = 2."""
    common = ["rl.beta=0.04", "rl.mu=2", "rl.max_grad_norm=0", "rl.logprob_chunk_tokens=0"]
    base, bstats = _train(_cfg(*common, "rl.micro_batch_size=12"), tiny_model_dir, steps=2, optimizer="sgd")
    other, ostats = _train(_cfg(*common, *variant), tiny_model_dir, steps=2, optimizer="sgd")
    for n in base:
        assert torch.allclose(base[n], other[n], atol=1e-6, rtol=1e-5), n
    assert bstats[0]["grad_norm"] == pytest.approx(ostats[0]["grad_norm"], rel=1e-5)
    assert bstats[0]["kl"] == pytest.approx(ostats[0]["kl"], rel=1e-5, abs=1e-9)
    if "rl.gradient_checkpointing=true" in variant:  # checkpointed layers drop the KV cache: the packed layout is used
        _, scorer = build_policy(_cfg(*variant), tiny_model_dir, "cpu")
        assert not scorer.train().shares_prompts() and scorer.eval().shares_prompts()


def test_chunked_logprobs_equal_whole_head():
    """chunked_token_logprobs = one log-softmax over the whole head, values and gradients, any chunk size."""
    from seekmath.rl.rollout import chunked_token_logprobs

    g = torch.Generator().manual_seed(0)
    head = torch.nn.Linear(16, 50, bias=False)
    h = torch.randn(3, 6, 16, generator=g, requires_grad=True)
    tok = torch.randint(0, 50, (3, 6), generator=g)
    mask = torch.ones(3, 6, dtype=torch.bool)
    mask[1, 4:] = False
    mask[2, :] = False
    want = torch.log_softmax(head(h) / 0.7, -1).gather(-1, tok[..., None])[..., 0] * mask
    gw = torch.autograd.grad(want.sum(), [h, head.weight])
    for chunk in (0, 1, 4, 100):
        got, ent = chunked_token_logprobs(h, tok, mask, head, 0.7, chunk, with_entropy=True)
        assert torch.allclose(got, want, atol=1e-6)
        assert torch.equal(ent == 0, ~mask) or not mask.all()
        for a, b in zip(gw, torch.autograd.grad(got.sum(), [h, head.weight])):
            assert torch.allclose(a, b, atol=1e-6)


def test_reference_placement_is_validated():
    validate(_cfg("rl.beta=0", "rl.reference=none").rl)
    with pytest.raises(ValueError, match=r"rl.reference=none: rl.beta=0.04 needs pi_ref"):
        validate(_cfg("rl.reference=none").rl)
    with pytest.raises(ValueError, match="rl.reference=none: rl.algorithm=rft"):
        validate(_cfg("rl.reference=none", "rl.algorithm=rft", "rl.beta=0").rl)
    with pytest.raises(ValueError, match="rl.reference: unknown"):
        validate(_cfg("rl.reference=gpu").rl)
    with pytest.raises(ValueError, match="model.dtype"):
        build_policy(_cfg("model.dtype=float16"), "unused", "cpu")


def test_reference_on_cpu_in_compute_dtype(tiny_model_dir):
    anchor, scorer = build_reference(_cfg("model.dtype=bfloat16", "rl.reference=cpu"), tiny_model_dir, None, "cpu")
    assert next(anchor.parameters()).dtype == torch.bfloat16 and not any(p.requires_grad for p in anchor.parameters())
    assert build_reference(_cfg("rl.beta=0", "rl.reference=none"), tiny_model_dir, None, "cpu") == (None, None)


def test_vllm_settings_reach_the_engine_and_it_sleeps_during_the_update(tiny_model_dir, tmp_path, monkeypatch):
    """make_engine("vllm", ...) gets exactly rl.vllm.* (max_model_len resolved) and the policy dtype; with
    sleep_mode the engine sleeps after the rollout and wakes before the weight sync."""
    import seekmath.generate as gen
    from seekmath.rl.grpo import run_rl
    from seekmath.rl.settings import VLLMConfig

    real = gen.make_engine
    calls, events = [], []

    class FakeVLLM:  # the hf engine behind vLLM's interface
        def __init__(self, model, tok, batch_size, **kw):
            calls.append(kw)
            self.hf = real("hf", model, tok, batch_size=batch_size)

        def generate(self, *a, **k):
            events.append("generate")
            return self.hf.generate(*a, **k)

        def sleep(self):
            events.append("sleep")

        def wake_up(self):
            events.append("wake_up")

        def update_weights(self, model):
            events.append("update_weights")

    monkeypatch.setattr(gen, "make_engine", lambda kind, model, tok=None, **kw: FakeVLLM(model, tok, **kw) if kind == "vllm" else real(kind, model, tok, **kw))
    cfg = _cfg("rl.engine=vllm", "rl.vllm.sleep_mode=true", "rl.vllm.gpu_memory_utilization=0.3", "rl.steps=1", "rl.eval_problems=0")
    run_rl(cfg, tiny_model_dir, tmp_path / "rl", progress=False)
    want = dataclasses.asdict(VLLMConfig(gpu_memory_utilization=0.3, sleep_mode=True))
    (kw,) = calls
    assert kw.pop("dtype") == "float32" and kw["max_model_len"] > cfg.rl.max_new_tokens
    assert kw.keys() == want.keys() | {"max_model_len"} and all(kw[k] == want[k] for k in want if k != "max_model_len")
    assert events == ["generate", "sleep", "wake_up", "update_weights"]


# ----------------------------------------------------------------------------------------------
# Questions


def test_rl_data_takes_files_loaders_and_mixtures(tmp_path):
    from seekmath.rl.questions import load_rl_questions

    f = tmp_path / "qa.jsonl"
    f.write_text("".join(json.dumps({"question": f"What is {i} + 1?", "answer": str(i + 1)}) + "\n" for i in range(40)))
    train, held = load_rl_questions(_cfg(f"rl.data=[{f}@1.5]", "rl.eval_problems=100"))
    assert len(held) == 4  # at most 10% held out of a non-synthetic pool
    assert {p.question for p in held}.isdisjoint(p.question for p in train)
    assert 60 - 8 <= len(train) <= 60 - 4  # 40 + a seeded half again (20), minus the 1-2 copies of each held-out question
    assert len({p.question for p in train}) == 36
    train, held = load_rl_questions(_cfg(f"rl.data=[synthetic, {f}]", "rl.train_problems=50", "rl.eval_problems=0"))
    assert len(train) == 50 and held == []
    train, held = load_rl_questions(_cfg("rl.eval_problems=5"))  # the default stays the synthetic task
    assert len(train) == 500 and len(held) == 5


def test_rl_data_missing_source_says_how_to_get_it(tmp_path, monkeypatch):
    from seekmath.rl.questions import load_rl_questions

    monkeypatch.setenv("SEEKMATH_DATA_DIR", str(tmp_path))  # no benchmark files here
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(ValueError, match=r"rl.data 'math_train'.*SEEKMATH_DATA_DIR"):
        load_rl_questions(_cfg("rl.data=[math_train]"))
    with pytest.raises(ValueError, match=r"rl.data '.*missing.jsonl'.*to get it"):
        load_rl_questions(_cfg(f"rl.data=[{tmp_path / 'missing.jsonl'}]"))


def test_gsm8k_train_questions_from_shared_data(shared_data, monkeypatch):
    from seekmath.rl.questions import load_rl_questions

    monkeypatch.setenv("SEEKMATH_DATA_DIR", str(shared_data / "bench"))
    train, held = load_rl_questions(_cfg("rl.data=[gsm8k_train]", "rl.eval_problems=10"))
    assert len(train) + len(held) == 7473 and len(held) == 10


# ----------------------------------------------------------------------------------------------
# Iterative RL resume


def test_iterative_resume_across_rm_round(tiny_model_dir, tmp_path, monkeypatch):
    """A crash after RM round 1 (start of iteration 2) and before the next checkpoint resumes to
    bit-identical weights: the replay buffer comes from the checkpoint, not from a file the round wrote.

    Before the fix the round's fresh examples were already in reward_model/replay.json on resume, so
    round 1 ran again with them replayed twice (more RM examples, other rewards, other weights).
    """
    from safetensors.torch import load_file

    import seekmath.rl.grpo as grpo

    cfg = _cfg("rl.iterations=2", "rl.steps=2", "rl.save_every=2", "rl.eval_problems=0", "rl.lr=0.001", "rl.reward=orm",
               "rl.rm_train_prompts=3", "rl.rm_samples_per_prompt=2", "rl.rm_replay_ratio=0.5")
    straight = grpo.run_rl(cfg, tiny_model_dir, tmp_path / "a", progress=False)

    real_step = grpo.grpo_step

    def crash_in_iteration_2(step, *a, **k):
        if step == 2:  # RM round 1 has just run; the last checkpoint is step 2's, taken before it
            raise KeyboardInterrupt("simulated crash")
        return real_step(step, *a, **k)

    monkeypatch.setattr(grpo, "grpo_step", crash_in_iteration_2)
    with pytest.raises(KeyboardInterrupt):
        grpo.run_rl(cfg, tiny_model_dir, tmp_path / "b", progress=False)
    assert (tmp_path / "b" / "reward_model" / "round-1" / "final").is_dir()  # the round did finish before the crash
    monkeypatch.setattr(grpo, "grpo_step", real_step)
    resumed = grpo.run_rl(cfg, tiny_model_dir, tmp_path / "b", resume=True, progress=False)
    wa, wb = load_file(str(straight / "model.safetensors")), load_file(str(resumed / "model.safetensors"))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    rows = {r["step"]: r for r in map(json.loads, (tmp_path / "b" / "metrics.jsonl").read_text().splitlines())}
    ra = {r["step"]: r for r in map(json.loads, (tmp_path / "a" / "metrics.jsonl").read_text().splitlines())}
    assert rows[3]["rm_examples"] == ra[3]["rm_examples"] and rows[4]["reward_mean"] == ra[4]["reward_mean"]
