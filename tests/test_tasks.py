import json

import pytest

from seekmath.config import TasksConfig
from seekmath.evaluate.boxed import find_boxed, last_boxed
from seekmath.tasks.loaders import BENCHMARKS, TaskError, load_file, load_problems
from seekmath.tasks.synthetic import Arithmetic, apply_op, canonical_split, generate_problems, split_of


def test_generator_is_deterministic_for_a_seed():
    cfg = TasksConfig()
    a = generate_problems(cfg, "train", 200)
    b = generate_problems(cfg, "train", 200)
    assert [p.to_dict() for p in a] == [p.to_dict() for p in b]
    c = generate_problems(cfg, "train", 200, seed=1)
    assert [p.question for p in a] != [p.question for p in c]


def test_train_and_test_are_disjoint_by_construction():
    cfg = TasksConfig()
    train = {p.metadata["key"] for p in generate_problems(cfg, "train", 5000)}
    test = {p.metadata["key"] for p in generate_problems(cfg, "test", 300)}
    other_seed = {p.metadata["key"] for p in generate_problems(cfg, "train", 2000, seed=7)}
    assert len(test) == 300 and not (train & test) and not (other_seed & test)
    for p in generate_problems(cfg, "test", 50):
        assert split_of(_arith(p), cfg.test_fraction, cfg.tune_fraction) == "test"


def _arith(p) -> Arithmetic:
    a = Arithmetic.from_key(p.metadata["key"])
    assert a.key() == p.metadata["key"] and str(a.answer) == p.answer
    return a


def test_three_splits_disjoint_by_construction_and_deterministic():
    cfg = TasksConfig()
    keys = {s: {p.metadata["key"] for p in generate_problems(cfg, s, n)} for s, n in [("train", 4000), ("tune", 300), ("test", 300)]}
    assert len(keys["tune"]) == 300 and len(keys["test"]) == 300
    assert not (keys["train"] & keys["tune"]) and not (keys["train"] & keys["test"]) and not (keys["tune"] & keys["test"])
    for seed in (0, 5):  # whatever the seed, a tuning problem is a tuning problem
        for p in generate_problems(cfg, "tune", 40, seed=seed):
            assert split_of(_arith(p), cfg.test_fraction, cfg.tune_fraction) == "tune"
            assert p.id.startswith(f"synthetic-tune-{seed}-")
    assert [p.to_dict() for p in generate_problems(cfg, "tune", 50)] == [p.to_dict() for p in generate_problems(cfg, "tuning", 50)]
    assert [p.to_dict() for p in generate_problems(cfg, "report", 50)] == [p.to_dict() for p in generate_problems(cfg, "test", 50)]
    # the report split is the old held-out split exactly: carving out the tuning split took only train problems
    old = TasksConfig(tune_fraction=0.0)
    assert [p.to_dict() for p in generate_problems(old, "test", 100)] == [p.to_dict() for p in generate_problems(cfg, "test", 100)]
    assert load_problems("synthetic", limit=5, split="tune")[0].id.startswith("synthetic-tune-")


def test_split_names_and_fractions_are_checked():
    assert canonical_split("report") == "test" and canonical_split("train") == "train"
    with pytest.raises(ValueError, match="split must be one of train, tune, test"):
        generate_problems(TasksConfig(), "validation", 5)
    with pytest.raises(ValueError, match=r"tasks.test_fraction \+ tasks.tune_fraction must be < 1"):
        generate_problems(TasksConfig(test_fraction=0.5, tune_fraction=0.5), "train", 5)
    with pytest.raises(ValueError, match="tasks.tune_fraction must be in"):
        generate_problems(TasksConfig(tune_fraction=-0.1), "train", 5)


def test_solutions_are_correct_and_end_in_a_box():
    cfg = TasksConfig(min_steps=2, max_steps=4)
    for p in generate_problems(cfg, "train", 300):
        lines = p.solution.split("\n")
        assert len(lines) == p.metadata["steps"] + 2  # start line, one per step, answer line
        assert last_boxed(p.solution) == p.answer
        for line in lines[1:-1]:  # every written calculation is right
            expr = line.split(" has ")[-1].split(" holds ")[-1]
            lhs, rhs = expr.split(" = ")
            x, op, y = lhs.split()
            want = {"+": "add", "-": "sub", "*": "mul", "/": "div"}[op]
            assert apply_op(int(x), want, int(y)) == int(rhs.split()[0])
        assert int(p.answer) >= 0


def test_difficulty_knobs():
    easy = TasksConfig(min_steps=1, max_steps=1, operations=["add"], max_value=10)
    for p in generate_problems(easy, "train", 50):
        assert p.metadata["ops"] == ["add"] and int(p.answer) < 20
    hard = TasksConfig(min_steps=4, max_steps=4)
    assert all(p.metadata["steps"] == 4 for p in generate_problems(hard, "train", 50))


def test_load_synthetic_by_name():
    probs = load_problems("synthetic", limit=7)
    assert len(probs) == 7 and probs[0].source == "synthetic" and probs[0].id.startswith("synthetic-test")


def test_boxed_scanner():
    assert find_boxed(r"\boxed{\frac{1}{2}} and \fbox{3}") == [r"\frac{1}{2}", "3"]
    assert last_boxed(r"no box") is None
    assert last_boxed(r"\boxed{}") == ""
    assert last_boxed(r"unbalanced \boxed{1 + {2}") is None
    assert last_boxed(r"\boxed 5.") == "5"


def test_real_benchmark_files(shared_data, monkeypatch):
    monkeypatch.setenv("SEEKMATH_DATA_DIR", str(shared_data / "bench"))
    gsm = load_problems("gsm8k")
    assert len(gsm) == 1319 and gsm[0].answer == "18"
    train = load_problems("gsm8k_train", limit=3)
    assert train[0].answer == "72" and "####" not in train[0].solution
    m500 = load_problems("math500")
    assert len(m500) == 500 and m500[0].answer.startswith("\\left( 3")
    expected = {"cmath": 1098, "mgsm_zh": 250, "gaokao_mathcloze": 118, "gaokao_mathqa": 351, "sat": 32,
                "mmlu_stem": 3018, "ocw": 272, "svamp": 1000, "asdiv": 2215, "aime24": 30, "amc23": 40}
    for name, n in expected.items():
        probs = load_problems(name)
        assert len(probs) == n, name
        assert all(p.question and p.answer for p in probs), name
    assert load_problems("mmlu_stem", limit=1)[0].metadata["options"] == ["0", "4", "2", "6"]
    assert load_problems("amc23", limit=1)[0].answer == "27"
    assert load_problems("asdiv", limit=1)[0].answer == "9"


def test_loader_errors(tmp_path):
    with pytest.raises(TaskError, match="unknown benchmark 'gsm8kk'.*'gsm8k'"):
        load_problems("gsm8kk")
    with pytest.raises(TaskError, match="not found"):
        load_problems(str(tmp_path / "missing.jsonl"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"question": "q", "answer": "1"}) + "\n{oops\n")
    with pytest.raises(TaskError, match=r"bad.jsonl:2"):
        load_file(bad)
    nofield = tmp_path / "nofield.jsonl"
    nofield.write_text(json.dumps({"question": "q"}) + "\n")
    with pytest.raises(TaskError, match=r"nofield.jsonl:1.*answer"):
        load_file(nofield)


def test_local_file_with_gsm8k_style_answer(tmp_path):
    f = tmp_path / "mine.jsonl"
    f.write_text(json.dumps({"question": "2+2?", "answer": "2+2=4\n#### 4"}) + "\n")
    (p,) = load_problems(str(f))
    assert p.answer == "4" and p.solution == "2+2=4"


def test_registry_covers_issue_benchmarks():
    for name in ["gsm8k", "math500", "math", "ocw", "sat", "mmlu_stem", "cmath", "mgsm_zh", "gaokao_mathcloze",
                 "gaokao_mathqa", "svamp", "asdiv", "aime24", "amc23"]:
        assert name in BENCHMARKS


def test_small_problem_space_returns_all_distinct_problems():
    cfg = TasksConfig(min_steps=1, max_steps=1, operations=["add"], max_value=5)
    probs = generate_problems(cfg, "train", 1000)
    keys = [p.metadata["key"] for p in probs]
    assert 0 < len(probs) < 1000 and len(set(keys)) == len(keys)
    # start 2..4 and operand 1..4: at most 12 problems in all, split between train and test
    assert len(probs) + len(generate_problems(cfg, "test", 1000)) <= 12
