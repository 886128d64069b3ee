"""Answer extraction from a model's full output (strict mode; `mode="deepseek"` delegates to
`deepseek_compat`, which reproduces DeepSeek-Math's extractor rule by rule, spec §5.3).

Generic anchor order — the first anchor present in the response wins, and within an anchor the LAST
occurrence wins (models restate and correct themselves):

1. Minerva: "final answer is $X$. I hope it is correct" (also without the `$`, as OCW prompts write it).
2. The last `\\boxed{...}` / `\\fbox{...}` (balanced braces). If the last box is empty or unbalanced
   the response has NO answer (None) — we do not fall through to a weaker anchor, because the model
   did try to box something.
3. "The answer is X" / "the final answer is X" / "Answer: X" (rest of the sentence; a `$..$` span in
   it is preferred).
4. GSM8K's "#### X".
5. Chinese "答案是 X" / "答案为 X".
6. A bare answer: the whole response when it is one math span (`$10-4n$`) or a short phrase of at
   most 3 words without a sentence in it (`5 cm`, `Monday`).
7. The last number in the text (thousands separators removed: "1,000" -> "1000") — ONLY where the
   benchmark's protocol defines it (`last_number_protocol`: the few-shot numeric sets, GSM8K's
   "Q:/A:" chains, scored by their last number in DeepSeek-Math's and lm-eval's harnesses). Boxed and
   "the answer is" protocols (MATH, zero-shot CoT) and RL rewards never use it: a response that states
   no answer has none. Otherwise a cut-off chain of thought ("First, 3 + 4 = 7. Next we multiply this
   by the number of") or an empty "The answer is" is scored by whatever intermediate number it ends
   on, and RL pays for truncation.

Few-shot continuations are cut first: a base model keeps writing the next exemplar, so everything
from the next "Problem:" / "Q:" / "问题" header on is dropped (per benchmark, as its prompt has it).

Per-benchmark extractors (`bench=`): `gsm8k`-like numeric sets (anchors, then last number);
`sat`/`mmlu_stem` ("the final answer is (B)", a boxed letter, "answer is B"); `gaokao_mathqa` (the
letter after "答案是"); `cmath` (the last number after "答案是", else generic); `gaokao_mathcloze`
(text after "答案是"); `ocw`/`minerva_math` (Minerva sentence, else generic).
"""

from __future__ import annotations

import re

from seekmath.evaluate.boxed import box_positions, last_box

_MINERVA_WINDOW = 2000  # the Minerva answer sits within this many characters before "I hope"
_MINERVA_TRIES = 20  # look at the last few "I hope" only: keeps a degenerate repetition linear
_ANSWER_IS = re.compile(r"(?:[Tt]he (?:final |correct )?answer is|[Aa]nswer\s*:|ANSWER\s*:)\s*:?\s*([^\n]+)")
_HASHES = re.compile(r"####\s*([^\n]+)")
_ZH_ANSWER = re.compile(r"答案(?:是|为)\s*[:：]?\s*([^\n]+)")
_NUMBER = re.compile(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|-?\d+(?:\.\d+)?|-?\.\d+")
_NUMBER_OR_FRACTION = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?%?")
_MATH_SPAN = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)
_LETTER_FINAL = re.compile(r"final answer is\s*\(?\s*([a-e])\s*\)?(?![a-z])")
_LETTER_ANY = re.compile(r"answer is\s*:?\s*\(?\s*([A-E])\s*\)?(?![a-zA-Z])")

NUMERIC_BENCHES = {"gsm8k", "gsm8k_train", "mgsm_zh", "svamp", "asdiv", "synthetic", "cmath"}
# protocols scored by the last number when no answer is stated: few-shot chains on these sets
LAST_NUMBER_BENCHES = {"gsm8k", "gsm8k_train", "mgsm_zh", "svamp", "asdiv", "cmath"}


def last_number_protocol(bench: str | None, prompt: str | None = "fewshot") -> bool:
    """Does `bench` under `prompt` ("fewshot" | "zeroshot" | "pot" | "tool") define the last-number fallback?
    Few-shot chains on the numeric sets, and program-of-thought, whose graded text is the program's output."""
    return prompt == "pot" or (bench in LAST_NUMBER_BENCHES and prompt == "fewshot")
CHOICE_BENCHES = {"sat", "sat_math", "mmlu_stem", "gaokao_mathqa", "aqua", "mmlu"}
_STOP_HEADERS = {
    "gsm8k": ["\nQ:", "Q: "],
    "gsm8k_train": ["\nQ:", "Q: "],
    "math": ["\nProblem:"], "math500": ["\nProblem:"], "minerva_math": ["\nProblem:"], "ocw": ["\nProblem:"],
    "sat": ["\nProblem:"], "sat_math": ["\nProblem:"], "mmlu_stem": ["\nProblem:"],
    "cmath": ["\n问题："], "gaokao_mathcloze": ["\n问题 "], "gaokao_mathqa": ["\n问题 "],
}


def _truncate(response: str, bench: str | None) -> str:
    for stop in _STOP_HEADERS.get(bench or "", []):
        k = response.find(stop)
        if k > 0:
            response = response[:k]
    return response


def _clean(ans: str | None) -> str | None:
    if ans is None:
        return None
    ans = ans.strip()
    ans = re.sub(r"^[:：]\s*", "", ans)
    ans = ans.rstrip(" \t.。").strip()
    return ans or None  # ("1,000" stays: the comparison decides separator or list, by context)


def _minerva(response: str) -> str | None:
    """Minerva's "final answer is $X$. I hope it is correct" (or without `$`), last occurrence.

    Searched backwards from the last "I hope" occurrences with plain string scans: a lazy regex over a
    100 kB degenerate sample ("The final answer is 5 and ..." x 5000) is quadratic (measured: 52 s)."""
    if "I hope" not in response:
        return None
    lower = response.lower()
    end = len(response)
    for _ in range(_MINERVA_TRIES):
        hope = response.rfind("I hope", 0, end)
        if hope < 0:
            return None
        start = lower.rfind("final answer is", max(0, hope - _MINERVA_WINDOW), hope)
        if start >= 0:
            segment = response[start + len("final answer is") : hope].strip()
            segment = segment[:-1].rstrip() if segment.endswith(".") else segment
            if segment.startswith("$") and segment.endswith("$") and len(segment) >= 2:
                segment = segment[1:-1]
            return _clean(segment.strip().strip("$"))
        end = hope
    return None


def _sentence_answer(rest: str) -> str:
    """The answer part of "the answer is ...": a math span if there is one, else up to the sentence end."""
    rest = rest[:_MINERVA_WINDOW]
    m = _MATH_SPAN.match(rest.lstrip(" :"))
    if m:
        return next(g for g in m.groups() if g is not None)
    m = re.match(r"(.+?)(?:\.\s|\.$|。|$)", rest.strip())
    return m.group(1) if m else rest


def last_number(text: str) -> str | None:
    nums = _NUMBER.findall(text)
    return nums[-1].replace(",", "") if nums else None


def extract_generic(response: str, last_number_fallback: bool = False) -> str | None:
    """Anchors 1-6 of the module docstring, and 7 when `last_number_fallback`."""
    minerva = _minerva(response)
    if minerva is not None:
        return minerva
    has_box, content = last_box(response)
    if has_box:
        return _clean(content)  # empty/unbalanced last box -> None
    m = list(_ANSWER_IS.finditer(response))
    if m:
        return _clean(_sentence_answer(m[-1].group(1)))
    m = list(_HASHES.finditer(response))
    if m:
        return _clean(m[-1].group(1).replace(",", ""))
    m = list(_ZH_ANSWER.finditer(response))
    if m:
        return _clean(_sentence_answer(m[-1].group(1)))
    bare = _bare_answer(response)
    if bare is not None:
        return bare
    return last_number(response.replace("\u2212", "-")) if last_number_fallback else None


def _bare_answer(response: str) -> str | None:
    """A response that IS an answer (one math span, or at most 3 words): taken whole, not its last number."""
    s = response.strip().rstrip(".").strip()
    if not s or len(s) > 200:
        return None
    m = _MATH_SPAN.fullmatch(s)
    if m:
        return _clean(next(g for g in m.groups() if g is not None))
    # a short phrase, not a sentence: no line break, no ". " / "=" chain ("First, 3 + 4 = 7")
    # (nor an empty "The answer is")
    # (an "=" only in an assignment `x = 5`: "3 + 4 = 7" is working, not an answer)
    if len(s) > 60 or "\n" in s or ". " in s or re.search(r"\banswer\b", s, re.I) or (
            "=" in s and not re.fullmatch(r"[A-Za-z](?:_\{?\w+\}?)?\s*=[^=]+", s)):
        return None
    if "$" not in s and "\\(" not in s and len(re.findall(r"[A-Za-z]{2,}", re.sub(r"\\[a-zA-Z]+", "", s))) <= 3:
        return _clean(s)
    return None


def _extract_choice(response: str) -> str | None:
    m = list(_LETTER_FINAL.finditer(response.lower()))
    if m:
        return m[-1].group(1).upper()
    boxes = [(a, b) for _, a, b in box_positions(response) if a is not None and b > a]
    if boxes:
        a, b = boxes[-1]
        mb = re.match(r"\s*(?:\\text\{)?\(?\s*([A-Ea-e])\s*\)?(?![a-zA-Z])", response[a:b][:50])
        if mb:
            return mb.group(1).upper()
    m = list(_LETTER_ANY.finditer(response))
    if m:
        return m[-1].group(1)
    m = list(_ZH_ANSWER.finditer(response))
    if m:
        letters = re.findall(r"[A-E]", m[-1].group(1))
        if letters:
            return letters[0]
    return None


def extract_answer(response: str, bench: str | None = None, mode: str = "strict",
                   last_number_fallback: bool | None = None) -> str | None:
    """The predicted final answer as a string (None when the response has none). See module docstring.

    `last_number_fallback`: None = the benchmark's few-shot protocol decides (`last_number_protocol`)."""
    if response is None:
        return None
    response = str(response)
    if mode == "deepseek":
        from seekmath.evaluate.deepseek_compat import extract_prediction

        pred = extract_prediction(response, bench=bench)
        if isinstance(pred, list):
            return ", ".join(pred) if pred else None
        return pred or None
    if mode != "strict":
        raise ValueError(f"unknown grading mode {mode!r} (expected 'strict' or 'deepseek')")
    response = _truncate(response, bench)
    if bench == "gaokao_mathqa":  # may be multi-select: every letter after "答案是" ("AD", "A、D")
        m = _ZH_ANSWER.search(response)
        if m:
            letters = "".join(dict.fromkeys(re.findall(r"[A-E]", m.group(1))))
            if letters:
                return letters
    if bench in CHOICE_BENCHES:
        return _extract_choice(response)
    if bench == "cmath":
        m = _ZH_ANSWER.search(response)
        if m:  # the last number or fraction on the answer line ("答案是：1/5。", "答案是 12 个")
            nums = _NUMBER_OR_FRACTION.findall(m.group(1).strip("：。"))
            if nums:
                return re.sub(r"\s+", "", nums[-1]).replace(",", "")
    if bench == "gaokao_mathcloze":
        m = _ZH_ANSWER.search(response)
        if m:
            return _clean(m.group(1).strip().strip("$"))
    if last_number_fallback is None:
        last_number_fallback = last_number_protocol(bench)
    return extract_generic(response, last_number_fallback)
