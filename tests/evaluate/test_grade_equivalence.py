"""Hand-written equivalence table: (category, prediction, gold, expected in strict, expected in deepseek).

`None` in the deepseek column means "not asserted" (DeepSeek-Math's rules are reproduced with their quirks,
and we only pin the cases its documented rules decide). Predictions are bare answers (as if boxed).
"""

import pytest

from seekmath.evaluate.grade import answers_equal, grade

C, X = "correct", "incorrect"

CASES = [
    # fractions / decimals
    ("frac-dec", "\\frac{1}{2}", "0.5", C, C),
    ("frac-dec", "1/2", "\\frac12", C, C),
    ("frac-dec", "\\dfrac{3}{4}", "0.75", C, C),
    ("frac-dec", "2/4", "\\frac{1}{2}", C, C),
    ("frac-dec", "0.3333", "0.3334", X, C),        # deepseek: abs tol 1e-3 accepts
    ("frac-dec", "0.3333", "\\frac{1}{3}", C, C),   # decimal agrees to its last digit (4 significant)
    ("frac-dec", "0.33", "\\frac{1}{3}", X, X),
    ("frac-dec", "\\frac{1}{3}", "\\frac{1}{4}", X, X),
    ("frac-dec", "-\\frac{7}{2}", "-3.5", C, C),
    # thousands separators
    ("thousands", "1,000", "1000", C, C),
    ("thousands", "10{,}000", "10000", C, None),
    ("thousands", "1,234,567", "1234567", C, C),
    ("thousands", "1,001", "1000", X, X),
    # units and text
    ("units", "5 \\text{ cm}", "5", C, C),
    ("units", "\\$18.90", "18.90", C, C),
    ("units", "12 \\text{ inches}^2", "12", C, None),
    ("units", "42 dollars", "42", C, None),
    ("units", "43 \\text{ cm}", "42", X, X),
    ("text", "\\text{Monday}", "Monday", C, C),
    ("text", "\\text{Tuesday}", "\\text{Monday}", X, X),
    ("text", "4:30 \\text{ p.m.}", "\\text{4:30 p.m.}", C, None),
    # degrees
    ("degrees", "30^\\circ", "30", C, C),
    ("degrees", "30^{\\circ}", "30^\\circ", C, C),
    ("degrees", "60^\\circ", "30", X, X),
    # percent
    ("percent", "50\\%", "50", C, C),
    ("percent", "50\\%", "0.5", C, C),
    ("percent", "50", "0.5", X, C),                 # deepseek: percent leniency (gold x100) accepts
    ("percent", "25\\%", "50\\%", X, X),
    # radicals
    ("radicals", "2\\sqrt{2}", "\\sqrt{8}", C, C),
    ("radicals", "\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt3}{2}", C, C),
    ("radicals", "\\sqrt{3}", "\\sqrt{2}", X, X),
    ("radicals", "\\frac{1}{\\sqrt{2}}", "\\frac{\\sqrt{2}}{2}", C, C),
    # pi / e
    ("pi-e", "2\\pi", "\\pi \\cdot 2", C, C),
    ("pi-e", "\\frac{\\pi}{2}", "\\pi/2", C, C),
    ("pi-e", "3.14", "\\pi", X, None),
    ("pi-e", "e^{2}", "e^2", C, C),
    ("pi-e", "e^{3}", "e^2", X, X),
    # tuples (ordered)
    ("tuples", "(3, \\frac{\\pi}{2})", "\\left( 3, \\frac{\\pi}{2} \\right)", C, C),
    ("tuples", "(1, 2)", "(2, 1)", X, X),
    ("tuples", "(1,2,3)", "(1, 2, 3)", C, C),
    ("tuples", "(0.5, 2)", "(\\frac{1}{2}, 2)", C, C),
    # intervals (bracket-exact)
    ("intervals", "[1, 2)", "[1,2)", C, C),
    ("intervals", "[1, 2]", "[1, 2)", X, C),        # deepseek: bracket types not compared
    ("intervals", "(-\\infty, 3)", "(-\\infty, 3]", X, C),
    ("intervals", "(-\\infty, 0) \\cup (1, \\infty)", "(-\\infty,0)\\cup(1,\\infty)", C, C),
    # sets and unordered solution lists
    ("sets", "\\{1, 2\\}", "\\{2, 1\\}", C, None),
    ("sets", "1, 2", "2, 1", C, None),
    ("sets", "-2, 3", "3, -2", C, None),
    ("sets", "1, 2", "1, 3", X, X),
    # equations / assignments
    ("equations", "x = 5", "5", C, C),
    ("equations", "y = 2x + 1", "y = 1 + 2x", C, C),
    ("equations", "y = 2x + 3", "y = 2x + 1", X, X),
    ("equations", "k = 7", "7", C, C),
    # matrices
    ("matrices", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", C, C),
    ("matrices", "\\begin{pmatrix} 1 & 0 \\\\ 0 & 1 \\end{pmatrix}", "\\begin{pmatrix} 1 & 0 \\\\ 0 & 2 \\end{pmatrix}", X, X),
    ("matrices", "\\begin{pmatrix} 0.5 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} \\frac{1}{2} \\\\ 2 \\end{pmatrix}", C, C),
    # complex numbers
    ("complex", "3 + 4i", "4i + 3", C, C),
    ("complex", "3 - 4i", "3 + 4i", X, X),
    ("complex", "\\frac{1}{2} + \\frac{i}{2}", "0.5 + 0.5i", C, None),
    # choice letters
    ("choice", "(B)", "B", C, None),
    ("choice", "\\text{(C)}", "C", C, None),
    ("choice", "A", "B", X, X),
    # mixed numbers
    ("mixed", "2\\frac{1}{2}", "\\frac{5}{2}", C, None),
    ("mixed", "3 1/4", "3.25", C, None),
    ("mixed", "2\\frac{1}{3}", "\\frac{5}{2}", X, None),
    # repeating decimals
    ("repeating", "0.\\overline{3}", "\\frac{1}{3}", C, None),
    ("repeating", "0.1\\overline{6}", "\\frac{1}{6}", C, None),
    ("repeating", "0.\\overline{6}", "\\frac{1}{3}", X, None),
    # large integers
    ("large-int", "123456789012345678901234567890", "123456789012345678901234567890", C, C),
    ("large-int", "123456789012345678901234567891", "123456789012345678901234567890", X, None),  # deepseek: float compare
    ("large-int", "2^{100}", "1267650600228229401496703205376", C, C),
    ("large-int", "2^{100} + 1", "2^{100}", X, None),
    # tiny numbers: no absolute tolerance
    ("tiny", "2^{-60}", "2^{-61}", X, C),           # deepseek: abs tol 1e-3 accepts
    ("tiny", "\\frac{1}{2^{99}}", "\\frac{1}{2^{98}}", X, C),
    ("tiny", "10^{-7}", "2 \\cdot 10^{-7}", X, None),
    ("tiny", "1.5\\times10^{-8}", "1.5e-8", C, None),
]


@pytest.mark.parametrize("cat,pred,gold,strict,_ds", CASES, ids=[f"{c[0]}:{c[1]}|{c[2]}" for c in CASES])
def test_strict_equivalence(cat, pred, gold, strict, _ds):
    v = grade(f"so the answer is $\\boxed{{{pred}}}$.", gold, timeout=5.0)
    assert v.verdict == strict, (cat, pred, gold, v)


DS_CASES = [c for c in CASES if c[4] is not None]


@pytest.mark.parametrize("cat,pred,gold,_strict,ds", DS_CASES, ids=[f"{c[0]}:{c[1]}|{c[2]}" for c in DS_CASES])
def test_deepseek_equivalence(cat, pred, gold, _strict, ds):
    v = grade(f"so the answer is $\\boxed{{{pred}}}$.", gold, mode="deepseek", timeout=5.0)
    assert v.verdict == ds, (cat, pred, gold, v)


def test_every_category_has_positive_and_negative_cases():
    cats = {c[0] for c in CASES}
    for cat in cats - {"text"}:
        verdicts = {c[3] for c in CASES if c[0] == cat}
        assert verdicts == {C, X}, cat


def test_answers_equal_for_vote_buckets():
    assert answers_equal("\\frac{1}{2}", "0.5")
    assert answers_equal("x=3", "3")
    assert not answers_equal("3", "4")
    assert not answers_equal(None, "4")
    assert answers_equal("50", "0.5", mode="deepseek") and not answers_equal("50", "0.5")


# Reward-hacking probes (strict mode): hedged / multiple answers never match a single gold.
HEDGES = [
    ("5 or 6", "5", X), ("5, 6", "5", X), ("x=5 \\text{ or } x=6", "5", X), ("5 \\text{ and } 6", "5", X),
    ("1,2,3,4,5,6,7,8,9,10", "3", X), ("\\pm 5", "5", X), ("5x", "5", X), ("x", "5", X), ("\\infty", "5", X),
    ("5.00001", "5", X), ("4.99999999999", "5", X), ("3", "3.0000000001", X), ("0.333", "1/3", X),
    ("\\frac{1}{0}", "5", X), ("\\text{five}", "5", X), ("5 or six", "5", X), ("5 \\text{ or six}", "5", X),
    ("5 \\text{ or more}", "5", X), ("5 and up", "5", X),
    ("\\sqrt{25}", "5", C), ("5!", "120", C), ("1e3", "1000", C), ("\\emptyset", "\\varnothing", C), ("e", "2.718281828", C),
]


@pytest.mark.parametrize("pred,gold,expected", HEDGES)
def test_hedged_answers_are_not_rewarded(pred, gold, expected):
    assert grade(f"\\boxed{{{pred}}}", gold, timeout=5.0).verdict == expected


def test_question_aware_form_checks():
    q_frac = "What is the probability? Express your answer as a common fraction."
    assert grade("\\boxed{\\frac{3}{4}}", "\\frac34", question=q_frac).correct
    v = grade("\\boxed{0.75}", "\\frac34", question=q_frac)
    assert v.verdict == "incorrect" and "fraction" in v.reason
    assert grade("\\boxed{0.75}", "\\frac34").correct  # no question, no form demand
    q_rad = "Find the length of the diagonal. Express your answer in simplest radical form."
    assert grade("\\boxed{2\\sqrt{2}}", "2\\sqrt2", question=q_rad).correct
    v = grade("\\boxed{\\sqrt{8}}", "2\\sqrt2", question=q_rad, timeout=5.0)
    assert v.verdict == "incorrect" and "radical" in v.reason
    assert grade("\\boxed{\\sqrt{8}}", "2\\sqrt2", timeout=5.0).correct


# Thousands separators in every spelling MATH and models use, on either side; lists and tuples stay lists.
SEPARATORS = [
    ("\\boxed{900000000}", "900,\\!000,\\!000", True),  # MATH's raw `answer` field
    ("\\boxed{900,\\!000,\\!000}", "900000000", True),
    ("\\boxed{10080}", "10{,}080", True),
    ("\\boxed{\\$32348}", "\\$32,\\!348", True),
    ("\\boxed{1000}", "1\\,000", True),  # thin space
    ("\\boxed{10\\,000}", "10000", True),
    ("\\boxed{1\u2009000}", "1000", True),  # U+2009 thin space
    ("\\boxed{1\u202f000}", "1000", True),  # U+202F narrow no-break space
    ("\\boxed{1\u00a0000}", "1000", True),  # U+00A0 no-break space
    ("\\boxed{1,000}", "1000", True),  # a lone number with plain commas
    ("\\boxed{2,500 \\text{ cm}}", "2500", True),
    ("\\boxed{1,000.5}", "1000.5", True),
    ("\\boxed{(1,000)}", "(1, 0)", True),  # in brackets a plain comma separates elements
    ("\\boxed{(1,000)}", "1000", False),
    ("\\boxed{1,000}", "1, 0", False),
    ("\\boxed{1,2}", "12", False),  # not a 3-digit group: never a separator
    ("\\boxed{(1{,}000, 2)}", "(1000, 2)", True),  # a typographic separator is one even inside a tuple
    ("\\boxed{9000}", "9,\\!001", False),
]


def test_plain_comma_is_a_list_when_the_question_asks_for_one():
    q = "Find all solutions, separated by commas."
    assert grade("\\boxed{1,000}", "1, 0", question=q, timeout=10.0).correct
    assert not grade("\\boxed{1,000}", "1000", question=q, timeout=10.0).correct


FORMS = [
    ("\\boxed{x = 2 \\text{ or } x = 3}", "2, 3", True),  # solutions joined by words
    ("\\boxed{x=3 or x=2}", "2,3", True),
    ("\\boxed{2 \\text{ and } 3}", "2, 3", True),
    ("\\boxed{x=1, x=2}", "1,2", True),
    ("\\boxed{x = 2 or x = 4}", "2, 3", False),
    ("\\boxed{x = 2 or x = 3}", "2", False),  # several answers for one: a hedge
    ("\\boxed{5 \\text{ or } 6}", "5", False),
    ("\\boxed{2 or more}", "2", False),
    ("\\boxed{5 \\quad \\text{cm}}", "5", True),  # spacing, not a second answer
    ("\\boxed{x=2 \\quad x=3}", "2, 3", True),
    ("\\boxed{\\text{(C) } 12}", "\\text{(C)}", True),  # choice letter followed by its value
    ("\\boxed{\\text{(C) } 12}", "C", True),
    ("\\boxed{\\text{(C) } 12}", "(B)", False),
    ("\\boxed{(C) 12}", "12", True),  # the value, when the gold is a value
    ("\\boxed{(C) 12}", "13", False),
    ("\\boxed{√2/2}", "\\frac{\\sqrt{2}}{2}", True),  # Unicode forms
    ("\\boxed{3√(x+1)}", "3\\sqrt{x+1}", True),
    ("\\boxed{∞}", "\\infty", True),
    ("\\boxed{(−∞, 3]}", "(-\\infty,3]", True),
    ("\\boxed{−5}", "-5", True),  # U+2212
    ("\\boxed{−5}", "5", False),
    ("\\boxed{½}", "0.5", True),
    ("\\boxed{2½}", "\\frac{5}{2}", True),  # mixed number
    ("\\boxed{¾}", "\\frac34", True),
    ("\\boxed{x²+1}", "x^2+1", True),
    ("\\boxed{x²}", "x^3", False),
    ("\\boxed{2π}", "2\\pi", True),
]


@pytest.mark.parametrize("response,gold,expected", SEPARATORS + FORMS)
def test_separators_and_written_forms(response, gold, expected):
    assert grade(response, gold, timeout=10.0).correct is expected


def test_no_reward_without_an_answer():
    gold = "7"
    for response in ["First, 3 + 4 = 7. Next we multiply this by the number of",  # cut off mid-sentence
                     "3 + 4 = 7, so the answer is",  # an empty "the answer is"
                     "We add 3 and 4 to get 7. " * 5000]:  # a 120k-character loop that never answers
        v = grade(response, gold, timeout=10.0)
        assert v.verdict == "incorrect" and v.pred is None, v
    assert grade("3 + 4 = 7", gold, bench="gsm8k", timeout=10.0).correct  # GSM8K few-shot: last number
    assert not grade("3 + 4 = 7", gold, bench="gsm8k", last_number_fallback=False, timeout=10.0).correct
