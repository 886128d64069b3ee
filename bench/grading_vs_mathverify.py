"""Grading throughput: seekmath's grader vs math-verify (parse + verify) on the same 800 real responses.

Data: ../shared/data/bench/QwenLM_Qwen2.5-Math/eval_rm_maj_example/math_cot_100.jsonl (100 MATH
problems x 8 model responses, with the verdicts Qwen2.5-Math's grader gave). Both graders see the full
response text and the gold (`gt`), one item at a time, in one process, in the same run.

    .venv/bin/python bench/grading_vs_mathverify.py [--repeats 3]

math-verify runs with its signal timeouts disabled (as it must off the main thread); seekmath with its
default hard 1 s per-item limit (worker processes started and warmed before timing; startup is reported
separately). Prints a table and the throughput ratio (goal: >= 1x).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data/bench/QwenLM_Qwen2.5-Math/eval_rm_maj_example/math_cot_100.jsonl"


# listed verdicts that are wrong (documented in tests/evaluate/test_grade_data.py::LABEL_ERRORS):
# problem idx 72 response 7, and all 8 responses of problem idx 3 (their right answers were scored wrong)
LABEL_ERRORS = {(72, 7)} | {(3, j) for j in range(8)}


def load():
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    return [(resp, r["gt"], label, (r["idx"], j)) for r in rows for j, (resp, label) in enumerate(zip(r["code"], r["score"]))]


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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3, help="timed passes per grader (best is reported)")
    args = ap.parse_args()
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    items = load()
    labels = [lab for _, _, lab, _ in items]
    fixed = [(not lab) if key in LABEL_ERRORS else lab for _, _, lab, key in items]

    t = time.perf_counter()
    from seekmath.evaluate import grade as grade_module
    from seekmath.evaluate.grade_workers import shared_pool

    grade_module._CACHE_SIZE = 0  # time real work: no memoised worker verdicts between passes

    shared_pool().wait_all_ready(120)
    startup = time.perf_counter() - t

    results = {}
    for name, fn in (("math-verify 0.9 (parse+verify)", run_mathverify), ("seekmath strict", run_seekmath),
                     ("seekmath deepseek", run_seekmath_deepseek)):
        times, verdicts = [], None
        for _ in range(args.repeats):
            t = time.perf_counter()
            verdicts = fn(items)
            times.append(time.perf_counter() - t)
        agree = sum(v == lab for v, lab in zip(verdicts, labels))
        agree_fixed = sum(v == lab for v, lab in zip(verdicts, fixed))
        results[name] = (min(times), times[0], agree, agree_fixed)

    print(f"{len(items)} responses; seekmath worker startup (once per process, not timed below): {startup:.2f}s")
    print(f"{'grader':<34} {'first s':>8} {'best s':>8} {'items/s':>9} {'agree w/ labels':>16} {'w/ fixed labels':>16}")
    for name, (secs, first, agree, agree_fixed) in results.items():
        print(f"{name:<34} {first:>8.3f} {secs:>8.3f} {len(items) / secs:>9.0f} {agree:>12}/{len(items)}"
              f" {agree_fixed:>12}/{len(items)}")
    (mv_s, mv_first, *_), (sm_s, sm_first, *_), _ = results.values()
    print(f"throughput ratio seekmath / math-verify: {mv_s / sm_s:.2f}x (best pass), {mv_first / sm_first:.2f}x (first pass)")
    print("fixed labels = the 9 wrong listed verdicts flipped (tests/evaluate/test_grade_data.py::LABEL_ERRORS); "
          "gold = the `gt` field for every grader")


if __name__ == "__main__":
    main()
