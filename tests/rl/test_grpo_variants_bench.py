"""bench/grpo_variants.py: every variant is a valid RL config, and the gain statistics on hand values."""

from pathlib import Path

import pytest

from seekmath.rl.grpo import validate


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "bench"))
    import grpo_variants

    return grpo_variants


def test_every_variant_is_a_valid_rl_config(bench):
    for v in bench.VARIANTS:
        cfg = bench._config({"task": [], "budget": 60, "variant": v, "lr": 1e-4, "seed": 3})
        validate(cfg.rl)
        assert cfg.rl.time_budget_s == 60 and cfg.rl.seed == 3 and cfg.rl.lr == 1e-4
    dapo = bench._config({"task": [], "budget": 60, "variant": "dapo", "lr": 1e-4, "seed": 0}).rl
    assert dapo.dynamic_sampling and dapo.clip_eps_high == 0.28 and dapo.aggregation == "token_mean" and dapo.beta == 0


def test_summary_gain_and_intervals(bench):
    base = {"acc": 0.5, "correct": {"a": True, "b": False, "c": False, "d": True}}
    runs = [{"acc": 0.75, "correct": {"a": True, "b": True, "c": False, "d": True}, "steps": 4, "cpu_per_step": 2.0},
            {"acc": 0.5, "correct": {"a": True, "b": False, "c": False, "d": True}, "steps": 6, "cpu_per_step": 1.0}]
    s = bench.summarise(base, runs)
    assert s["gains"] == [25.0, 0.0] and s["gain"] == 12.5 and s["steps"] == [4, 6] and s["cpu_per_step"] == 1.5
    assert s["lo"] < 12.5 < s["hi"]
    # per problem (points, averaged over the two seeds): 0, 50, 0, 0 -> mean 12.5
    assert s["paired_lo"] < 12.5 < s["paired_hi"]
