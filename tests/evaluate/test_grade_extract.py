"""Answer extraction: the documented anchor order, per-benchmark extractors, broken boxes."""

import pytest

from seekmath.evaluate.boxed import boxed_spans
from seekmath.evaluate.extract import extract_answer

CASES = [
    # (response, bench, expected)
    ("Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.", None, "\\frac{1}{2}"),
    ("We get \\boxed{3}. Final Answer: The final answer is $4$. I hope it is correct.", None, "4"),  # Minerva first
    ("First \\boxed{1}, corrected: \\boxed{2}.", None, "2"),  # last box wins
    ("so \\fbox{7}", None, "7"),
    ("$\\boxed{\\frac{1}{\\sqrt{2}}}$", None, "\\frac{1}{\\sqrt{2}}"),
    ("\\boxed{\\{1, 2\\}}", None, "\\{1, 2\\}"),
    ("\\boxed 5 is it", None, "5"),
    ("The answer is \\boxed{}.", None, None),  # empty box: no answer
    ("The answer is 3. Then \\boxed{\\frac{1}{2}", None, None),  # unbalanced last box: no answer, no crash
    ("\\boxed{1} and later \\boxed{2", None, None),
    ("The answer is 42.", None, "42"),
    ("Thus the answer is $x^2 + 1$. Done.", None, "x^2 + 1"),
    ("So the final answer is: 7", None, "7"),
    ("Answer: 12", None, "12"),
    ("Natalia sold 48/2 = 24 clips.\n#### 1,234", None, "1234"),
    ("The answer is 1,000.", None, "1,000"),  # the comparison, not extraction, reads separators (by context)
    ("所以答案是 5。", None, "5"),
    # the last number only where the protocol defines it (few-shot numeric sets): otherwise no answer
    ("We have 1,000 apples and 3 pears, total 1,003", "gsm8k", "1003"),
    ("We have 1,000 apples and 3 pears, total 1,003", None, None),
    ("the temperature fell to −3.5 degrees", "gsm8k", "-3.5"),  # U+2212 minus
    ("First, 3 + 4 = 7. Next we multiply this by the number of", None, None),  # cut off mid-sentence
    ("First, 3 + 4 = 7. Next we multiply this by the number of", "math", None),
    ("First, 3 + 4 = 7", None, None),  # a short chain is not a bare answer
    ("3 + 4 = 7, so the answer is", None, None),  # an empty "the answer is"
    ("The answer is\n", None, None),
    ("there are no digits in this sentence", None, None),
    # bare answers (a whole response that is an answer)
    ("$10-4 n$", None, "10-4 n"),
    ("all real numbers", None, "all real numbers"),
    ("\\(x^2\\)", None, "x^2"),
    ("", None, None),
    # few-shot continuations are cut
    ("48/2 = 24. The answer is 24.\n\nQ: Another question? A: The answer is 7.", "gsm8k", "24"),
    ("Final Answer: The final answer is $5$. I hope it is correct.\n\nProblem:\nNext\nSolution: \\boxed{9}", "math", "5"),
    # multiple choice
    ("... so the final answer is (B). I hope it is correct.", "sat", "B"),
    ("Therefore \\boxed{C}", "mmlu_stem", "C"),
    ("The answer is (D) 12", "mmlu_stem", "D"),
    ("因此答案是 C", "gaokao_mathqa", "C"),
    ("因此答案是 A、D", "gaokao_mathqa", "AD"),  # multi-select
    ("答案是：1/5。", "cmath", "1/5"),
    # Chinese benchmarks
    ("小明有 3 个，答案是：12个。", "cmath", "12"),
    ("所以答案是 $\\frac{1}{2}$\n问题 7.  下一题", "gaokao_mathcloze", "\\frac{1}{2}"),
    # OCW (Minerva sentence without $)
    ("Final Answer: The final answer is 5 \\text{ m}. I hope it is correct.", "ocw", "5 \\text{ m}"),
]


@pytest.mark.parametrize("response,bench,expected", CASES)
def test_extract(response, bench, expected):
    assert extract_answer(response, bench=bench) == expected


def test_deepseek_mode_extraction_quirks():
    # GSM8K few-shot: last match of -?\d+\.?\d* without comma removal -> "1,000." yields "000."
    assert extract_answer("She has 1,000 coins. The answer is 1,000.\nQ: next", bench="gsm8k", mode="deepseek") == "000."
    assert extract_answer("She has 1,000 coins. The answer is 1,000.\nQ: next", bench="gsm8k") == "1,000"
    # generic: every box is kept and the last one wins; strip_string applied
    assert extract_answer("\\boxed{1} \\boxed{\\dfrac12}", mode="deepseek") == "\\frac{1}{2}"
    assert extract_answer("the final answer is (c)", bench="sat", mode="deepseek") == "C"
    with pytest.raises(ValueError):
        extract_answer("x", mode="lenient")


def test_boxed_spans_marks_broken_boxes():
    spans = boxed_spans("\\boxed{1} \\boxed{} \\fbox{\\frac{a}{b}} \\boxed{2")
    assert [c for _, c in spans] == ["1", "", "\\frac{a}{b}", None]


def test_last_number_fallback_follows_the_protocol():
    from seekmath.evaluate.extract import last_number_protocol

    loop = "We multiply 6 by 7 to get 42. " * 4000  # a 120k-character loop that never answers
    assert extract_answer(loop) is None and extract_answer(loop, bench="math") is None
    assert extract_answer(loop, bench="gsm8k") == "42"  # few-shot GSM8K scores the last number
    assert extract_answer(loop, bench="gsm8k", last_number_fallback=False) is None  # zero-shot / RL
    assert extract_answer(loop, last_number_fallback=True) == "42"
    assert last_number_protocol("gsm8k") and not last_number_protocol("gsm8k", "zeroshot")
    assert last_number_protocol("math500", "pot") and not last_number_protocol("math500", "tool")
    assert not last_number_protocol("math") and not last_number_protocol(None) and not last_number_protocol("synthetic")
