import json

import pytest

from seekmath.config import load_config
from seekmath.findings import build_findings_report, curve_stats, variant_config


def test_variant_config_applies_study_settings_and_overrides():
    cfg = load_config("findings")
    v = variant_config(cfg, ["rl.algorithm=online_rft"], seed=2)
    assert v.rl.algorithm == "online_rft" and v.rl.seed == 2
    assert v.rl.steps == cfg.findings.steps and v.rl.eval_every == cfg.findings.eval_every
    assert cfg.rl.algorithm == "grpo"  # the base config is not mutated


def test_curve_stats_mean_and_sample_std_on_common_steps():
    per_seed = {0: {0: 0.2, 5: 0.4, 10: 0.5}, 1: {"0": 0.4, "5": 0.6}, 2: {0: 0.3, 5: 0.5, 10: 0.9}}
    st = curve_stats(per_seed)
    assert list(st) == [0, 5]  # step 10 is missing for seed 1
    assert st[0][0] == pytest.approx(0.3) and st[0][1] == pytest.approx(0.1)
    assert st[5][0] == pytest.approx(0.5) and st[5][1] == pytest.approx(0.1)


def test_findings_report_states_orderings(tmp_path):
    curves = {
        "rft": {0: {0: 0.3, 10: 0.35}, 1: {0: 0.3, 10: 0.33}},
        "online_rft": {0: {0: 0.3, 10: 0.40}, 1: {0: 0.3, 10: 0.42}},
        "grpo_os": {0: {0: 0.3, 10: 0.38}, 1: {0: 0.3, 10: 0.40}},
    }
    k = {"before RL (SFT)": {"maj": {"1": 0.3, "4": 0.4}, "pass": {"1": 0.3, "4": 0.6}},
         "after RL (grpo_os)": {"maj": {"1": 0.4, "4": 0.5}, "pass": {"1": 0.4, "4": 0.6}}}
    (tmp_path / "findings.json").write_text(json.dumps({"curves": curves, "k_curves": k, "seconds": 1.0, "seeds": [0, 1], "variants": {}}))
    text = build_findings_report(tmp_path).read_text()
    assert "| Online RFT > RFT | online_rft 41.0 vs rft 34.0 | yes |" in text
    assert "| GRPO > Online RFT | grpo_os 39.0 vs online_rft 41.0 | no |" in text
    assert "maj@k by +10.0 points and pass@k by +0.0 points (agrees" in text
    k["after RL (grpo_os)"]["maj"]["4"] = 0.3  # both fall: not the paper's reading
    (tmp_path / "findings.json").write_text(json.dumps({"curves": curves, "k_curves": k, "seconds": 1.0, "seeds": [0, 1], "variants": {}}))
    assert "(does not agree" in build_findings_report(tmp_path).read_text()
    assert (tmp_path / "plots" / "findings_accuracy_vs_steps.png").stat().st_size > 1000
