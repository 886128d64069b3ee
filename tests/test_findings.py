import json
from pathlib import Path

import pytest

from seekmath.config import load_config
from seekmath.findings.report import build_findings_report
from seekmath.findings.stats import curve_stats
from seekmath.findings.study import variant_config


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
