import json
import math
from pathlib import Path

import pytest

from seekmath.config import ConfigError, load_config
from seekmath.findings.report import build_findings_report
from seekmath.findings.stats import curve_stats, mean_interval, ordering, verdict, welch_interval
from seekmath.findings.study import variant_config


def test_variant_config_applies_study_settings_and_overrides():
    cfg = load_config("findings", ["findings.steps=12", "findings.cpu_budget_s=99", "findings.label_budget=10"])
    v = variant_config(cfg, ["rl.algorithm=online_rft"], seed=2)
    assert v.rl.algorithm == "online_rft" and v.rl.seed == 2 and v.rl.time_budget_s == 99.0
    assert v.rl.steps == 12 and v.rl.eval_every == cfg.findings.eval_every
    assert v.rl.rm_train_prompts == cfg.rl.rm_train_prompts  # no reward model: the label budget does not apply
    assert cfg.rl.algorithm == "grpo"  # the base config is not mutated
    # iterative RL at equal TOTAL steps: 2 iterations x 6
    it2 = variant_config(cfg, ["rl.reward=orm", "rl.iterations=2"], seed=0)
    assert it2.rl.iterations == 2 and it2.rl.steps == 6
    assert variant_config(cfg, ["rl.reward=orm", "rl.iterations=1"], seed=0).rl.steps == 12
    # label budget: responses per RM round = prompts x samples per prompt (rounded up)
    ps = variant_config(cfg, cfg.findings.variants["grpo_ps_exact"], seed=0)
    assert ps.rl.rm.step_labels == "exact" and ps.rl.rm_train_prompts * ps.rl.rm_samples_per_prompt >= 10
    assert (ps.rl.rm_train_prompts - 1) * ps.rl.rm_samples_per_prompt < 10
    # a variant may override the study's keys: the iterative pair at equal total steps, uncapped
    own = variant_config(cfg, ["rl.iterations=2", "findings.steps=8", "rl.time_budget_s=0"], seed=0)
    assert own.rl.steps == 4 and own.rl.time_budget_s == 0.0
    with pytest.raises(ConfigError, match="findings.steps"):
        variant_config(cfg, ["rl.steps=5"], seed=0)
    with pytest.raises(ConfigError, match="does not split into rl.iterations=5"):
        variant_config(cfg, ["rl.iterations=5"], seed=0)


def test_findings_config_gives_every_variant_three_seeds_and_equal_budgets():
    cfg = load_config("findings")
    f = cfg.findings
    assert len(f.seeds) >= 3 and {"rft", "online_rft", "grpo_os", "grpo_ps", "grpo_ps_exact", "iterative_1", "iterative_2"} <= set(f.variants)
    cfgs = {n: variant_config(cfg, ov, 0) for n, ov in f.variants.items()}
    pair = [cfgs["iterative_1"], cfgs["iterative_2"]]
    assert pair[0].rl.iterations * pair[0].rl.steps == pair[1].rl.iterations * pair[1].rl.steps  # equal total steps
    assert pair[1].rl.iterations == 2 and {c.rl.time_budget_s for c in pair} == {0.0}  # uncapped: the steps decide
    others = [c for n, c in cfgs.items() if not n.startswith("iterative")]
    assert {c.rl.time_budget_s for c in others} == {f.cpu_budget_s} and f.cpu_budget_s > 0  # one CPU cap for all
    assert all(c.rl.steps == f.steps for c in others)
    assert cfg.rl.eval_problems <= cfg.tasks.num_tune and f.report_problems <= cfg.tasks.num_test


def test_curve_stats_mean_and_sample_std_on_common_steps():
    per_seed = {0: {0: 0.2, 5: 0.4, 10: 0.5}, 1: {"0": 0.4, "5": 0.6}, 2: {0: 0.3, 5: 0.5, 10: 0.9}}
    st = curve_stats(per_seed)
    assert list(st) == [0, 5]  # step 10 is missing for seed 1
    assert st[0][0] == pytest.approx(0.3) and st[0][1] == pytest.approx(0.1)
    assert st[5][0] == pytest.approx(0.5) and st[5][1] == pytest.approx(0.1)


def test_welch_interval_and_verdict_by_hand():
    # A = .30 .34 .32, B = .20 .22 .24: diff .10; s^2 = .0004 each; se = sqrt(2 * .0004 / 3) = .016330;
    # df = se^4 / (2 * (.0004/3)^2 / 2) = 4; t(.975, 4) = 2.7764 -> .10 +- .045339
    diff, lo, hi = welch_interval([0.30, 0.34, 0.32], [0.20, 0.22, 0.24])
    assert diff == pytest.approx(0.10) and lo == pytest.approx(0.054661, abs=1e-5) and hi == pytest.approx(0.145339, abs=1e-5)
    assert verdict(lo, hi) == "agree"
    assert ordering("x", "b", "a", [0.20, 0.22, 0.24], [0.30, 0.34, 0.32]).verdict == "disagree"
    # unequal spread: B has none, so df = n_A - 1 = 3; t(.975, 3) = 3.1824; se = sqrt(.016667 / 4) = .064550
    diff, lo, hi = welch_interval([0.1, 0.2, 0.3, 0.4], [0.2, 0.2, 0.2])
    assert diff == pytest.approx(0.05) and lo == pytest.approx(0.05 - 0.205426, abs=1e-5) and hi == pytest.approx(0.05 + 0.205426, abs=1e-5)
    assert verdict(lo, hi) == "unresolved"
    # paired per-seed gaps .1 .2 .3: mean .2, sd .1, t(.975, 2) = 4.3027 -> .2 +- .248414
    m, lo, hi = mean_interval([0.1, 0.2, 0.3])
    assert m == pytest.approx(0.2) and hi - m == pytest.approx(0.248414, abs=1e-5)
    assert verdict(float("nan"), float("nan")) == "unresolved" and math.isnan(welch_interval([0.3], [0.2, 0.1])[1])
    assert welch_interval([0.3, 0.3], [0.2, 0.2]) == pytest.approx((0.1, 0.1, 0.1))  # no spread at all: zero width


def _run(acc, curve, rm=None):
    return {"curve_tune": curve, "report_greedy": acc, "report_n": 300, "steps": 12, "cpu_seconds": 50.0, "seconds": 60.0, "rm": rm or []}


def test_findings_report_states_orderings_with_intervals_and_splits(tmp_path):
    seeds = [0, 1, 2]
    finals = {"rft": [0.30, 0.32, 0.31], "online_rft": [0.40, 0.42, 0.41], "grpo_os": [0.38, 0.45, 0.33],
              "grpo_ps": [0.20, 0.22, 0.21], "grpo_ps_exact": [0.5, 0.52, 0.51]}
    rm = [{"round": 0, "examples": 512, "heldout_positions": 150, "auc": 0.81, "auc_ci95": [0.74, 0.88]}]
    runs = {n: {str(s): _run(v, {0: 0.2, 6: 0.25 + i / 100, 12: v}, rm if "ps" in n else None) for s, v in zip(seeds, vals)}
            for i, (n, vals) in enumerate(finals.items())}
    k_eval = {"variant": "grpo_os",
              "before": {str(s): {"maj": {"1": 0.2, "8": 0.3}, "pass": {"1": 0.2, "8": 0.6}} for s in seeds},
              "after": {str(s): {"maj": {"1": 0.3, "8": 0.4 + s / 100}, "pass": {"1": 0.3, "8": 0.6}} for s in seeds}}
    data = {"runs": runs, "k_eval": k_eval, "seeds": seeds, "steps": 12, "cpu_budget_s": 600, "label_budget": 512,
            "splits": {"tune": 100, "report": 300, "report_k": 100}, "seconds": 1.0}
    (tmp_path / "findings.json").write_text(json.dumps(data))
    text = build_findings_report(tmp_path).read_text()
    assert "**tuning split**" in text and "**report split**" in text
    # .41 - .31 = .10; s^2 = .0001 each, se = .008165, df 4: +- 2.7764 x .008165 = .0227
    assert "| Online RFT > RFT | online_rft − rft: +10.0 | [+7.7, +12.3] | 3 / 3 | **agree** |" in text
    assert "| GRPO > Online RFT | grpo_os − online_rft: -2.3 |" in text and text.count("**unresolved**") >= 1
    assert "(Math-Shepherd PRM vs rule reward) | grpo_ps − grpo_os: -17.7" in text and "**disagree**" in text
    assert "(exact-label PRM vs rule reward) | grpo_ps_exact − grpo_os: +12.3" in text
    assert "vs ORM" not in text  # iterative_1 (the learned-ORM baseline) did not run
    assert "maj@8 gain − pass@8 gain: +11.0 |" in text  # (0.4 + s/100 - 0.3) - 0, mean over seeds
    assert "2 iterations > 1" not in text  # its variants did not run: no row
    assert "r0: 0.81 [0.74, 0.88], 512 ex, 150 held-out pos." in text
    assert (tmp_path / "plots" / "findings_accuracy_vs_steps.png").stat().st_size > 1000
    assert (tmp_path / "plots" / "findings_maj_pass_vs_k.png").stat().st_size > 1000


def _project_imports(path: Path) -> set[str]:
    """Every seekmath module a file imports, at the top or inside a function."""
    import ast

    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("seekmath"):
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("seekmath"))
    return out


def test_recipe_report_findings_flow_one_way():
    """stages <- report <- recipe -> findings: no import cycle, the study never calls back into the recipe."""
    import seekmath

    root = Path(seekmath.__file__).parent
    files = {"seekmath.recipe": root / "recipe.py", "seekmath.report": root / "report.py", "seekmath.stages": root / "stages.py"}
    files.update({f"seekmath.findings.{p.stem}": p for p in (root / "findings").glob("*.py") if p.stem != "__init__"})
    graph = {m: {d for d in _project_imports(f) if d in files and d != m} for m, f in files.items()}
    for m in (m for m in files if m.startswith("seekmath.findings")):
        assert not graph[m] & {"seekmath.recipe", "seekmath.report"}, m
    assert graph["seekmath.stages"] == set() and "seekmath.recipe" not in graph["seekmath.report"]
    state: dict[str, int] = {}

    def visit(m, path):  # depth-first search for a back edge
        state[m] = 1
        for d in graph[m]:
            assert state.get(d) != 1, f"import cycle: {' -> '.join(path + [d])}"
            if d not in state:
                visit(d, path + [d])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])


def test_findings_from_stage_must_be_one_the_study_runs(tmp_path):
    from seekmath.recipe import run_findings

    with pytest.raises(ValueError, match="--from: the findings study runs the stages crawl, corpus, pretrain, sft; got 'rl'"):
        run_findings(load_config("findings"), tmp_path, from_stage="rl")
    assert not any(tmp_path.iterdir())  # refused before doing anything


def test_rerun_into_a_folder_trained_with_other_settings_is_refused_and_keeps_it(tmp_path):
    """A finished 300-CPU-s run must not be counted as a 600-CPU-s one when the study is rerun with another budget."""
    from seekmath.config import dump_config
    from seekmath.findings.study import run_dir_of, run_study

    old = load_config("findings", ["findings.cpu_budget_s=300"])
    run_dir = run_dir_of(tmp_path, "grpo_os", 0)
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(dump_config(variant_config(old, old.findings.variants["grpo_os"], 0)))
    (run_dir / "summary.json").write_text("{}")
    new = load_config("findings", ["findings.cpu_budget_s=600"])
    with pytest.raises(ConfigError, match=r"grpo_os/seed0 was trained with other settings \(rl.time_budget_s: 300.0 -> 600.0\)"):
        run_study(new, tmp_path)
    assert (run_dir / "summary.json").read_text() == "{}"  # nothing deleted
    # the same settings (or a changed report-only key) pass the check and reach the next one
    with pytest.raises(ConfigError, match="no SFT checkpoint"):
        run_study(load_config("findings", ["findings.cpu_budget_s=300", "findings.report_problems=50"]), tmp_path)
