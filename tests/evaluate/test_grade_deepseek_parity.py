"""deepseek mode against DeepSeek-Math's own evaluation code, item by item (`make test-deepseek`).

Skipped unless DEEPSEEK_ORACLE_PYTHON names the python of a venv with DeepSeek's pinned versions
(`make test-deepseek` builds it) and the reference code is present (DEEPSEEK_REFERENCE, default
../shared/data/reference/deepseek-math-evaluation). Items: the MATH-500 reference solutions, the 800
real responses of math_cot_100, and generated tricky pairs (boxed MATH-style and "The answer is"
style). Every verdict must agree except where the oracle timed out; the differing items, if any, are
written to $DEEPSEEK_PARITY_REPORT (default /tmp/deepseek_parity.jsonl) for the README.
"""

import json
import os
import random
import subprocess
from pathlib import Path

import pytest

from seekmath.evaluate.grade import grade_batch

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / ".." / "shared"
REFERENCE = Path(os.environ.get("DEEPSEEK_REFERENCE", SHARED / "data/reference/deepseek-math-evaluation"))
ORACLE_PYTHON = os.environ.get("DEEPSEEK_ORACLE_PYTHON", "")
MATH500 = SHARED / "data/bench/openai_prm800k_math500/test.jsonl"
COT100 = SHARED / "data/bench/QwenLM_Qwen2.5-Math/eval_rm_maj_example/math_cot_100.jsonl"

pytestmark = pytest.mark.skipif(
    not (ORACLE_PYTHON and REFERENCE.exists() and MATH500.exists() and COT100.exists()),
    reason="needs DEEPSEEK_ORACLE_PYTHON (make test-deepseek), the reference code and the bench data")

# Gold answers in the forms where DeepSeek's parse_latex / parse_expr / strip_string path has quirks,
# each with predictions that probe them: mixed numbers, `{,}` / `,\!` separators, `\log_23`, pi and e,
# case of text answers, first-element-only list parsing, percent leniency, equations, matrices, units.
TRICKY = {
    "\\frac{1}{2}": ["0.5", "1/2", "\\dfrac12", "2/4", "0.50", "50\\%"],
    "2\\frac{1}{2}": ["2.5", "\\frac{5}{2}", "5/2", "2 1/2", "2\\frac12", "1"],
    "10{,}000": ["10000", "10,000", "10{,}000", "1000", "10\\,000"],
    "10,\\!000": ["10000", "10,000", "10{,}000", "10 000"],
    "\\log_23": ["\\log_2 3", "\\frac{\\ln 3}{\\ln 2}", "1.585", "log(3)/log(2)", "\\log_3 2"],
    "\\pi": ["pi", "3.14159", "3.14", "\\pi", "180^\\circ", "22/7"],
    "2\\pi": ["2pi", "2*pi", "6.2832", "\\pi 2", "\\tau"],
    "e": ["E", "2.71828", "e", "\\exp(1)", "e^1"],
    "e^2": ["E**2", "e**2", "7.389", "\\exp(2)", "e2"],
    "\\text{Monday}": ["Monday", "monday", "MONDAY", "\\text{monday}", "Tuesday"],
    "\\text{(C)}": ["C", "(C)", "\\text{C}", "c", "(D)"],
    "(1,2)": ["(1, 2)", "(2,1)", "[1,2]", "(1,3)", "(1,2,3)", "1,2"],
    "[1,2)": ["[1, 2)", "(1,2]", "[1,2]", "1\\le x<2"],
    "(-\\infty, 3]": ["(-\\infty,3]", "(-inf, 3]", "x \\le 3", "(-\\infty, 3)"],
    "\\{1,2\\}": ["\\{2,1\\}", "1, 2", "\\{1, 2\\}", "(1,2)"],
    "1, 2, 3": ["3, 2, 1", "1,2,3", "1, 2", "\\{1,2,3\\}"],
    "x^2+2x+1": ["(x+1)^2", "x**2+2*x+1", "x^2+2x+2", "1+2x+x^2"],
    "\\sqrt{2}": ["\\sqrt2", "sqrt(2)", "2^{1/2}", "1.4142", "1.41", "\\frac{2}{\\sqrt{2}}"],
    "\\frac{\\sqrt{3}}{2}": ["\\sqrt{3}/2", "0.866", "\\frac{\\sqrt3}{2}", "\\frac{1}{2}\\sqrt{3}", "\\frac{3}{2\\sqrt{3}}"],
    "50\\%": ["50", "0.5", "50%", "5"],
    "0.5": ["\\frac12", "50", "0.500", "1/2"],
    "30^\\circ": ["30", "30^{\\circ}", "\\frac{\\pi}{6}", "30 degrees"],
    "5\\text{ cm}": ["5", "5 cm", "5\\text{ cm}^2", "50 mm"],
    "\\begin{pmatrix}1\\\\2\\end{pmatrix}": ["\\begin{bmatrix}1\\\\2\\end{bmatrix}", "\\begin{pmatrix}1\\\\3\\end{pmatrix}", "(1,2)"],
    "y=2x+1": ["y = 1 + 2x", "2x+1", "2x - y + 1 = 0", "y=2x-1"],
    "x=5": ["5", "x = 5", "y=5", "5.0"],
    "-3": ["-3.0", "3", "- 3", "−3", "(-3)"],
    "4:30 p.m.": ["4:30", "4:30 PM", "16:30", "4:30 \\text{ p.m.}"],
    "1024": ["2^{10}", "2^10", "1{,}024", "1,024", "1024.0"],
    "1.5\\times10^3": ["1500", "1.5e3", "1500.0", "15 \\times 10^2"],
    "3+4i": ["4i+3", "3+4j", "3+4I", "3-4i"],
    "\\infty": ["infinity", "inf", "oo", "\\infty"],
    "\\emptyset": ["\\varnothing", "\\{\\}", "none", "\\emptyset"],
    "a+b": ["b+a", "a + b", "ab", "A+B"],
    "\\dfrac{3}{4}": ["0.75", "3/4", "\\frac34", "0.7500", "6/8"],
    "0.\\overline{3}": ["\\frac{1}{3}", "0.333", "0.3333", "1/3"],
    "\\$18.90": ["18.90", "18.9", "\\$18.9", "18"],
    "2 \\text{ and } 3": ["2, 3", "3 \\text{ and } 2", "2", "2 \\text{ or } 3"],
    "5!": ["120", "5!", "factorial(5)", "24"],
    "\\binom{5}{2}": ["10", "\\binom52", "C(5,2)", "20"],
    "10^{-3}": ["0.001", "1/1000", "0.002", "1e-3"],
    "\\frac{7}{3}": ["2\\frac{1}{3}", "2 1/3", "7/3", "2.333", "2.33"],
    "\\tan 3": ["\\tan3", "\\tan{3}", "tan(3)", "-0.1425"],
    "-\\frac{1}{2}": ["-1/2", "\\frac{-1}{2}", "-0.5", "\\frac{1}{-2}", "1/2"],
    "\\sqrt{x^2+1}": ["(x^2+1)^{1/2}", "sqrt(x**2+1)", "\\sqrt{1+x^2}", "x+1"],
}


def _tricky_items() -> list[dict]:
    rng = random.Random(0)
    all_preds = sorted({p for ps in TRICKY.values() for p in ps})
    items = []
    lanes = [("tricky boxed", "math", "So the answer is $\\boxed{{{}}}$."), ("tricky 'answer is'", None, "We are done. The answer is {}")]
    for gold, preds in TRICKY.items():
        for pred in preds + rng.sample(all_preds, 3):
            items += [{"response": form.format(pred), "gold": gold, "bench": bench, "question": "", "lane": lane}
                      for lane, bench, form in lanes]
    return items


def _real_items() -> list[dict]:
    items = []
    for r in map(json.loads, MATH500.read_text().splitlines()):
        items.append({"response": r["solution"], "gold": r["answer"], "bench": "math", "question": r["problem"],
                      "lane": "MATH-500 references"})
    for r in map(json.loads, COT100.read_text().splitlines()):
        for resp in r["code"]:
            items.append({"response": resp, "gold": r["answer"], "bench": "math", "question": r["question"],
                          "lane": "math_cot_100 responses"})
    return items


def test_deepseek_mode_verdicts_equal_deepseeks_code(tmp_path):
    items = _real_items() + _tricky_items()
    for i, it in enumerate(items):
        it["id"] = i
    stdin = "".join(json.dumps({k: it[k] for k in ("id", "response", "gold", "bench", "question")}) + "\n" for it in items)
    oracle = subprocess.run([ORACLE_PYTHON, str(Path(__file__).with_name("deepseek_oracle.py")), str(REFERENCE)],
                            input=stdin, capture_output=True, text=True, timeout=3600, cwd=tmp_path)
    assert oracle.returncode == 0, oracle.stderr[-2000:]
    theirs = {o["id"]: o for o in map(json.loads, oracle.stdout.splitlines())}
    ours = grade_batch(items, mode="deepseek", timeout=30.0, workers=2)

    per_lane: dict[str, list[int]] = {}
    differ, timeouts = [], []
    for it, v in zip(items, ours):
        o = theirs[it["id"]]
        lane = per_lane.setdefault(it["lane"], [0, 0, 0])
        if o["correct"] is None or v.verdict == "unverifiable" and "timeout" in v.reason:
            timeouts.append(it["id"])
            lane[2] += 1
            continue
        lane[0] += 1
        if v.correct != o["correct"]:
            lane[1] += 1
            differ.append({"id": it["id"], "lane": it["lane"], "gold": it["gold"], "response": it["response"][-300:],
                           "deepseek_pred": o["pred"], "ours_pred": v.pred, "deepseek": o["correct"],
                           "ours": v.verdict, "reason": v.reason})
    report = Path(os.environ.get("DEEPSEEK_PARITY_REPORT", "/tmp/deepseek_parity.jsonl"))
    report.write_text("".join(json.dumps(d) + "\n" for d in differ))
    summary = {lane: {"compared": c, "differ": d, "timeouts": t} for lane, (c, d, t) in per_lane.items()}
    print("deepseek parity:", json.dumps(summary))
    assert not differ, f"{len(differ)} verdicts differ from DeepSeek's code (see {report}): {summary}"
