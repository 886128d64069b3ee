"""The harness: files per contract, determinism, resume, metrics plumbing, CLI."""

import json

import pytest
import torch

from seekmath.evaluate.harness import bench_metrics, evaluate_bench, evaluate_model
from seekmath.evaluate.settings import EvalConfig
from seekmath.generate import Completion
from seekmath.runs import read_jsonl


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    torch.set_num_threads(1)


def _cfg(**kw):
    base = dict(limit=4, k=[1, 2], max_new_tokens=6, batch_size=16, temperature=1.0, vote="string")
    base.update(kw)
    return EvalConfig(**base)


def test_bench_metrics_hand_values():
    greedy = [True, False, True, True]
    preds = [["4", "4", "5"], ["1", "2", "2"], [None, "7", "7"], ["3", "9", "9"]]
    correct = [[True, True, False], [False, True, True], [False, False, False], [True, False, False]]
    m = bench_metrics(greedy, preds, correct, [1, 2, 3])
    assert m["n"] == 4 and m["greedy"] == 0.75
    # maj@3: "4" right, "2" right, "7" wrong, "9" wrong -> 0.5; maj@1 = first sample: T, F, F(no vote), T -> 0.5
    assert m["maj"] == {1: 0.5, 2: 0.5, 3: 0.5}
    # pass@1 = mean c/n = (2/3 + 2/3 + 0 + 1/3) / 4 = 5/12; pass@3 = (1 + 1 + 0 + 1) / 4
    assert m["pass"][1] == pytest.approx(5 / 12)
    assert m["pass"][2] == pytest.approx((1 + 1 + 0 + (1 - 1 / 3)) / 4)  # c=1,n=3,k=2: 1 - C(2,2)/C(3,2)
    assert m["pass"][3] == pytest.approx(0.75)
    assert m["k"] == 3 and m["maj@k"] == 0.5 and m["pass@k"] == 0.75
    assert m["ci95"][0] < 0.75 < m["ci95"][1]


class OracleEngine:
    """Answers with the gold for even sample indices and 0 otherwise (tests grading/metric plumbing)."""

    def __init__(self, golds):
        self.golds = golds

    def generate(self, prompts, *, n=1, temperature=0.0, **kw):
        return [[Completion(text=f" The answer is \\boxed{{{self.golds[p] if (j % 2 == 0) else 0}}}.", finish_reason="eos")
                 for j in range(n)] for p in prompts]


def test_metrics_plumbing_with_known_answers(smoke_cfg):
    from seekmath.evaluate.harness import build_prompts, load_bench

    cfg = _cfg(limit=5, k=[1, 4], vote="equivalent")
    problems = load_bench("synthetic", cfg, smoke_cfg.tasks)
    prompts = build_prompts("synthetic", problems, cfg, smoke_cfg.tasks)
    engine = OracleEngine({pr.text: p.answer for pr, p in zip(prompts, problems)})
    entry, records = evaluate_bench(engine, "synthetic", cfg, tasks_cfg=smoke_cfg.tasks)
    assert entry["greedy"] == 1.0  # sample -1 uses index 0 -> gold
    assert entry["pass"][1] == pytest.approx(0.5) and entry["pass"][4] == 1.0
    assert entry["maj"][4] == 1.0  # 2-2 tie between gold and 0: the earliest (gold, index 0) wins
    assert len(records) == 5 * (1 + 4)
    assert {r["verdict"] for r in records} == {"correct", "incorrect"}


def test_evaluate_model_files_determinism_and_resume(tiny_model_dir, smoke_cfg, tmp_path, monkeypatch):
    cfg = _cfg()
    s1 = evaluate_model(tiny_model_dir, ["synthetic"], cfg, tmp_path / "a", tasks_cfg=smoke_cfg.tasks)
    rows = read_jsonl(tmp_path / "a" / "samples.jsonl")
    assert len(rows) == 4 * (1 + 2)
    for key in ("bench", "id", "sample", "prompt", "response", "pred", "verdict"):
        assert key in rows[0]
    assert sorted({r["sample"] for r in rows}) == [-1, 0, 1]
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    e = summary["synthetic"]
    for key in ("n", "greedy", "maj@k", "pass@k", "k", "ci95", "maj", "pass"):
        assert key in e
    assert e["n"] == 4 and e["k"] == 2 and 0.0 <= e["greedy"] <= 1.0
    assert s1["synthetic"]["maj"].keys() == {1, 2}

    s2 = evaluate_model(tiny_model_dir, ["synthetic"], cfg, tmp_path / "b", tasks_cfg=smoke_cfg.tasks)
    rows_b = read_jsonl(tmp_path / "b" / "samples.jsonl")
    assert [r["response"] for r in rows] == [r["response"] for r in rows_b]  # seeded: same samples
    assert s1["synthetic"]["greedy"] == s2["synthetic"]["greedy"]

    # resume: a finished benchmark is not generated again
    import seekmath.evaluate.harness as h

    monkeypatch.setattr(h, "evaluate_bench", lambda *a, **k: (_ for _ in ()).throw(AssertionError("regenerated")))
    s3 = evaluate_model(tiny_model_dir, ["synthetic"], cfg, tmp_path / "a", tasks_cfg=smoke_cfg.tasks)
    assert s3 == s1
    # ...but changed settings are
    with pytest.raises(AssertionError, match="regenerated"):
        evaluate_model(tiny_model_dir, ["synthetic"], _cfg(temperature=0.5), tmp_path / "a", tasks_cfg=smoke_cfg.tasks)


def test_fewshot_on_real_gsm8k(tiny_model_dir, smoke_cfg, tmp_path, shared_data):
    cfg = _cfg(limit=2, k=[], prompt="fewshot")
    s = evaluate_model(tiny_model_dir, ["gsm8k"], cfg, tmp_path, tasks_cfg=smoke_cfg.tasks)
    rows = read_jsonl(tmp_path / "samples.jsonl")
    assert len(rows) == 2 and all(r["sample"] == -1 for r in rows)
    assert rows[0]["prompt"].startswith("Q: There are 15 trees") and rows[0]["prompt"].endswith("\nA:")
    assert "\nQ:" not in rows[0]["response"]
    assert "maj@k" not in s["gsm8k"] and s["gsm8k"]["n"] == 2


def test_bad_config_is_a_clear_error(tiny_model_dir, tmp_path):
    with pytest.raises(ValueError, match="eval.prompt"):
        evaluate_model(tiny_model_dir, ["synthetic"], _cfg(prompt="cot"), tmp_path)
    with pytest.raises(ValueError, match="eval.k"):
        evaluate_model(tiny_model_dir, ["synthetic"], _cfg(k=[0]), tmp_path)


def test_cli(tiny_model_dir, tmp_path, capsys):
    from seekmath.evaluate.cli import main

    rc = main("eval", ["--model", str(tiny_model_dir), "--bench", "synthetic", "--limit", "3", "--k", "1,2",
                       "--out", str(tmp_path / "ev"), "--config", "smoke", "eval.max_new_tokens=5"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "synthetic" in out and "maj@k" in out
    assert (tmp_path / "ev" / "summary.json").is_file() and (tmp_path / "ev" / "config.yaml").is_file()
    assert len(read_jsonl(tmp_path / "ev" / "samples.jsonl")) == 3 * 3
