"""Prompt assembly follows the paper's protocol (spec §5.1-5.2, §5.6)."""

import pytest

from seekmath.evaluate import fewshot_data as fs
from seekmath.evaluate.prompts import (
    TOOL_STOP,
    build_prompt,
    fewshot_prompt,
    pot_program,
    pot_prompt,
    tool_integrated_generate,
    tool_program,
    tool_prompt,
    zeroshot_prompt,
)
from seekmath.generate import Completion
from seekmath.models import COT_SUFFIX, COT_SUFFIX_ZH, TOOL_SUFFIX, TOOL_SUFFIX_ZH
from seekmath.tasks.records import Problem

Q = Problem("1", "Natalia sold 48 clips in April and half as many in May. How many clips in total?", "72")


def test_gsm8k_8shot():
    p = fewshot_prompt("gsm8k", Q)
    assert p.text.startswith("Q: There are 15 trees in the grove.")
    assert p.text.endswith(f"The answer is 8.\n\n\nQ: {Q.question}\nA:")
    assert p.text.count("\nA: ") == 8 and p.text.count("The answer is") == 8
    assert p.stop == ["\nQ:"]


def test_math_minerva_4shot():
    p = fewshot_prompt("math500", Q)
    assert p.text.startswith("Problem:\nFind the domain of the expression")
    assert p.text.endswith(f"I hope it is correct.\n\nProblem:\n{Q.question}\n\nSolution:")
    assert p.text.count("Final Answer: The final answer is") == 4
    assert "\\frac{\\sqrt{x-2}}{\\sqrt{5-x}}" in p.text  # single backslashes in the prompt text
    assert p.stop == ["\nProblem:"]


def test_choice_benchmarks_append_options():
    sat = Problem("2", "What is 2+2?", "B", metadata={"options_text": "(A) 3, (B) 4, (C) 5, (D) 6"})
    p = fewshot_prompt("sat", sat)
    assert p.text.endswith("Problem:\nWhat is 2+2?\nWhat of the following is the right choice? Explain your answer.\n"
                           "(A) 3, (B) 4, (C) 5, (D) 6\nSolution:")
    assert p.text.count("Final Answer: The final answer is (") == 4
    assert fewshot_prompt("mmlu_stem", sat).text == p.text


def test_chinese_fewshot():
    q = Problem("3", "小明有3个苹果，又买了5个，一共有几个？", "8")
    c = fewshot_prompt("cmath", q)
    assert c.text.endswith(f"所以答案是：1200。\n\n\n问题：{q.question}\n答案：")
    assert c.text.count("问题：") == 7 and c.stop == ["\n问题："]
    g = fewshot_prompt("gaokao_mathcloze", q)
    assert g.text.endswith(f"\n\n\n问题 6.   {q.question}\n问题 6的解析:")  # right-stripped slot
    assert g.text.count("的解析:") == 6 and g.stop == ["\n问题 "]
    qa = Problem("4", "选哪个", "A", metadata={"options": ["(A)1", "(B)2", "(C)3", "(D)4"]})
    assert "\n从以下选项中选择:    (A)1 (B)2 (C)3 (D)4\n问题 6的解析:" in fewshot_prompt("gaokao_mathqa", qa).text


def test_ocw_4shot():
    p = fewshot_prompt("ocw", Q)
    assert p.text.count("Final answer: The final answer is") == 4
    assert p.text.endswith(f"\n\nProblem:\n{Q.question}\nSolution:")


def test_zero_shot_chat_with_cot_suffix():
    assert zeroshot_prompt("gsm8k", Q).text == f"User: {Q.question}{COT_SUFFIX}\n\nAssistant:"
    zh = Problem("5", "一共多少？", "1")
    assert zeroshot_prompt("mgsm_zh", zh).text == f"User: 一共多少？{COT_SUFFIX_ZH}\n\nAssistant:"
    assert zeroshot_prompt("synthetic", Q).text.endswith(COT_SUFFIX + "\n\nAssistant:")
    assert zeroshot_prompt("gsm8k", Q).stop == []


def test_tool_prompt():
    t = tool_prompt("math", Q)
    assert t.text == f"User: {Q.question}{TOOL_SUFFIX}\n\nAssistant:" and t.stop == [TOOL_STOP]
    assert tool_prompt("cmath", Q).text.endswith(TOOL_SUFFIX_ZH + "\n\nAssistant:")


def test_pal_prompts_and_programs():
    g = pot_prompt("gsm8k", Q)
    assert g.exec_mode == "solution" and g.text.count("def solution():") == 8
    assert g.text.endswith(f"\n\n\n\n\n\nQ: {Q.question}\n\n# solution in Python:")
    assert g.stop == ["\nQ:", "Q: "]
    m = pot_prompt("math", Q)
    assert m.exec_mode == "answer" and m.text.endswith(f"Problem:\n{Q.question}\n\n{fs.PAL_MATH_INSTRUCTION}")
    gen = "```\nx = symbols('x')\nanswer = solve(Eq(2*x, 4), x)[0]\n```\nThe imports required for this program are\n```\nfrom sympy import symbols, Eq, solve\n```\nI hope"
    prog = pot_program(gen, "answer")
    assert prog.startswith("from sympy import symbols, Eq, solve\n") and "answer = solve" in prog
    from seekmath.evaluate.sandbox import run_code

    assert run_code(prog, mode="answer").result == "2"
    gsm_gen = "\n\n\ndef solution():\n    return 48 + 48 // 2"
    assert run_code(pot_program(gsm_gen, "solution"), mode="solution").result == "72"


def test_synthetic_fewshot_uses_train_exemplars(smoke_cfg):
    from seekmath.tasks.synthetic import generate_problems

    shots = generate_problems(smoke_cfg.tasks, "train", 3, seed=1)
    test = generate_problems(smoke_cfg.tasks, "test", 1)[0]
    p = build_prompt("fewshot", "synthetic", test, synthetic_shots=shots)
    assert p.text.endswith(f"Problem: {test.question}\nSolution:")
    assert p.text.count("The answer is \\boxed{") == 3 and p.stop == ["\nProblem:"]
    assert test.question not in {s.question for s in shots}
    with pytest.raises(ValueError, match="train split"):
        build_prompt("fewshot", "synthetic", test)
    with pytest.raises(ValueError, match="unknown prompt kind"):
        build_prompt("cot", "gsm8k", test)


def test_tool_program_drops_earlier_prints():
    t = "a\n```python\nx = 2\nprint(x)\n```\n```output\n2\n```\nb\n```python\ny = x * 3\nprint(y)\n```\n"
    assert tool_program(t) == "x = 2\ny = x * 3\nprint(y)\n"
    assert tool_program("no code") is None


class ScriptedEngine:
    """Replays fixed continuations, recording the prompts it was given (the loop is what is tested)."""

    def __init__(self, rounds):
        self.rounds, self.calls = list(rounds), []

    def generate(self, prompts, *, n=1, stop=None, **kw):
        self.calls.append((list(prompts), n, stop))
        texts = self.rounds.pop(0)
        return [[Completion(text=t, finish_reason=r) for t, r in texts[i * n:(i + 1) * n]] for i in range(len(prompts))]


def test_tool_integrated_loop_runs_code_and_continues():
    round1 = [("Let me compute.\n```python\nprint(6 * 7)\n```\n", "stop"), ("No code. \\boxed{1}", "eos")]
    round2 = [(" So the answer is \\boxed{42}.", "eos")]
    eng = ScriptedEngine([round1, round2])
    out = tool_integrated_generate(eng, ["P1", "P2"], n=1, max_rounds=2)
    first = out[0][0]
    assert first["response"] == "Let me compute.\n```python\nprint(6 * 7)\n```\n```output\n42\n```\n So the answer is \\boxed{42}."
    assert first["rounds"] == 2 and first["executions"] == 1
    assert out[1][0] == {"response": "No code. \\boxed{1}", "rounds": 1, "executions": 0, "finish_reason": "eos"}
    # round 2 continues from prompt + transcript, with the same stop string
    assert eng.calls[1][0] == ["P1" + "Let me compute.\n```python\nprint(6 * 7)\n```\n```output\n42\n```\n"]
    assert eng.calls[0][2] == [TOOL_STOP] and eng.calls[1][2] == [TOOL_STOP]


def test_tool_loop_reports_errors_truncated():
    long_print = "```python\nprint('x' * 300)\n```\n"
    eng = ScriptedEngine([[(long_print, "stop"), ("```python\n1/0\n```\n", "stop")], [("a", "eos"), ("b", "eos")]])
    out = tool_integrated_generate(eng, ["P1", "P2"], max_rounds=2)
    assert "```output\n" + "x" * 50 + "..." + "x" * 50 + "\n```" in out[0][0]["response"]
    assert "```output\nRuntime errors: ZeroDivisionError: division by zero\n```" in out[1][0]["response"]
