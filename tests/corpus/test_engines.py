"""Executors: same summaries inline / in worker processes; done markers make a relaunch skip finished shards,
also after a hard kill in the middle of a step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seekmath.corpus.engines import Engine
from seekmath.runs import atomic_write_text


def square_step(task: dict) -> dict:
    """A step: writes its output atomically, logs that it ran, returns a summary."""
    out = Path(task["out"])
    atomic_write_text(out / f"{task['name']}.txt", str(task["x"] ** 2))
    with open(out / "calls.log", "a") as f:
        f.write(task["name"] + "\n")
    return {"square": task["x"] ** 2, "pid": os.getpid()}


def _tasks(out: Path, n: int = 6) -> list[dict]:
    return [{"name": f"t{i}", "x": i, "out": str(out)} for i in range(n)]


def _calls(out: Path) -> list[str]:
    p = out / "calls.log"
    return p.read_text().split() if p.exists() else []


@pytest.mark.parametrize("workers", [1, 2])
def test_local_engine_runs_all_and_skips_done(tmp_path, workers):
    with Engine("local", workers, progress=False) as eng:
        res = eng.run("square", square_step, _tasks(tmp_path), tmp_path / "done")
    assert [r["square"] for r in res] == [0, 1, 4, 9, 16, 25]  # task order, whatever the finishing order
    if workers == 2:
        assert len({r["pid"] for r in res}) >= 1 and all(r["pid"] != os.getpid() for r in res)
    assert sorted(_calls(tmp_path)) == [f"t{i}" for i in range(6)]
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == [f"t{i}.json" for i in range(6)]
    # a relaunch reuses every summary and runs nothing
    with Engine("local", workers, progress=False) as eng:
        again = eng.run("square", square_step, _tasks(tmp_path), tmp_path / "done")
    assert [r["square"] for r in again] == [r["square"] for r in res]
    assert len(_calls(tmp_path)) == 6


def test_bad_engine_and_duplicate_names(tmp_path):
    with pytest.raises(ValueError, match="unknown engine"):
        Engine("spark")
    with pytest.raises(ValueError, match="unique"):
        Engine("local", 1, progress=False).run("s", square_step, [{"name": "a", "x": 1, "out": str(tmp_path)}] * 2, tmp_path / "d")


SCRIPT = """
import sys
sys.path.insert(0, {here!r})
from pathlib import Path
from test_engines import square_step, _tasks
from seekmath.corpus.engines import Engine
out = Path({out!r})
with Engine("local", 1, progress=False) as eng:
    eng.run("square", square_step, _tasks(out), out / "done")
"""


def test_kill_mid_step_then_resume(tmp_path):
    script = SCRIPT.format(here=str(Path(__file__).parent), out=str(tmp_path))
    env = dict(os.environ, SEEKMATH_CORPUS_KILL_AFTER="square:2")
    r = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 137, r.stderr
    assert _calls(tmp_path) == ["t0", "t1"]
    first = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("t*.txt")}
    env.pop("SEEKMATH_CORPUS_KILL_AFTER")
    r = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert _calls(tmp_path) == ["t0", "t1", "t2", "t3", "t4", "t5"]  # finished shards were never redone
    assert {p: tmp_path.joinpath(p).stat().st_mtime_ns for p in first} == first
    assert [json.loads((tmp_path / "done" / f"t{i}.json").read_text())["square"] for i in range(6)] == [0, 1, 4, 9, 16, 25]
