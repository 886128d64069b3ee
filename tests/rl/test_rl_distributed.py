"""GRPO over several processes: `torchrun -m seekmath rl` (gloo on CPU, DDP and FSDP2) trains exactly
like one process — same samples, same rewards/advantages/KL, same pre-clip gradient norms, same weights."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from seekmath.config import load_config
from seekmath.rl.distributed import call_seed, generation_calls, generation_unit, rank_groups
from seekmath.rl.grpo import run_rl
from seekmath.rl.losses import aggregation_weights

# beta > 0 (the KL term is in the gradient); 4 questions x G 4, 2 groups per generation call (1 call per
# process on 2 processes); micro-batches of 3 outputs cut groups; mu 2 (pi_old from a no-grad pass, the
# ratio and its clipping); lr 1e-4: large enough to move the weights, small enough that AdamW's
# normalisation does not blow float-summation noise in near-zero gradients (2 processes sum in
# another order) past the 1e-5 weight tolerance (at lr 1e-3 the embedding row of a rare token moved 3e-5)
OVERRIDES = ["rl.threads=1", "rl.steps=3", "rl.prompts_per_step=4", "rl.group_size=4", "rl.generation_batch_size=8",
             "rl.max_new_tokens=12", "rl.micro_batch_size=3", "rl.lr=0.0001", "rl.beta=0.04", "rl.eval_problems=0",
             "rl.save_every=0", "rl.reward=orm", "rl.logprob_chunk_tokens=16", "rl.mu=2"]


# ----------------------------------------------------------------------------------------------
# The pure parts


def test_groups_are_split_into_contiguous_shares():
    assert [rank_groups(8, 4, r) for r in range(4)] == [range(0, 2), range(2, 4), range(4, 6), range(6, 8)]
    assert rank_groups(8, 1, 0) == range(8)
    with pytest.raises(ValueError, match="prompts_per_step 6 is not divisible by the 4 processes"):
        rank_groups(6, 4, 0)


def test_generation_calls_do_not_depend_on_the_number_of_processes():
    assert generation_unit(group_size=4, generation_batch_size=8) == 2
    assert generation_unit(group_size=64, generation_batch_size=16) == 1  # a group larger than a batch: one group a call
    one = generation_calls(range(0, 8), 2)
    assert one == [range(0, 2), range(2, 4), range(4, 6), range(6, 8)]
    for world in (2, 4):
        calls = [c for r in range(world) for c in generation_calls(rank_groups(8, world, r), 2)]
        assert calls == one
    assert generation_calls(range(3, 8), 4) == [range(3, 4), range(4, 8)]  # cut at global multiples
    assert call_seed(1234, 0) == 1234 and call_seed(1234, 2) != call_seed(1234, 4)


def test_aggregation_weights_use_the_whole_batch_totals():
    """Two processes each holding half of a batch get exactly the rows of the whole batch's weights."""
    mask = torch.tensor([[1, 1, 0], [1, 0, 0], [1, 1, 1], [1, 1, 0]], dtype=torch.bool)
    for agg in ("seq_mean_token_mean", "token_mean", "constant_normaliser"):
        full = aggregation_weights(mask, agg, max_len=3)
        halves = [aggregation_weights(mask[s], agg, max_len=3, totals=(4, 8.0)) for s in (slice(0, 2), slice(2, 4))]
        assert torch.equal(torch.cat(halves), full), agg
    # by hand: token_mean = 1/8 per real token; seq_mean_token_mean = 1/(4 |o_i|)
    assert aggregation_weights(mask[:2], "token_mean", totals=(4, 8.0))[0, 0] == pytest.approx(1 / 8)
    assert aggregation_weights(mask[:2], "seq_mean_token_mean", totals=(4, 8.0))[1, 0] == pytest.approx(1 / 4)


def test_sampling_does_not_depend_on_the_number_of_processes(tiny_model_dir):
    """The calls a process makes for its share draw the same tokens as one process making all of them."""
    from seekmath.generate import make_engine
    from seekmath.models import load_model, load_tokenizer

    tok = load_tokenizer(tiny_model_dir)
    engine = make_engine("hf", load_model(tiny_model_dir, device="cpu"), tok, batch_size=8)
    prompts = [f"User: {a} + {a} = ?\n\nAssistant:" for a in range(4)]

    def sample(world, unit=2):
        out = []
        for r in range(world):
            mine = rank_groups(4, world, r)
            for call in generation_calls(mine, unit):
                out += engine.generate(prompts[call.start : call.stop], n=4, temperature=1.0, max_new_tokens=8,
                                       seed=call_seed(77, call.start))
        return [[c.token_ids for c in group] for group in out]

    assert sample(2) == sample(1)
    assert sample(4, unit=1) == sample(1, unit=1)
    # 4 processes with 2 groups a call would split calls (1 group each): other samples (run_rl warns)
    assert sample(4) != sample(1)


# ----------------------------------------------------------------------------------------------
# The loop


@pytest.fixture(scope="module")
def reward_model_dir(tiny_model_dir, tmp_path_factory):
    """An untrained outcome RM (random head): graded rewards even for an untrained policy, so the
    advantages are non-zero and the weights move (the rule reward would give 0 everywhere)."""
    from seekmath.rl.reward_model import RewardModel

    out = tmp_path_factory.mktemp("rm") / "rm"
    RewardModel.from_backbone(tiny_model_dir, kind="outcome").save(out)
    return out


def _steps(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines() if '"grad_norm"' in line]


def _weights(out: Path) -> dict:
    return load_file(str(out / "final" / "model.safetensors"))


def assert_same_rl(a: Path, b: Path, tol: float = 1e-5) -> dict:
    """Same rewards, KL, pre-clip gradient norms (relative) and final weights (absolute) within tol."""
    ra, rb = _steps(a), _steps(b)
    assert [r["step"] for r in ra] == [r["step"] for r in rb] and ra
    for x, y in zip(ra, rb):
        for key in ("reward_mean", "reward_std", "response_length", "kl", "entropy", "zero_variance_groups"):
            assert abs(x[key] - y[key]) <= tol * max(1.0, abs(y[key])), (x["step"], key, x[key], y[key])
        assert abs(x["grad_norm"] - y["grad_norm"]) <= tol * y["grad_norm"], (x["step"], x["grad_norm"], y["grad_norm"])
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    diff = max(float((wa[k] - wb[k]).abs().max()) for k in wa)
    gn = max(abs(x["grad_norm"] - y["grad_norm"]) / y["grad_norm"] for x, y in zip(ra, rb))
    print(f"{a.name} vs {b.name}: max weight diff {diff:.3g}, max relative grad-norm diff {gn:.3g}, "
          f"grad norms {[round(x['grad_norm'], 6) for x in ra]}")
    assert diff < tol, f"max weight difference {diff:.3g}"
    return {"weight_diff": diff, "grad_norm_rel_diff": gn}


def test_rl_fsdp_one_process_equals_plain(tmp_path, tiny_model_dir, reward_model_dir, one_process_group):
    """Fast variant: the FSDP2-wrapped scorer (packed rows, full rollout copy re-synced after each update,
    clipping over the sharded parameters) trains like the plain loop."""
    over = [*OVERRIDES, "rl.steps=2", "rl.mu=1", f"rl.reward_model={reward_model_dir}"]
    run_rl(load_config("smoke", [*over, "rl.distributed=fsdp"]), tiny_model_dir, tmp_path / "fsdp", progress=False)
    torch.distributed.destroy_process_group()  # the plain run: no group, no wrapping
    try:
        run_rl(load_config("smoke", over), tiny_model_dir, tmp_path / "plain", progress=False)
    finally:
        torch.distributed.init_process_group("gloo", store=torch.distributed.HashStore(), rank=0, world_size=1)
    assert_same_rl(tmp_path / "fsdp", tmp_path / "plain")


def test_rl_fsdp_bf16_saves_fp32_masters(tmp_path, tiny_model_dir, reward_model_dir, one_process_group):
    """bf16 under FSDP2: bf16 compute and a bf16 rollout copy, but what is saved is the fp32 masters (gathered)."""
    over = [*OVERRIDES, "rl.steps=1", "rl.mu=1", f"rl.reward_model={reward_model_dir}", "model.dtype=bfloat16", "rl.distributed=fsdp"]
    run_rl(load_config("smoke", over), tiny_model_dir, tmp_path / "bf16", progress=False)
    w, init = _weights(tmp_path / "bf16"), load_file(str(tiny_model_dir / "model.safetensors"))
    assert {v.dtype for v in w.values()} == {torch.float32}
    moved = [k for k in w if not torch.equal(w[k], init[k])]
    assert moved and any(not torch.equal(w[k], w[k].bfloat16().float()) for k in moved)


@pytest.mark.slow  # one torchrun launch (2 processes: DDP, FSDP2, FSDP2 stop + resume) + one process: ~2-3 min on the shared 2-core CPU
def test_rl_two_processes_equal_one(tmp_path, tiny_model_dir, reward_model_dir, torchrun):
    over = [*OVERRIDES, f"rl.reward_model={reward_model_dir}"]
    torchrun(Path(__file__).with_name("rl_torchrun_worker.py"), tiny_model_dir, tmp_path, *over)
    run_rl(load_config("smoke", over), tiny_model_dir, tmp_path / "one", progress=False)
    init = load_file(str(tiny_model_dir / "model.safetensors"))
    assert any(not torch.equal(init[k], _weights(tmp_path / "one")[k]) for k in init)  # the weights did move
    assert all(r["grad_norm"] > 0 and r["kl"] >= 0 for r in _steps(tmp_path / "one"))
    assert_same_rl(tmp_path / "ddp", tmp_path / "one")
    assert_same_rl(tmp_path / "fsdp", tmp_path / "one")
    assert json.loads((tmp_path / "fsdp" / "summary.json").read_text())["processes"] == 2
    # uneven shares (rank 1 runs an idle micro-batch to keep step): the one-process update's norm and diagnostics
    import rl_torchrun_worker as worker
    from seekmath.models import load_model
    from seekmath.rl.grpo import train_on_batch
    from seekmath.rl.rollout import TokenScorer

    rollout, adv = worker.uneven_rollout()
    scorer = TokenScorer(load_model(tiny_model_dir, dtype="float32", device="cpu"))
    one = train_on_batch(scorer, torch.optim.SGD(scorer.parameters(), lr=0.0), rollout, adv, ref_logp=None,
                         rl=load_config("smoke", ["rl.micro_batch_size=2", "rl.mu=1"]).rl, algorithm="online_rft")
    for mode in ("ddp", "fsdp"):
        two = json.loads((tmp_path / f"uneven-{mode}.json").read_text())
        print(f"uneven {mode}: grad norm {two['grad_norm']:.7f} vs {one['grad_norm']:.7f}")
        assert two["grad_norm"] == pytest.approx(one["grad_norm"], rel=1e-5)
        assert two["entropy"] == pytest.approx(one["entropy"], rel=1e-5)
        assert two["surrogate_loss"] == pytest.approx(one["surrogate_loss"], rel=1e-4, abs=1e-6)
    # stopped after step 1 (full policy + optimizer shards written by both processes), resumed: bit-identical
    a, b = _weights(tmp_path / "fsdp-resume"), _weights(tmp_path / "fsdp")
    assert all(torch.equal(a[k], b[k]) for k in b)
    assert [r["grad_norm"] for r in _steps(tmp_path / "fsdp-resume")] == [r["grad_norm"] for r in _steps(tmp_path / "fsdp")]


@pytest.mark.gpu  # NCCL and bf16 on CUDA: not run here (no GPU was lent to this work)
def test_rl_fsdp_bf16_on_cuda(tmp_path, tiny_model_dir, reward_model_dir):
    """FSDP2 over NCCL on one GPU, bf16 compute: the run completes with finite gradient norms and
    saves fp32 masters."""
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    torch.distributed.init_process_group("nccl", store=torch.distributed.HashStore(), rank=0, world_size=1)
    try:
        over = [*OVERRIDES, "rl.steps=2", f"rl.reward_model={reward_model_dir}", "model.device=cuda", "model.dtype=bfloat16"]
        run_rl(load_config("smoke", over), tiny_model_dir, tmp_path / "cuda", progress=False)
    finally:
        torch.distributed.destroy_process_group()
    assert all(torch.isfinite(torch.tensor(r["grad_norm"])) for r in _steps(tmp_path / "cuda"))
    assert {v.dtype for v in _weights(tmp_path / "cuda").values()} == {torch.float32}
