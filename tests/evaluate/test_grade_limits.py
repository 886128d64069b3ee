"""Hard per-item time limit, thread safety, pathological inputs, and the CLI's input checking."""

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from seekmath.evaluate.grade import grade, grade_batch
from seekmath.evaluate.grade_workers import shared_pool

WRONG = ("incorrect", "unverifiable")  # never a false "correct"
PATHOLOGICAL = [
    ("power tower", "10^{10^{10^{10^{10}}}}", "5", WRONG),
    ("nested parentheses", "(" * 60 + "x+1" + ")" * 60 + "^{2}", "x^2+2x+1", ("correct",)),
    ("nested parentheses, wrong", "(" * 60 + "x+1" + ")" * 60 + "^{2}", "x^2+2x+2", WRONG),
    ("huge factorial", "100000000!", "2", WRONG),
    ("factorial tower", "(10!)!", "3", WRONG),
    ("deep radicals", "\\sqrt{" * 40 + "2" + "}" * 40, "1", WRONG),
]


@pytest.fixture(scope="module", autouse=True)
def warm_pool():
    assert shared_pool(2).wait_all_ready(120)


@pytest.mark.parametrize("name,pred,gold,allowed", PATHOLOGICAL, ids=[p[0] for p in PATHOLOGICAL])
def test_pathological_inputs_return_within_the_limit(name, pred, gold, allowed):
    shared_pool().wait_all_ready(120)  # a killed worker's replacement must be warm before we time the next
    t = time.monotonic()
    v = grade(f"\\boxed{{{pred}}}", gold, timeout=1.0)
    elapsed = time.monotonic() - t
    assert elapsed <= 1.0, (name, elapsed, v)
    assert v.verdict in allowed, v
    if v.verdict == "unverifiable":
        assert "timeout" in v.reason


# a degenerate policy's greedy output (the tiny recipe's GRPO checkpoint on GSM8K, 2026-11-29): the answer
# normalisation runs in-line, outside the worker's time limit, and a unit regex that could split a word
# into letter runs backtracked exponentially on it when the text did not end in a word (0.7 s at 6 words,
# 7.8 s at 8, minutes at 30)
REPEATED_WORDS = [" 10 " + " ".join(["pencils"] * n) + tail for n in (8, 30, 120) for tail in (",", " p", " 7", "")]


@pytest.mark.parametrize("response", REPEATED_WORDS, ids=[f"{len(r)}chars" for r in REPEATED_WORDS])
def test_repeated_words_are_graded_in_linear_time(response):
    t = time.monotonic()
    v = grade(response, "20", bench="gsm8k", timeout=1.0)
    assert time.monotonic() - t <= 1.0
    assert v.verdict in WRONG


def test_soft_timeout_keeps_the_worker_warm():
    pool = shared_pool()
    pool.wait_all_ready(120)
    before = {w.proc.pid for w in pool._all}
    v = grade("\\boxed{10^{10^{10^{10^{10}}}}}", "5", timeout=0.5)
    assert v.verdict == "unverifiable" and "timeout" in v.reason
    assert {w.proc.pid for w in pool._all} == before


def test_worker_is_really_killed_and_replaced():
    pool = shared_pool()
    pool.wait_all_ready(120)
    before = {w.proc.pid for w in pool._all}
    # soft limit off: only the parent's hard deadline can stop this one
    reply = pool.run({"mode": "strict", "pred": "10^{10^{10^{10^{10}}}}", "gold": "5", "soft_timeout": 0}, 0.5)
    assert reply["verdict"] == "unverifiable" and "timeout" in reply["reason"]
    after = {w.proc.pid for w in pool._all}
    gone = before - after
    assert len(gone) == 1 and len(after) == len(before)
    pid = gone.pop()
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):  # reaped: the runaway sympy work is gone
        import os

        os.kill(pid, 0)
    assert pool.wait_all_ready(120)
    assert grade("\\boxed{\\sqrt{8}}", "2\\sqrt{2}").correct


ITEMS = [
    ("\\boxed{\\frac{1}{2}}", "0.5", True),
    ("The answer is $\\sqrt{8}$.", "2\\sqrt{2}", True),
    ("\\boxed{(1,2)}", "(2,1)", False),
    ("#### 1,234", "1234", True),
    ("\\boxed{x^2+2x+1}", "(x+1)^2", True),
    ("\\boxed{2^{-60}}", "2^{-61}", False),
    ("\\boxed{[1,2)}", "[1,2]", False),
    ("\\boxed{3+4i}", "4i+3", True),
] * 4


def test_grading_from_worker_threads_matches_serial_and_is_fast():
    serial = [grade(r, g) for r, g, _ in ITEMS]
    assert [v.correct for v in serial] == [e for _, _, e in ITEMS]
    times = []

    def timed(item):
        t = time.monotonic()
        v = grade(item[0], item[1], timeout=1.0)
        times.append(time.monotonic() - t)
        return v

    with ThreadPoolExecutor(4) as ex:
        threaded = list(ex.map(timed, ITEMS))
    assert [v.verdict for v in threaded] == [v.verdict for v in serial]
    assert max(times) <= 1.0
    batch = grade_batch([{"response": r, "gold": g} for r, g, _ in ITEMS], workers=2)
    assert [v.verdict for v in batch] == [v.verdict for v in serial]


def test_no_eval_of_model_text(tmp_path):
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    for mode in ("strict", "deepseek"):
        grade(f"\\boxed{{{payload}}}", "1", mode=mode, timeout=2.0)
        grade(f"The answer is {payload}", f"{payload}x", mode=mode, timeout=2.0)
    assert not marker.exists()


def test_cli_rejects_malformed_line_with_its_number(tmp_path):
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"response": "\\boxed{1}", "gold": "1"}) + "\n{not json\n")
    res = subprocess.run([sys.executable, "-m", "seekmath.cli", "grade", "--input", str(inp), "--output",
                          str(tmp_path / "o.jsonl")], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "in.jsonl:2" in res.stderr
    inp.write_text(json.dumps({"response": "\\boxed{1}"}) + "\n")
    res = subprocess.run([sys.executable, "-m", "seekmath.cli", "grade", "--input", str(inp), "--output",
                          str(tmp_path / "o.jsonl")], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "in.jsonl:1" in res.stderr and "gold" in res.stderr


def test_cli_output_fields_and_summary(tmp_path):
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    rows = [{"id": "a", "response": "so \\boxed{7}", "gold": "7", "extra": 1},
            {"id": "b", "response": "I have no idea how to solve this one", "gold": "\\frac{1}{2}"},
            {"id": "c", "response": "\\boxed{A}", "gold": "B", "bench": "sat"}]
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = subprocess.run([sys.executable, "-m", "seekmath.cli", "grade", "--input", str(inp), "--output", str(out),
                          "--mode", "strict", "--workers", "1", "--timeout", "2"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [g["id"] for g in got] == ["a", "b", "c"] and got[0]["extra"] == 1
    assert [g["verdict"] for g in got] == ["correct", "incorrect", "incorrect"]
    assert got[0]["pred"] == "7" and got[1]["pred"] is None and got[2]["pred"] == "A"
    assert all(g["reason"] for g in got)
    assert "graded 3 items" in res.stderr and "correct 1" in res.stderr


def test_grading_in_a_forked_child_uses_its_own_workers():
    import multiprocessing as mp

    assert grade("\\boxed{\\sqrt{8}}", "2\\sqrt{2}").correct  # parent pool in use
    ctx = mp.get_context("fork")
    with ctx.Pool(1) as pool:  # daemonic worker processes: multiprocessing children cannot have children
        got = pool.apply(_grade_in_child)
    assert got == ["correct", "incorrect"]
    assert grade("\\boxed{x^2+2x+1}", "(x+1)^2").correct  # parent pool unharmed


def _grade_in_child():
    return [grade("\\boxed{\\sqrt{12}}", "2\\sqrt{3}", timeout=30).verdict,
            grade("\\boxed{\\sqrt{12}}", "3\\sqrt{2}", timeout=30).verdict]


def test_integer_answers_never_start_a_worker_process():
    code = ("from seekmath.evaluate.grade import grade_batch; from seekmath.evaluate import grade_workers as gw; "
            "vs = grade_batch([{'response': 'so \\\\boxed{1,000}', 'gold': '1000'}, {'response': '#### 7', 'gold': '8'}], "
            "workers=2); print([v.verdict for v in vs], gw._POOL is None)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.stdout.strip() == "['correct', 'incorrect'] True", res.stderr


DEGENERATE = {  # RL samples that loop: extraction and normalisation must stay linear (these were 13-150 s)
    "repeated final-answer sentence": "The final answer is 5 and " * 5000,
    "repeated unclosed boxes": "\\boxed{" * 20000,
    "100k digits": "1" * 100000,
    "digits with commas": "1," * 50000,
    "hash then digits": "#### " + "1," * 30000,
    "nested boxes": "\\boxed{" * 20000 + "5" + "}" * 20000,
    "repeated I hope": "I hope " * 20000,
}


@pytest.mark.parametrize("mode", ["strict", "deepseek"])
@pytest.mark.parametrize("name", list(DEGENERATE))
def test_degenerate_long_responses_are_graded_fast(name, mode):
    shared_pool().wait_all_ready(120)
    t = time.monotonic()
    v = grade(DEGENERATE[name], "5", mode=mode, timeout=1.0)
    assert time.monotonic() - t <= 1.0, (name, mode, v)


def test_one_item_cold_call_needs_no_worker_and_later_items_start_them():
    """A fresh process: the first sympy item is checked in-process (no worker started), the second starts
    the workers lazily, and while they start items are still graded in the main thread."""
    code = ("import time; from seekmath.evaluate.grade import grade; from seekmath.evaluate import grade_workers as gw\n"
            "v = grade('\\\\boxed{\\\\frac{\\\\sqrt{2}}{2}}', '\\\\frac{1}{\\\\sqrt 2}')\n"
            "print(v.verdict, gw._POOL is None)\n"
            "t = time.monotonic(); w = grade('\\\\boxed{\\\\sqrt{8}}', '2\\\\sqrt{2}'); dt = time.monotonic() - t\n"
            "print(w.verdict, gw._POOL is not None, dt < 1.0)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.stdout.split() == ["correct", "True", "correct", "True", "True"], res.stdout + res.stderr


def test_the_limit_covers_waiting_for_a_worker_to_start():
    """Off the main thread (no SIGALRM) with no warm worker, the item waits for start-up only until its
    deadline: a 0.3 s limit returns within it, as a timeout, never a wrong verdict."""
    from seekmath.evaluate.grade_workers import WorkerPool

    pool = WorkerPool(1)  # cold: its worker is still importing sympy
    try:
        t = time.monotonic()
        with ThreadPoolExecutor(1) as ex:
            reply = ex.submit(pool.run, {"mode": "strict", "pred": "\\sqrt{8}", "gold": "2\\sqrt{2}"}, 0.3).result()
        assert time.monotonic() - t < 0.6
        assert reply["verdict"] == "unverifiable" and "starting" in reply["reason"], reply
        assert pool.wait_all_ready(120)  # the worker was kept: the next item finds it warm
        assert pool.run({"mode": "strict", "pred": "\\sqrt{8}", "gold": "2\\sqrt{2}"}, 5.0)["verdict"] == "correct"
    finally:
        pool.close()


def test_in_process_check_is_interrupted_at_the_limit(monkeypatch):
    """The main-thread check (no warm worker) stops at the item's limit (SIGALRM) and restores the handler."""
    import signal

    from seekmath.evaluate import equivalence
    from seekmath.evaluate import grade as grade_module

    def slow(pred, gold):
        while True:
            pass

    equivalence.prime()  # the one-time set-up is not charged to the item (grade.py docstring)
    monkeypatch.setattr(equivalence, "heavy_equal", slow)
    monkeypatch.setattr(grade_module, "_CACHE", type(grade_module._CACHE)())  # no memoised verdict
    monkeypatch.setattr(grade_module, "started_pool", lambda: None)
    monkeypatch.setattr(grade_module, "shared_pool", lambda **kw: None)
    before = signal.getsignal(signal.SIGALRM)
    t = time.monotonic()
    v = grade_module.grade("\\boxed{x^2+2x+1}", "(x+1)^2", timeout=0.5)
    assert time.monotonic() - t < 0.8 and v.verdict == "unverifiable" and "timeout" in v.reason, v
    assert signal.getsignal(signal.SIGALRM) is before and signal.getitimer(signal.ITIMER_REAL)[0] == 0
