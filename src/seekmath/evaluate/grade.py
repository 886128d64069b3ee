"""Grade a model response against a gold answer: a three-valued verdict with a reason.

    >>> grade("... so the answer is $\\boxed{\\frac{1}{2}}$.", "0.5")
    Verdict(verdict='correct', reason='equal numbers', pred='\\\\frac{1}{2}')

Verdicts: "correct", "incorrect", "unverifiable" (the gold does not parse, the prediction does not
parse, the checker crashed, or the hard time limit passed). A response with no extractable answer
is "incorrect" (the model failed to answer), not "unverifiable".

Modes: "strict" (default; `extract.py` + `equivalence.py`: exact values, no absolute tolerance) and
"deepseek" (`deepseek_compat.py`: DeepSeek-Math's rules, quirks included, for parity with the paper).

Time limit: `timeout` bounds each item from the moment `grade` is called: extraction, the cheap rules
(in-process, bounded by construction) and the sympy/math-verify check, waiting for a grading worker to
start included. The check runs in a worker process (`grade_workers.py`) killed at the deadline — safe
from any thread. Workers start lazily, from the second item that needs sympy (a one-item call never
starts one); until one is warm, items are checked in the calling thread when it is the main thread,
under a SIGALRM limit (`_in_process`), unless the answers look able to block inside one C call (huge
powers, factorials), which always go to a killable worker. The one exception to the clock: the first
in-process check sets the checker up (imports math-verify or sympy's LaTeX parser and builds the ANTLR
parser with one fixed comparison) before its limit is armed — an import cannot be interrupted safely,
and it is the same cost math-verify's own cold call pays.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from seekmath.evaluate import deepseek_compat, equivalence
from seekmath.evaluate.equivalence import ASSIGN_LHS, fast_equal, form_violation, normalize
from seekmath.evaluate.extract import extract_answer
from seekmath.evaluate.grade_workers import reserve_pool_size, shared_pool, started_pool

MODES = ("strict", "deepseek")
MAX_ANSWER_CHARS = 2000  # longer "answers" are degenerate text: not sent to sympy ("unverifiable")

# Worker results are memoised: maj@k and RL groups grade the same (pred, gold) pair many times.
# Only decided verdicts are kept (a timeout may succeed on a less loaded machine).
_CACHE: OrderedDict = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 100_000


# answers that may block inside a single C call (a huge power or factorial): SIGALRM cannot stop
# those, so they always go to a worker that can be killed
_RISKY = re.compile(r"\^\s*\{?\s*[-+]?\(?\d{5,}|\^\s*\{[^{}]*\^|\^\s*\w+\s*\^|\d{4,}\s*!|\)\s*!|!\s*!|\\(?:int|sum|prod|lim)\b|\*\*")
_IN_PROCESS_MAX_CHARS = 400
_heavy_items = 0  # items that needed sympy so far in this process (workers start from the second)


class _InProcessTimeout(BaseException):  # not Exception: library `except Exception` must not swallow it
    pass


def _raise_timeout(signum, frame):
    raise _InProcessTimeout


def _texts(x) -> str:
    return x if isinstance(x, str) else " ".join(map(str, x))


def _in_process_allowed(request: dict) -> bool:
    """SIGALRM works only in the main thread, and only when nobody else is using it."""
    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, signal.SIG_IGN, None) or signal.getitimer(signal.ITIMER_REAL)[0]:
        return False
    texts = [_texts(request["pred"]), _texts(request["gold"])]
    return sum(map(len, texts)) <= _IN_PROCESS_MAX_CHARS and not any(_RISKY.search(t) for t in texts)


def _in_process(request: dict, budget: float) -> tuple[str, str]:
    """The worker's check in this (main) thread, interrupted by SIGALRM after `budget` seconds."""
    deepseek = request["mode"] == "deepseek"
    (deepseek_compat.warm_up if deepseek else equivalence.prime)()  # one-time set-up: before the clock (module docstring)
    previous = signal.signal(signal.SIGALRM, _raise_timeout)
    try:
        signal.setitimer(signal.ITIMER_REAL, budget)
        if deepseek:
            return deepseek_compat.heavy_equal(request["pred"], request["gold"], request.get("bench"))
        return equivalence.heavy_equal(request["pred"], request["gold"])
    except _InProcessTimeout:
        return "unverifiable", f"timeout after {budget:g}s"
    except (MemoryError, RecursionError, Exception) as e:  # noqa: BLE001 — a crashing checker is "could not check"
        return "unverifiable", f"checker error: {type(e).__name__}: {str(e)[:120]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _worker_verdict(request: dict, timeout: float) -> tuple[str, str]:
    """The sympy-level check of `request` within `timeout` seconds: in a warm worker, or in this thread
    while none is warm (see the module docstring); memoised."""
    global _heavy_items
    key = json.dumps(request, sort_keys=True)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    mode = request["mode"]
    pool = started_pool()
    if (pool is None or not pool.has_ready(mode)) and _in_process_allowed(request):
        _heavy_items += 1
        if _heavy_items >= 2:  # more than one item needs sympy: start (or warm) workers for the next ones
            shared_pool(mode=mode)
        result = _in_process(request, timeout)
    else:
        reply = shared_pool(mode=mode).run(request, timeout)
        result = (reply["verdict"], reply["reason"])
    if result[0] != "unverifiable":
        with _CACHE_LOCK:
            _CACHE[key] = result
            if len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return result


def _pool_warm(mode: str) -> bool:
    pool = started_pool()
    return pool is not None and pool.has_ready(mode)


@dataclass
class Verdict:
    verdict: str  # "correct" | "incorrect" | "unverifiable"
    reason: str
    pred: str | None

    @property
    def correct(self) -> bool:
        return self.verdict == "correct"


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"unknown grading mode {mode!r}; expected one of {MODES}")


def _split_blanks(s: str) -> list[str]:
    return [piece.strip().strip("$").strip() for piece in s.split(";") if piece.strip().strip("$").strip()]


# ----------------------------------------------------------------------------------------------------
# written forms reconciled before comparison (strict mode)
# ----------------------------------------------------------------------------------------------------

# "x = 2 or x = 3", "2 \\text{ and } 3", "x=2,\\ x=3": a list of solutions written with words
_OR_AND = r"\\(?:text|textrm|mbox|mathrm)\s*\{\s*(?:or|and)\s*\}|(?<![\\A-Za-z])(?:or|and)(?![A-Za-z])"
_WORDED = re.compile(_OR_AND)
_CONNECTIVE = re.compile(r"\s*,?\s*(?:" + _OR_AND + r"|\\q?quad)\s*")
# "\\text{(C) } 12", "(C) 12", "\\textbf{(C)}~12": a choice letter followed by its value
_CHOICE_VALUE = re.compile(r"^\s*(?:\\(?:text|textbf|mathrm)\s*\{\s*)?\(\s*([A-E])\s*\)\s*\}?[\s~:.]*(?:\\[,;: ]\s*)*(.+)$")
_LETTER = re.compile(r"\s*(?:\\(?:text|textbf|mathrm)\s*\{\s*)?\(?\s*([A-E])\s*\)?\s*\}?\s*")
# questions that ask for a list: there a plain `1,000` is two elements, never one thousand
_ASKS_LIST = re.compile(r"separated by commas|comma[- ]separated|list (?:all|them|the|each)|enter all", re.I)
_PLAIN_COMMA_GROUP = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_COMMA = re.compile(r",\s*")


def _top_level_split(s: str, pattern: re.Pattern) -> list[str]:
    """Split `s` at matches of `pattern` that are outside (), [], {} — `f(a, b)` stays one piece."""
    depth, cuts = 0, []
    marks = {m.start(): m.end() for m in pattern.finditer(s)}
    i = 0
    while i < len(s):
        if depth == 0 and i in marks and marks[i] > i:
            cuts.append((i, marks[i]))
            i = marks[i]
            continue
        if s[i] == "\\" and i + 1 < len(s) and s[i + 1] in "{}":
            i += 2
            continue
        depth += (s[i] in "([{") - (s[i] in ")]}")
        i += 1
    pieces, start = [], 0
    for a, b in cuts:
        pieces.append(s[start:a])
        start = b
    pieces.append(s[start:])
    return [p.strip() for p in pieces if p.strip()]


def _solutions(s: str) -> list[str]:
    """The elements of an answer written as a list with words or commas; assignments `x =` dropped
    when every element has one. One element when the answer is not such a list."""
    s = normalize(s) if not _CONNECTIVE.search(s) else s  # (normalize removes thousands separators)
    pieces = [q for p in _top_level_split(s, _CONNECTIVE) for q in _top_level_split(p, _COMMA)]
    if len(pieces) > 1 and all(ASSIGN_LHS.match(p) for p in pieces):
        pieces = [ASSIGN_LHS.sub("", p, count=1) for p in pieces]
    return pieces


def reconcile_forms(pred: str, gold: str, question: str | None = None) -> tuple[str, str] | tuple[str, str, str]:
    """Rewrite two answers into forms the comparison understands, or decide: (pred, gold) or
    (verdict, reason, "") — a 3-tuple means decided.

    - a choice letter with its value (`\\text{(C) } 12`): the letter against a letter gold, else the value;
    - solutions joined by "or"/"and" against a list gold: a comma list (compared unordered); several
      answers against a single gold is a hedge (incorrect);
    - a question asking for a comma-separated list: a plain `1,000` there is the elements 1 and 000."""
    m = _CHOICE_VALUE.match(pred)
    if m and m.group(2).strip():
        pred = m.group(1) if _LETTER.fullmatch(gold) else m.group(2).strip().rstrip(".")
    if question and _ASKS_LIST.search(question):
        pred, gold = _PLAIN_COMMA_GROUP.sub(", ", pred), _PLAIN_COMMA_GROUP.sub(", ", gold)
    worded_p, worded_g = _CONNECTIVE.search(pred), _CONNECTIVE.search(gold)
    if worded_p or worded_g:
        sp, sg = _solutions(pred), _solutions(gold)
        if len(sp) > 1 and len(sg) == 1 and _WORDED.search(pred):  # ("5 \\quad \\text{cm}" is no hedge)
            return "incorrect", f"several answers ({len(sp)}) for a single one", ""
        if len(sg) > 1 and len(sp) > 1:
            pred, gold = ", ".join(sp), ", ".join(sg)
    return pred, gold


def _budget(timeout: float, started: float) -> float:
    """Seconds left for the worker: the whole item (extraction included) stays within `timeout`."""
    return max(0.01, 0.95 * timeout - (time.monotonic() - started))


def compare(pred: str, gold: str, *, bench: str | None = None, timeout: float = 1.0,
            started: float | None = None, question: str | None = None) -> tuple[str, str]:
    """Strict comparison of an already-extracted prediction with a gold answer -> (verdict, reason)."""
    started = time.monotonic() if started is None else started
    if bench == "gaokao_mathcloze" and ";" in gold:  # several blanks, in order: every one must match
        golds, preds = _split_blanks(gold), _split_blanks(pred)
        if len(golds) != len(preds):
            return "incorrect", f"expected {len(golds)} answers separated by ';', got {len(preds)}"
        results = [compare(p, g, timeout=timeout, started=started) for p, g in zip(preds, golds)]
        for verdict in ("unverifiable", "incorrect"):
            bad = [r for r in results if r[0] == verdict]
            if bad:
                return verdict, bad[0][1]
        return "correct", "every blank matches"
    forms = reconcile_forms(pred, gold, question)
    if len(forms) == 3:
        return forms[0], forms[1]
    pred, gold = forms
    decided = fast_equal(pred, gold, bench)
    if decided is not None:
        return decided
    return _worker_verdict({"mode": "strict", "pred": pred, "gold": gold}, _budget(timeout, started))


def _grade_deepseek(response: str, gold: str, bench: str | None, question: str | None, timeout: float,
                    started: float) -> Verdict:
    pred = deepseek_compat.extract_prediction(response, bench=bench, question=question)
    gold_prepared = deepseek_compat.gold_answer(gold, bench=bench, question=question)
    shown = (", ".join(pred) if isinstance(pred, list) else pred) or None
    try:
        ok = deepseek_compat.evaluate(pred, gold_prepared, bench, allow_sympy=False)
        return Verdict("correct" if ok else "incorrect", "deepseek rules" if ok else "deepseek: not equal", shown)
    except deepseek_compat.NeedsSympy:
        pass
    verdict, reason = _worker_verdict({"mode": "deepseek", "pred": pred, "gold": gold_prepared, "bench": bench},
                                      _budget(timeout, started))
    return Verdict(verdict, reason, shown)


def grade(response: str, gold: str, *, mode: str = "strict", bench: str | None = None,
          question: str | None = None, timeout: float = 1.0, last_number_fallback: bool | None = None) -> Verdict:
    """Extract the answer from `response` and compare it with `gold`. Safe from any thread.

    `last_number_fallback` (strict mode): score the response's last number when it states no answer —
    None = only where the benchmark's few-shot protocol defines it (`extract.last_number_protocol`)."""
    _check_mode(mode)
    started = time.monotonic()
    if gold is None or str(gold).strip() == "":
        return Verdict("unverifiable", "empty gold answer", None)
    if mode == "deepseek":
        return _grade_deepseek(str(response or ""), str(gold), bench, question, timeout, started)
    response = str(response or "")
    as_list = bool(question and _ASKS_LIST.search(question))  # then "1,000" is two elements (reconcile_forms)
    if len(response) <= 20_000 and not as_list and normalize(response) == normalize(str(gold)):  # a bare answer equal to the gold
        return Verdict("correct", "identical after normalisation", extract_answer(response, bench=bench) or response.strip())
    pred = extract_answer(response, bench=bench, last_number_fallback=last_number_fallback)
    if pred is None:
        return Verdict("incorrect", "no answer found in the response", None)
    if len(pred) > MAX_ANSWER_CHARS or len(str(gold)) > MAX_ANSWER_CHARS:
        return Verdict("unverifiable", f"answer longer than {MAX_ANSWER_CHARS} characters", pred[:MAX_ANSWER_CHARS])
    verdict, reason = compare(pred, str(gold), bench=bench, timeout=timeout, started=started, question=question)
    if verdict == "correct":
        violation = form_violation(pred, question)
        if violation and not form_violation(str(gold), question):  # trust a gold that breaks it itself
            return Verdict("incorrect", violation, pred)
    return Verdict(verdict, reason, pred)


def answers_equal(a: str, b: str, mode: str = "strict", timeout: float = 1.0) -> bool:
    """Are two extracted answers the same (for maj@k buckets)? Unverifiable counts as not equal."""
    _check_mode(mode)
    if a is None or b is None:
        return False
    if mode == "deepseek":
        sa, sb = deepseek_compat.strip_string(a), deepseek_compat.strip_string(b)
        try:
            return deepseek_compat.is_correct(sa, sb, allow_sympy=False)
        except deepseek_compat.NeedsSympy:
            return _worker_verdict({"mode": "deepseek", "pred": sa, "gold": sb, "bench": None}, 0.95 * timeout)[0] == "correct"
    return compare(str(a), str(b), timeout=timeout)[0] == "correct"


def grade_batch(items: list[dict], *, mode: str = "strict", timeout: float = 1.0, workers: int = 0,
                last_number_fallback: bool | None = None) -> list[Verdict]:
    """Grade many items (dicts with `response`, `gold`, optional `bench`, `question`), in input order.

    `workers` > 1 grades that many items at once (threads in front of as many worker processes)."""
    _check_mode(mode)
    for i, it in enumerate(items):
        if "response" not in it or "gold" not in it:
            raise ValueError(f"item {i}: needs keys 'response' and 'gold' (has {sorted(it)})")

    def one(it: dict) -> Verdict:
        return grade(it["response"], it["gold"], mode=mode, bench=it.get("bench"), question=it.get("question"),
                     timeout=timeout, last_number_fallback=last_number_fallback)

    if workers and workers > 1:
        reserve_pool_size(min(workers, max(2, os.cpu_count() or 2)))  # more threads than processes is fine
        out, i = [], 0
        if threading.current_thread() is threading.main_thread():  # until a worker is warm: in this thread
            while i < len(items) and not _pool_warm(mode):
                out.append(one(items[i]))
                i += 1
        with ThreadPoolExecutor(workers) as ex:
            return out + list(ex.map(one, items[i:]))
    return [one(it) for it in items]
