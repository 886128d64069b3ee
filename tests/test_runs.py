import json
import os

import pytest

from seekmath.runs import MetricsLogger, atomic_dir, atomic_write_json, atomic_write_text, read_jsonl, read_metrics


def test_atomic_write_replaces_whole_file(tmp_path):
    p = tmp_path / "sub" / "f.json"
    atomic_write_json(p, {"a": 1})
    atomic_write_json(p, {"a": 2})
    assert json.loads(p.read_text()) == {"a": 2}
    assert [x.name for x in p.parent.iterdir()] == ["f.json"]  # no temp files left behind


def test_atomic_write_failure_keeps_old_file(tmp_path):
    p = tmp_path / "f.json"
    atomic_write_text(p, "old")

    class Boom:
        pass

    with pytest.raises(TypeError):
        atomic_write_json(p, {"x": Boom()})
    assert p.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["f.json"]


def test_atomic_dir_all_or_nothing(tmp_path):
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        (tmp / "a").write_text("1")
    assert (target / "a").read_text() == "1"
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "b").write_text("2")
            raise RuntimeError("crash mid-write")
    assert sorted(x.name for x in target.iterdir()) == ["a"]
    assert sorted(x.name for x in tmp_path.iterdir()) == ["model"]


def test_metrics_logger_and_resume(tmp_path):
    with MetricsLogger(tmp_path, tensorboard=True) as m:
        for s in range(5):
            m.log(s, loss=1.0 / (s + 1))
    assert [r["step"] for r in read_metrics(tmp_path)] == [0, 1, 2, 3, 4]
    assert any((tmp_path / "tb").iterdir())
    with MetricsLogger(tmp_path, tensorboard=False, resume_from_step=3) as m:
        m.log(3, loss=0.1)
    rows = read_metrics(tmp_path / "metrics.jsonl")
    assert [r["step"] for r in rows] == [0, 1, 2, 3] and rows[-1]["loss"] == 0.1


def test_read_jsonl_names_file_and_line(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"a": 1}\n\n{"a": \n')
    with pytest.raises(ValueError, match=r"x.jsonl:3"):
        read_jsonl(p)


def test_atomic_outputs_have_normal_permissions(tmp_path):
    p = atomic_write_text(tmp_path / "f.txt", "x")
    assert p.stat().st_mode & 0o044 == 0o044  # readable by group/others like a plain open() file
    with atomic_dir(tmp_path / "d") as tmp:
        (tmp / "a").write_text("1")
    assert (tmp_path / "d").stat().st_mode & 0o055 == 0o055
