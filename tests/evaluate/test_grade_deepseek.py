"""`mode="deepseek"`: DeepSeek-Math's strip_string (spec §5.4) and math_equal / eval rules (§5.5)."""

import pytest

from seekmath.evaluate import deepseek_compat as ds
from seekmath.evaluate.grade import grade

STRIP = [
    ("  5.  ", "5"),                       # strip + trailing "."
    ("\\text{Monday}", "Monday"),          # whole \text{} unwrapped
    ("\\dfrac{1}{2}", "\\frac{1}{2}"),
    ("\\tfrac12", "\\frac{1}{2}"),         # tfrac -> frac, then \frac12 -> \frac{1}{2}
    ("\\left( 1, 2 \\right)", "(1,2)"),    # \left \right removed, spaces removed
    ("10 \\text{ cm}", "10"),              # trailing unit dropped
    ("30^{\\circ}", "30"),
    ("30^\\circ", "30"),
    ("5 {cm}^2", "5"),
    ("\\$18.90", "18.90"),
    ("x \\in [1, 2]", "x\\in[1,2]"),       # quirk: "x\\in" only removed without the space
    ("x\\in[1,2]", "[1,2]"),
    ("50\\%", "50%"),
    (".5", "0.5"),
    ("\\{.5\\}", "\\{0.5\\}"),
    ("2 \\cdot 3", "23"),                  # quirk: \cdot deleted, digits fuse
    ("infinity", "\\infty"),
    ("-inf", "-\\infty"),
    ("\\mathbf{v}", "{v}"),
    ("3 + 2j", "3+2i"),                    # j -> i when there is no i
    ("12.000x", "12x"),
    ("12.000", "12"),
    ("\\sqrt2", "\\sqrt{2}"),
    ("\\tan3", "\\tan{3}"),
    ("3/4", "\\frac{3}{4}"),
    ("\\frac1{72}", "\\frac{1}{72}"),
    ("(1,2),", "(1,2)"),                   # trailing "," and "\\" stripped
    ("4:30 p.m.", "4:30p.m"),              # quirk: the trailing "." goes first, so "p\\.m\\.$" no longer matches
    ("5 p.m.", "5p.m"),
]


@pytest.mark.parametrize("raw,expected", STRIP)
def test_strip_string(raw, expected):
    assert ds.strip_string(raw) == expected


def test_math_equal_rules_and_quirks():
    assert ds.math_equal("50", "0.5")                 # percent leniency: ref*100
    assert ds.math_equal("0.005", "0.5")              # ref/100
    assert ds.math_equal("0.3333", "0.3334")          # abs tol 1e-3
    assert not ds.math_equal("0.3", "0.31")
    assert ds.math_equal("[1,2]", "(1,2)")            # bracket types not compared
    assert not ds.math_equal("(2,1)", "(1,2)")
    assert ds.math_equal("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{bmatrix}1\\\\2\\end{bmatrix}")
    assert ds.math_equal("y=2x+1", "2x+1-y=0")        # lhs-(rhs) compared up to sign
    assert ds.math_equal("x=5", "5") and ds.math_equal("5", "k=5")
    assert ds.math_equal("\\frac{\\sqrt{8}}{2}", "\\sqrt{2}")
    assert ds.math_equal("2^{-60}", "2^{-61}")        # abs tol quirk on tiny numbers


def test_is_correct_cup_and_eval_math_lists():
    assert ds.is_correct("(-\\infty,0)\\cup(1,\\infty)", "(1,\\infty)\\cup(-\\infty,0)")
    assert ds.eval_math(["1", "2", "3"], ["2", "3"])        # only the last len(gold) predictions count
    assert not ds.eval_math(["2", "3", "1"], ["2", "3"])
    assert ds.eval_math(["3", "2", "2"], ["2", "3", "3"])   # duplicates dropped on both sides


def test_math_separated_by_commas_is_a_set():
    q = "Find all solutions. Enter all the solutions, separated by commas."
    assert grade("\\boxed{3, -2}", "-2, 3", mode="deepseek", bench="math", question=q).correct
    assert not grade("\\boxed{3, -1}", "-2, 3", mode="deepseek", bench="math", question=q).correct


def test_per_benchmark_rules():
    assert grade("so the final answer is (b)", "B", mode="deepseek", bench="sat").correct
    assert not grade("so the final answer is (b)", "C", mode="deepseek", bench="mmlu_stem").correct
    # gaokao_mathqa: the letter whose first occurrence is latest wins
    assert grade("答案是 A 不对, 应为 C", "C", mode="deepseek", bench="gaokao_mathqa").correct
    assert grade("答案是 $\\frac{1}{2}$;3", "\\frac{1}{2};3", mode="deepseek", bench="gaokao_mathcloze").correct is False
    # (DeepSeek strips `$` only at the ends: "\\frac{1}{2}$" is left, which its parse_latex rejects)
    assert grade("答案是 \\frac{1}{2};3", "\\frac{1}{2};3", mode="deepseek", bench="gaokao_mathcloze").correct
    assert grade("The answer is 1,000.\nQ: next", "1000", mode="deepseek", bench="gsm8k").verdict == "incorrect"
    assert grade("The answer is 1,000.\nQ: next", "1000", bench="gsm8k").correct  # strict fixes the quirk
    assert grade("答案是：12个。", "12", mode="deepseek", bench="cmath").correct
    ocw = "Final Answer: The final answer is 2.0001e3. I hope it is correct."
    assert grade(ocw, "2000", mode="deepseek", bench="ocw").correct is False
    assert grade("Final Answer: The final answer is 2000.01. I hope it is correct.", "2000", mode="deepseek",
                 bench="ocw").correct


def test_strict_mode_fixes_benchmark_quirks():
    # the same responses, graded strictly
    assert grade("答案是：1/5。", "1/5", bench="cmath").correct
    assert not grade("答案是：1/5。", "1/5", bench="cmath", mode="deepseek").correct  # DeepSeek's regex keeps "5"
    assert grade("所以答案是 $5$;$10$", "$5$;$10$", bench="gaokao_mathcloze").correct
    assert not grade("所以答案是 $10$;$5$", "$5$;$10$", bench="gaokao_mathcloze").correct  # blanks are ordered
    assert grade("因此答案是 A 和 D", "AD", bench="gaokao_mathqa").correct
    assert not grade("因此答案是 A", "AD", bench="gaokao_mathqa").correct
    assert not grade("因此答案是 AD", "AD", bench="gaokao_mathqa", mode="deepseek").correct  # single-letter quirk


# Verdicts of DeepSeek-Math's own code (sympy 1.12 parse_latex + parse_expr), checked with the oracle
# lane (`make test-deepseek`); latex2sympy-based parsing got each of these the other way.
DEEPSEEK_PARSE_QUIRKS = [
    ("2\\frac{1}{2}", "1", True),  # parse_latex reads a mixed number as 2/2
    ("2\\frac{1}{2}", "2.5", False),
    ("10{,}000", "10000", False),  # ... and `10{,}000` as 10 (input after the first relation is ignored)
    ("\\log_23", "1.585", True),
    ("\\pi", "3.14159", False),  # `\pi` parses as a plain symbol named pi, not the constant
    ("e", "2.71828", False),  # `e` is a plain symbol
    ("e^2", "E**2", False),
    ("\\text{Monday}", "monday", False),  # case kept
    ("\\frac{7}{3}", "2\\frac{1}{3}", False),
    ("\\frac{1}{2}", "50\\%", False),
]


@pytest.mark.parametrize("gold,pred,expected", DEEPSEEK_PARSE_QUIRKS)
def test_deepseek_parsing_quirks_reproduced(gold, pred, expected):
    assert grade(f"\\boxed{{{pred}}}", gold, mode="deepseek", bench="math", timeout=10.0).correct is expected


def test_parse_expr_fallback_never_evaluates_model_text(tmp_path):
    """parse_expr's result, without eval: the transformed code is interpreted over a whitelist."""
    from sympy import Integer, Rational, Symbol, sqrt

    assert ds.parse_expr_safely("x**2+1") == Symbol("x") ** 2 + 1
    assert ds.parse_expr_safely("sqrt(8)/2") == sqrt(2)
    assert ds.parse_expr_safely("5!") == Integer(120) and ds.parse_expr_safely("0.1[3]") == Rational(2, 15)
    assert ds.parse_expr_safely("1,2") == (1, 2)
    marker = tmp_path / "ran"
    for attack in [f"__import__('os').system('touch {marker}')", f"S('__import__(\"os\").system(\"touch {marker}\")')",
                   f"sin('__import__(\"os\").system(\"touch {marker}\")')", "x.subs(x, 1)", "(lambda: 1)()",
                   "eval('1')", "open('/etc/passwd')", "Symbol('a b')"]:
        with pytest.raises(Exception):
            ds.parse_expr_safely(attack)
        assert ds.symbolic_equal(attack, "1") is False
    assert not marker.exists()
