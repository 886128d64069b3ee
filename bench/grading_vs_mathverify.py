"""Grading speed: seekmath's grader vs math-verify (parse + verify), in the same run.

1. One-item cold call: `seekmath grade` on a one-line file whose item needs sympy, against
   `python -c "from math_verify import parse, verify; ..."` on the same pair — fresh processes,
   interleaved, median of --cold-repeats; wall seconds and CPU seconds (the child's user+sys, robust
   to a loaded machine).
2. Throughput on the 800 real responses of math_cot_100 (100 MATH problems x 8 model responses with
   the verdicts Qwen2.5-Math's grader gave; gold = the file's raw `answer`, MATH's own spelling), one
   item at a time in this process. seekmath's first pass starts cold (no worker started: start-up is
   inside the timing); then --repeats warm passes (best reported).

    .venv/bin/python bench/grading_vs_mathverify.py [--repeats 3] [--cold-repeats 5]

math-verify runs with its signal timeouts disabled (as it must off the main thread); seekmath with its
default 1 s per-item limit.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data/bench/QwenLM_Qwen2.5-Math/eval_rm_maj_example/math_cot_100.jsonl"


# listed verdicts that are wrong (documented in tests/evaluate/test_grade_data.py::LABEL_ERRORS):
# problem idx 72 response 7, and all 8 responses of problem idx 3 (their right answers were scored wrong)
LABEL_ERRORS = {(72, 7)} | {(3, j) for j in range(8)}


def load():
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    return [(resp, r["answer"], label, (r["idx"], j)) for r in rows for j, (resp, label) in enumerate(zip(r["code"], r["score"]))]


def run_mathverify(items):
    from math_verify import parse, verify

    out = []
    for resp, gold, _, _ in items:
        g = parse("$" + gold + "$", parsing_timeout=None)
        p = parse(resp, parsing_timeout=None)
        out.append(bool(verify(g, p, timeout_seconds=None)))
    return out


def run_seekmath(items):
    from seekmath.evaluate.grade import grade

    return [grade(resp, gold).correct for resp, gold, _, _ in items]


def run_seekmath_deepseek(items):
    from seekmath.evaluate.grade import grade

    return [grade(resp, gold, mode="deepseek").correct for resp, gold, _, _ in items]


COLD_PAIR = ("so the answer is $\\boxed{\\frac{\\sqrt{2}}{2}}$.", "\\frac{1}{\\sqrt 2}")  # needs sympy in both


def _timed(cmd: list[str], **kw) -> tuple[float, float, str]:
    """(wall s, child CPU s, stdout+stderr) of one fresh process."""
    before = os.times()
    t = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    wall = time.perf_counter() - t
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    assert res.returncode == 0, res.stderr[-500:]
    return wall, cpu, res.stdout + res.stderr


def cold_calls(repeats: int) -> dict:
    response, gold = COLD_PAIR
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        inp.write_text(json.dumps({"response": response, "gold": gold}) + "\n")
        seek = [sys.executable, "-m", "seekmath.cli", "grade", "--input", str(inp), "--output", str(out)]
        mv = [sys.executable, "-c", "from math_verify import parse, verify; import sys; "
              f"print(verify(parse({'$' + gold + '$'!r}), parse(sys.argv[1])))", response]
        runs: dict[str, list] = {"seekmath grade (1 item)": [], "math-verify python -c": []}
        for _ in range(repeats):  # interleaved: both see the same machine load
            wall, cpu, text = _timed(seek)
            assert '"verdict": "correct"' in out.read_text(), out.read_text()
            runs["seekmath grade (1 item)"].append((wall, cpu))
            wall, cpu, text = _timed(mv)
            assert "True" in text, text
            runs["math-verify python -c"].append((wall, cpu))
    return {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in runs.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3, help="timed warm passes per grader (best is reported)")
    ap.add_argument("--cold-repeats", type=int, default=5, help="fresh-process one-item calls per tool (median)")
    args = ap.parse_args()
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)

    cold = cold_calls(args.cold_repeats)
    print(f"one-item cold call, median of {args.cold_repeats} fresh processes (interleaved):")
    for name, (wall, cpu) in cold.items():
        print(f"  {name:<26} wall {wall:6.2f} s   CPU {cpu:6.2f} s")

    items = load()
    labels = [lab for _, _, lab, _ in items]
    fixed = [(not lab) if key in LABEL_ERRORS else lab for _, _, lab, key in items]
    from seekmath.evaluate import grade as grade_module

    grade_module._CACHE_SIZE = 0  # time real work: no memoised worker verdicts between passes
    graders = (("seekmath strict", run_seekmath), ("math-verify 0.9 (parse+verify)", run_mathverify),
               ("seekmath deepseek", run_seekmath_deepseek))
    times: dict[str, list[float]] = {name: [] for name, _ in graders}
    verdicts: dict[str, list] = {}
    for _ in range(args.repeats + 1):  # pass 0 is cold: imports (and seekmath's workers) start in it;
        for name, fn in graders:       # the graders alternate pass by pass, so all see the same load
            t = time.perf_counter()
            verdicts[name] = fn(items)
            times[name].append(time.perf_counter() - t)
    results = {}
    for name, _ in graders:
        agree = sum(v == lab for v, lab in zip(verdicts[name], labels))
        agree_fixed = sum(v == lab for v, lab in zip(verdicts[name], fixed))
        results[name] = (min(times[name][1:]), times[name][0], agree, agree_fixed)

    print(f"{len(items)} responses, one at a time in one process (wall s):")
    print(f"{'grader':<34} {'cold s':>8} {'best s':>8} {'items/s':>9} {'agree w/ labels':>16} {'w/ fixed labels':>16}")
    for name, (secs, first, agree, agree_fixed) in results.items():
        print(f"{name:<34} {first:>8.3f} {secs:>8.3f} {len(items) / secs:>9.0f} {agree:>12}/{len(items)}"
              f" {agree_fixed:>12}/{len(items)}")
    (sm_s, sm_first, *_), (mv_s, mv_first, *_), _ = results.values()
    print(f"throughput ratio seekmath / math-verify: {mv_s / sm_s:.2f}x (best warm pass), {mv_first / sm_first:.2f}x "
          "(cold pass, start-up included)")
    print("fixed labels = the 9 wrong listed verdicts flipped (tests/evaluate/test_grade_data.py::LABEL_ERRORS); "
          "gold = the raw `answer` field for every grader")


if __name__ == "__main__":
    main()
