"""The GRPO loop: batched log-probs equal unpadded ones, prompt order, exact resume, the RFT siblings."""

import json

import pytest
import torch

from seekmath.config import load_config
from seekmath.rl.grpo import prompt_indices, run_rl, validate
from seekmath.rl.rollout import batched_logprobs, completion_logprobs, pack


def _cfg(*overrides):
    return load_config("smoke", ["rl.threads=1", *overrides])


def test_packed_logprobs_equal_unpadded(tiny_model_dir):
    from seekmath.models import load_model

    model = load_model(tiny_model_dir, device="cpu").eval()
    prompts = [[1, 40, 41, 42, 43], [1, 50], [1, 60, 61]]
    comps = [[70, 71], [72, 73, 74, 75], [2]]
    batch = pack(prompts, comps, pad_id=0)
    full = batched_logprobs(model, batch, micro_batch_size=2)
    for i, (p, c) in enumerate(zip(prompts, comps)):
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([p + c])).logits[0]
        ref = torch.log_softmax(logits[len(p) - 1 : len(p) + len(c) - 1].float(), -1).gather(-1, torch.tensor(c)[:, None])[:, 0]
        assert torch.allclose(full[i, : len(c)], ref, atol=1e-5)
        assert batch.completion_mask[i].sum() == len(c)
    # temperature divides the logits (the sampling policy's log-probs)
    lp2, _ = completion_logprobs(model, batch, temperature=2.0)
    assert not torch.allclose(lp2[batch.completion_mask], full[batch.completion_mask])


def test_prompt_order_is_a_function_of_step():
    a = [prompt_indices(10, 4, s, seed=3) for s in range(5)]
    assert a == [prompt_indices(10, 4, s, seed=3) for s in range(5)]
    flat = sum(a, [])
    assert sorted(flat[:10]) == list(range(10)) and sorted(flat[10:20]) == list(range(10))  # each epoch a permutation
    assert a != [prompt_indices(10, 4, s, seed=4) for s in range(5)]


def test_validate_names_bad_keys():
    for override, msg in [("rl.algorithm=ppo", "rl.algorithm"), ("rl.reward=human", "rl.reward"), ("rl.group_size=1", "group_size"),
                          ("rl.aggregation=sum", "rl.aggregation"), ("rl.temperature=0.0", "temperature"),
                          ("rl.zero_variance=drop", "rl.zero_variance")]:
        with pytest.raises(ValueError, match=msg.replace(".", r"\.")):
            validate(_cfg(override).rl)


def _weights(path):
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


def test_resume_gives_identical_weights(tiny_model_dir, tmp_path):
    """Interrupt mid-iteration, resume (then cross the reference reset), compare with a straight run."""
    # an outcome RM gives graded (non-constant) rewards even to an untrained policy, so the weights move;
    # it also puts an RM continual-training round (with replay) after the resume point
    cfg = _cfg("rl.iterations=2", "rl.steps=2", "rl.save_every=1", "rl.eval_problems=0", "rl.lr=0.001", "rl.mu=2",
               "rl.reward=orm", "rl.rm_train_prompts=3", "rl.rm_samples_per_prompt=2")
    straight = run_rl(cfg, tiny_model_dir, tmp_path / "a", progress=False)
    stopped = run_rl(cfg, tiny_model_dir, tmp_path / "b", stop_after=1, progress=False)  # mid-iteration: the saved reference is used
    assert stopped.name == "checkpoints" and not (tmp_path / "b" / "final").exists()
    resumed = run_rl(cfg, tiny_model_dir, tmp_path / "b", resume=True, progress=False)
    wa, wb = _weights(straight), _weights(resumed)
    assert wa.keys() == wb.keys()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    init = _weights(tiny_model_dir)
    assert any(not torch.equal(wa[k], init[k]) for k in wa)  # training did move the weights
    rows = [json.loads(line) for line in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]  # no duplicated step after resume
    ra = [json.loads(line) for line in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    assert [r["reward_mean"] for r in ra] == [r["reward_mean"] for r in rows]
    assert (tmp_path / "b" / "curves.png").is_file()


def test_resume_counts_the_cpu_budget_spent_before_the_interruption(tiny_model_dir, tmp_path):
    """A budgeted run resumed from a checkpoint must not get a fresh budget (it would train more steps than
    an uninterrupted run: a findings study resumed after a restart would compare unequal budgets)."""
    cfg = _cfg("rl.steps=8", "rl.save_every=1", "rl.eval_problems=0")
    run_rl(cfg, tiny_model_dir, tmp_path / "b", stop_after=2, progress=False)
    spent = json.loads(next((tmp_path / "b" / "checkpoints").glob("step-*/state.json")).read_text())["cpu_seconds"]
    assert spent > 0
    # the whole budget was spent before the interruption: the resumed run stops after its first step
    budgeted = load_config("smoke", ["rl.threads=1", "rl.steps=8", "rl.save_every=1", "rl.eval_problems=0",
                                     f"rl.time_budget_s={spent}"])
    run_rl(budgeted, tiny_model_dir, tmp_path / "b", resume=True, progress=False)
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["steps"] == 3 and summary["cpu_seconds"] > spent


@pytest.mark.parametrize("algorithm", ["online_rft", "rft"])
def test_rft_family_runs(tiny_model_dir, tmp_path, algorithm):
    cfg = _cfg(f"rl.algorithm={algorithm}", "rl.eval_problems=0", "rl.steps=1")
    final = run_rl(cfg, tiny_model_dir, tmp_path / algorithm, progress=False)
    row = json.loads((tmp_path / algorithm / "metrics.jsonl").read_text().splitlines()[-1])
    assert (final / "model.safetensors").is_file() and row["kl"] == 0.0 and 0.0 <= row["accuracy"] <= 1.0


@pytest.mark.parametrize("reward", ["orm", "prm"])
def test_iterative_rl_with_reward_model(tiny_model_dir, tmp_path, reward):
    """Algorithm 1 with a learned RM: round 0 trains it, iteration 2 continues it on fresh samples + replay."""
    cfg = _cfg(f"rl.reward={reward}", "rl.iterations=2", "rl.steps=1", "rl.eval_problems=0", "rl.rm_train_prompts=3",
               "rl.rm_samples_per_prompt=2", "rl.rm_rollouts_per_step=2")
    final = run_rl(cfg, tiny_model_dir, tmp_path / reward, progress=False)
    rows = [json.loads(line) for line in (tmp_path / reward / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in rows] == [0, 1]
    assert rows[0]["rm_fresh"] > 0 and rows[1]["rm_examples"] > rows[1]["rm_fresh"]  # history replayed in round 2
    assert rows[0]["kl"] == pytest.approx(0.0, abs=1e-6) and rows[1]["kl"] == pytest.approx(0.0, abs=1e-6)  # ref reset
    for k in (0, 1):
        assert (tmp_path / reward / "reward_model" / f"round-{k}" / "final").is_dir()
    assert (final / "model.safetensors").is_file()


def test_grouped_logprobs_equal_packed_with_gradients(tiny_model_dir):
    """Prompt-once-per-group scoring gives the packed forward's log-probs and the same gradients."""
    from seekmath.models import load_model
    from seekmath.rl.rollout import GroupedRollout, TokenScorer, score_outputs, scorer_logprobs_nograd

    model = load_model(tiny_model_dir, device="cpu")
    prompts = [[1, 40, 41, 42, 43], [1, 50]]
    comps = [[70, 71], [72, 73, 74, 75], [2], [80, 81, 82]]
    owner = [0, 0, 1, 1]
    ro = GroupedRollout(prompts, comps, owner, pad_id=0)
    packed = pack([prompts[o] for o in owner], comps, pad_id=0)
    lp_a, _ = completion_logprobs(model, packed, temperature=0.7)
    (lp_a * packed.completion_mask).sum().backward()
    g_a = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad()
    lp_b, _, mask = score_outputs(TokenScorer(model), ro, temperature=0.7)
    assert torch.equal(mask, packed.completion_mask)
    assert torch.allclose(lp_a[mask], lp_b[mask], atol=1e-5)
    (lp_b * mask).sum().backward()
    for n, p in model.named_parameters():
        assert torch.allclose(g_a[n], p.grad, atol=1e-5), n
    assert ro.output_slices(3) == [slice(0, 3), slice(3, 4)] and ro.output_slices(4) == [slice(0, 4)]
    nog = scorer_logprobs_nograd(TokenScorer(model), ro, 3, temperature=0.7)  # a slice that splits group 1
    assert torch.allclose(nog[mask], lp_a.detach()[mask], atol=1e-5)


def _one_step(model_dir, zero_variance, rewards, beta=0.0, stale_sampler=False):
    """One grpo_step from the same start, with a scripted reward (one informative group, one constant).
    stale_sampler: the engine samples from a perturbed copy of the policy (a sampler that missed a weight update)."""
    import copy

    from seekmath.generate import make_engine
    from seekmath.models import load_model, load_tokenizer
    from seekmath.rl.grpo import grpo_step
    from seekmath.tasks.synthetic import generate_problems

    cfg = _cfg("rl.group_size=4", "rl.prompts_per_step=2", "rl.max_new_tokens=8", f"rl.beta={beta}",
               f"rl.zero_variance={zero_variance}", "rl.micro_batch_size=8")
    torch.manual_seed(0)
    tok = load_tokenizer(model_dir)
    policy = load_model(model_dir, device="cpu")
    ref = copy.deepcopy(policy).requires_grad_(False)
    opt = torch.optim.SGD(policy.parameters(), lr=1.0)  # weights moved by exactly the (clipped) gradient: Adam would blow float noise up
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    problems = generate_problems(cfg.tasks, "train", n=8)
    rule = lambda texts, golds: torch.tensor(rewards, dtype=torch.float32)  # noqa: E731 - scripted verdicts
    sampler = policy
    if stale_sampler:
        sampler = copy.deepcopy(policy)
        with torch.no_grad():
            for p in sampler.parameters():
                p.add_(0.05 * torch.randn_like(p))
    row = grpo_step(0, policy, opt, sched, tok, problems, rule, None, make_engine("hf", sampler, tok, batch_size=8), ref, cfg.rl, "cpu")
    return row, {n: p.detach().clone() for n, p in policy.named_parameters()}


def test_zero_variance_skip_is_exact_without_kl(tiny_model_dir):
    """rl.zero_variance=skip leaves the constant group out and gives the same update as keep (beta = 0)."""
    mixed = [1, 0, 0, 1, 0, 0, 0, 0]  # group 0 informative, group 1 all wrong
    row_keep, w_keep = _one_step(tiny_model_dir, "keep", mixed)
    row_skip, w_skip = _one_step(tiny_model_dir, "skip", mixed)
    assert row_keep["groups_trained"] == 1.0 and row_skip["groups_trained"] == 0.5
    assert row_keep["zero_variance_groups"] == row_skip["zero_variance_groups"] == 0.5
    for n in w_keep:
        assert torch.allclose(w_keep[n], w_skip[n], atol=1e-6), n
    # nothing informative: skip makes no update at all
    row_none, w_none = _one_step(tiny_model_dir, "skip", [0] * 8, beta=0.04)
    assert row_none["groups_trained"] == 0.0
    from seekmath.models import load_model

    start = dict(load_model(tiny_model_dir, device="cpu").named_parameters())
    assert all(torch.equal(w_none[n], start[n].detach()) for n in w_none)
    assert any(not torch.equal(w_keep[n], start[n].detach()) for n in w_keep)  # the informative step did move the policy


def test_logprob_gap_catches_a_stale_sampler(tiny_model_dir, caplog):
    """The sampler's own log-probs of its tokens equal the trainer's (fp32); a sampler on other weights is flagged."""
    mixed = [1, 0, 0, 1, 0, 1, 1, 0]
    row, _ = _one_step(tiny_model_dir, "keep", mixed)
    assert row["logprob_gap_mean"] < 1e-4 and row["logprob_gap_max"] < 1e-3
    with caplog.at_level("WARNING", logger="seekmath.rl"):
        stale, _ = _one_step(tiny_model_dir, "keep", mixed, stale_sampler=True)
    assert stale["logprob_gap_mean"] > 0.1
    assert "stale weights" in caplog.text
