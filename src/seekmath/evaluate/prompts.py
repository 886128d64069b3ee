"""Prompt assembly exactly as the paper's evaluation protocol (spec §5.1-5.2, §5.6).

Four kinds, chosen with `--prompt`:

- fewshot (base models): a fixed exemplar block + the test question in the same header format and an
  empty answer slot, with the benchmark's stop strings; e.g. GSM8K 8-shot "Q: {q}\\nA:" (stop "\\nQ:"),
  MATH 4-shot Minerva "Problem:\\n{q}\\n\\nSolution:" (stop "\\nProblem:"), SAT / MMLU-STEM / OCW 4-shot,
  CMATH 6-shot "问题：{q}\\n答案：", Gaokao 5-shot "问题 6.   {q}\\n问题 6的解析:   " (stop "\\n问题 ").
- zeroshot (instruct/RL models): "User: {q}{COT_SUFFIX}\\n\\nAssistant:" (the Chinese suffix on Chinese
  benchmarks); the tokenizer adds BOS. With a tokenizer and `model.prompt_format` the user turn
  (question + suffix) goes through `models.render_prompt` instead: the model's own chat template.
- pot (program of thought, PAL): the 8-shot GSM8K `solution()` prompt or the MATH program prompt
  (variable `answer`, imports block); the program runs in the sandbox and str(result) is graded.
- tool (tool-integrated, instruct/RL): "User: {q}{TOOL_SUFFIX}\\n\\nAssistant:" (or the chat template, as
  zeroshot) and the two-round loop of `tool_integrated_generate`.

For the generated `synthetic` task: zeroshot is the chat format + COT_SUFFIX (what SFT trains), and
fewshot uses `num_shots` worked problems of the synthetic TRAIN split in the pretraining text format
("Problem: {q}\\nSolution: {worked steps}", separated by a blank line; stop "\\nProblem:"), so a
pretrain-only model sees the layout of its own corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from seekmath.evaluate import fewshot_data as fs
from seekmath.models import COT_SUFFIX, COT_SUFFIX_ZH, TOOL_SUFFIX, TOOL_SUFFIX_ZH, chat_prompt, render_prompt
from seekmath.tasks.records import Problem

PROMPT_KINDS = ("fewshot", "zeroshot", "pot", "tool")
CHINESE_BENCHES = {"cmath", "mgsm_zh", "gaokao_mathcloze", "gaokao_mathqa"}
# Benchmarks answered in the GSM8K few-shot format (grade-school word problems).
GSM_FAMILY = {"gsm8k", "gsm8k_train", "svamp", "asdiv"}
CHOICE_SUFFIX = "\nWhat of the following is the right choice? Explain your answer.\n"
TOOL_STOP = "```output"


@dataclass
class Prompt:
    text: str
    stop: list[str] = field(default_factory=list)
    kind: str = "zeroshot"
    exec_mode: str | None = None  # pot: "solution" (PAL GSM8K) or "answer" (PAL MATH)


def is_chinese(bench: str) -> bool:
    return bench in CHINESE_BENCHES


# ----------------------------------------------------------------------------------------------
# Few-shot (base models)


def _choice_question(p: Problem) -> str:
    return p.question.rstrip() + CHOICE_SUFFIX + str(p.metadata.get("options_text", ""))


def _gaokao_qa_question(p: Problem) -> str:
    opts = p.metadata.get("options") or []
    return p.question.rstrip() + "\n从以下选项中选择:    " + " ".join(str(o) for o in opts)


def synthetic_fewshot_block(train_problems: list[Problem]) -> str:
    """The synthetic few-shot exemplars: worked TRAIN problems in the pretraining text layout."""
    return "\n\n".join(f"Problem: {p.question}\nSolution: {p.solution}" for p in train_problems)


def fewshot_prompt(bench: str, p: Problem, *, synthetic_shots: list[Problem] | None = None) -> Prompt:
    """The base-model few-shot prompt of `bench` (spec §5.2); the output is right-stripped like DeepSeek's."""
    if bench == "synthetic":
        if not synthetic_shots:
            raise ValueError("fewshot prompts for 'synthetic' need exemplar problems from the train split")
        text = f"{synthetic_fewshot_block(synthetic_shots)}\n\nProblem: {p.question}\nSolution:"
        return Prompt(text.rstrip(), ["\nProblem:"], "fewshot")
    if bench in GSM_FAMILY:
        return Prompt(f"{fs.GSM8K_COT_8}\n\n\nQ: {p.question}\nA:".rstrip(), ["\nQ:"], "fewshot")
    if bench in ("sat", "mmlu_stem"):
        return Prompt(f"{fs.CHOICE_4}\n\nProblem:\n{_choice_question(p)}\nSolution:".rstrip(), ["\nProblem:"], "fewshot")
    if bench == "ocw":
        return Prompt(f"{fs.OCW_4}\n\nProblem:\n{p.question}\nSolution:".rstrip(), ["\nProblem:"], "fewshot")
    if bench in ("cmath", "mgsm_zh"):  # MGSM-zh has no base-model protocol; CMATH's is the closest
        return Prompt(f"{fs.CMATH_6}\n\n\n问题：{p.question}\n答案：".rstrip(), ["\n问题："], "fewshot")
    if bench == "gaokao_mathcloze":
        return Prompt(f"{fs.GAOKAO_CLOZE_5}\n\n\n问题 6.   {p.question}\n问题 6的解析:   ".rstrip(), ["\n问题 "], "fewshot")
    if bench == "gaokao_mathqa":
        return Prompt(f"{fs.GAOKAO_QA_5}\n\n\n问题 6.    {_gaokao_qa_question(p)}\n问题 6的解析:   ".rstrip(),
                      ["\n问题 "], "fewshot")
    # MATH and every other competition-style set: Minerva's 4-shot prompt.
    return Prompt(f"{fs.MINERVA_MATH_4}\n\nProblem:\n{p.question}\n\nSolution:".rstrip(), ["\nProblem:"], "fewshot")


# ----------------------------------------------------------------------------------------------
# Zero-shot chat, PoT, tool


def _user_turn(text: str, tokenizer, fmt: str) -> str:
    return chat_prompt(text) if tokenizer is None else render_prompt(tokenizer, text, fmt)


def zeroshot_prompt(bench: str, p: Problem, tokenizer=None, fmt: str = "auto") -> Prompt:
    q = p.question
    if bench in ("sat", "mmlu_stem"):
        q = _choice_question(p)
    elif bench == "gaokao_mathqa":
        q = _gaokao_qa_question(p)
    suffix = COT_SUFFIX_ZH if is_chinese(bench) else COT_SUFFIX
    return Prompt(_user_turn(q + suffix, tokenizer, fmt), [], "zeroshot")


def pot_prompt(bench: str, p: Problem) -> Prompt:
    """PAL (spec §5.2): GSM-style benchmarks (and synthetic) get the 8-shot `solution()` prompt,
    everything else the MATH program prompt whose program sets `answer`."""
    if bench in GSM_FAMILY or bench in ("synthetic", "cmath", "mgsm_zh"):
        return Prompt(f"{fs.PAL_GSM8K_8}\n\n\n\n\n\nQ: {p.question}\n\n# solution in Python:".rstrip(),
                      ["\nQ:", "Q: "], "pot", "solution")
    text = f"{fs.PAL_MATH_4}\n\nProblem:\n{p.question}\n\n{fs.PAL_MATH_INSTRUCTION}".rstrip()
    return Prompt(text, ["\nProblem:", "Problem:"], "pot", "answer")


def tool_prompt(bench: str, p: Problem, tokenizer=None, fmt: str = "auto") -> Prompt:
    suffix = TOOL_SUFFIX_ZH if is_chinese(bench) else TOOL_SUFFIX
    return Prompt(_user_turn(p.question + suffix, tokenizer, fmt), [TOOL_STOP], "tool")


def build_prompt(kind: str, bench: str, p: Problem, *, synthetic_shots: list[Problem] | None = None,
                 tokenizer=None, fmt: str = "auto") -> Prompt:
    """The prompt of `kind`; zeroshot/tool render the user turn in `fmt` when a tokenizer is given
    (few-shot and PoT prompts are plain text continuations for base models and stay as the paper's)."""
    if kind == "fewshot":
        return fewshot_prompt(bench, p, synthetic_shots=synthetic_shots)
    if kind == "zeroshot":
        return zeroshot_prompt(bench, p, tokenizer, fmt)
    if kind == "pot":
        return pot_prompt(bench, p)
    if kind == "tool":
        return tool_prompt(bench, p, tokenizer, fmt)
    raise ValueError(f"unknown prompt kind {kind!r}; expected one of {', '.join(PROMPT_KINDS)}")


# ----------------------------------------------------------------------------------------------
# Program extraction (PoT) and the tool-integrated loop (spec §5.6)

_FENCE = re.compile(r"```(?:python)?[ \t]*\n(.*?)```", re.DOTALL)
_PY_FENCE = re.compile(r"```python[ \t]*\n(.*?)```", re.DOTALL)


def pot_program(generation: str, exec_mode: str) -> str:
    """The program to run for a PAL generation: the text itself for GSM8K's `solution()`; for MATH the
    first fenced block (the program) preceded by the second (its imports), as DeepSeek's run_pal_eval."""
    if exec_mode == "solution":
        return generation
    blocks = _FENCE.findall(generation)
    if not blocks:
        return generation
    program = blocks[0]
    imports = blocks[1] if len(blocks) > 1 else ""
    return imports + "\n" + program


def tool_program(transcript: str) -> str | None:
    """All python blocks written so far as one program: earlier blocks without their non-indented
    print lines (their output was already shown), the last block intact. None if there is no block."""
    blocks = _PY_FENCE.findall(transcript)
    if not blocks:
        return None
    parts = []
    for b in blocks[:-1]:
        parts.append("\n".join(ln for ln in b.splitlines() if not ln.startswith("print(") and not ln.startswith("print ")))
    parts.append(blocks[-1])
    return "\n".join(parts)


def tool_integrated_generate(engine, prompts: list[str], *, n: int = 1, temperature: float = 0.0, top_p: float = 1.0,
                             max_new_tokens: int = 1024, seed: int = 0, max_rounds: int = 2, timeout: float = 10.0,
                             sandbox_workers: int = 2) -> list[list[dict]]:
    """DeepSeek-Math's tool-integrated evaluation loop (spec §5.6).

    Generate with the stop string "```output"; when a sample stopped there right after a closing code
    fence, run all its python blocks so far in the sandbox (state is rebuilt by re-running; nothing
    persists), append "```output\\n{stdout, 50+50-char truncated}\\n```\\n" and generate again. At most
    `max_rounds` generation rounds. Returns [prompt][sample] dicts with the full `response` transcript,
    `rounds`, `executions` (number of sandbox runs) and the last `finish_reason`."""
    from seekmath.evaluate.sandbox import run_many

    first = engine.generate(prompts, n=n, temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens,
                            stop=[TOOL_STOP], seed=seed)
    states = [[{"response": c.text, "rounds": 1, "executions": 0, "finish_reason": c.finish_reason} for c in row]
              for row in first]
    for rnd in range(1, max_rounds):
        pending = [(i, j) for i, row in enumerate(states) for j, s in enumerate(row)
                   if s["finish_reason"] == "stop" and s["response"].rstrip().endswith("```")
                   and tool_program(s["response"]) is not None]
        if not pending:
            break
        programs = [tool_program(states[i][j]["response"]) for i, j in pending]
        results = run_many(programs, workers=sandbox_workers, timeout=timeout)  # type: ignore[arg-type]
        conts = []
        for (i, j), res in zip(pending, results):
            s = states[i][j]
            s["response"] = s["response"].rstrip() + "\n```output\n" + res.tool_output() + "\n```\n"
            s["executions"] += 1
            conts.append(prompts[i] + s["response"])
        outs = engine.generate(conts, n=1, temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens,
                               stop=[TOOL_STOP], seed=seed + 1000003 * rnd)
        for (i, j), row in zip(pending, outs):
            s = states[i][j]
            s["response"] += row[0].text
            s["rounds"] += 1
            s["finish_reason"] = row[0].finish_reason
    return states
