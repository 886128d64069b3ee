"""Grade a model response against a gold answer: a three-valued verdict with a reason.

    >>> grade("... so the answer is $\\boxed{\\frac{1}{2}}$.", "0.5")
    Verdict(verdict='correct', reason='equal numbers', pred='\\\\frac{1}{2}')

Verdicts: "correct", "incorrect", "unverifiable" (the gold does not parse, the prediction does not
parse, the checker crashed, or the hard time limit passed). A response with no extractable answer
is "incorrect" (the model failed to answer), not "unverifiable".

Modes: "strict" (default; `extract.py` + `equivalence.py`: exact values, no absolute tolerance) and
"deepseek" (`deepseek_compat.py`: DeepSeek-Math's rules, quirks included, for parity with the paper).

Time limit: cheap rules run in-process; anything needing sympy/math-verify runs in a worker process
(`grade_workers.py`) that is killed when `timeout` seconds pass — safe from any thread or process.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from seekmath.evaluate import deepseek_compat
from seekmath.evaluate.equivalence import fast_equal, form_violation, normalize
from seekmath.evaluate.extract import extract_answer
from seekmath.evaluate.grade_workers import reserve_pool_size, shared_pool

MODES = ("strict", "deepseek")
MAX_ANSWER_CHARS = 2000  # longer "answers" are degenerate text: not sent to sympy ("unverifiable")

# Worker results are memoised: maj@k and RL groups grade the same (pred, gold) pair many times.
# Only decided verdicts are kept (a timeout may succeed on a less loaded machine).
_CACHE: OrderedDict = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 100_000


def _worker_verdict(request: dict, timeout: float) -> tuple[str, str]:
    key = json.dumps(request, sort_keys=True)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    reply = shared_pool().run(request, timeout)
    result = (reply["verdict"], reply["reason"])
    if result[0] != "unverifiable":
        with _CACHE_LOCK:
            _CACHE[key] = result
            if len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return result


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


def _budget(timeout: float, started: float) -> float:
    """Seconds left for the worker: the whole item (extraction included) stays within `timeout`."""
    return max(0.01, 0.95 * timeout - (time.monotonic() - started))


def compare(pred: str, gold: str, *, bench: str | None = None, timeout: float = 1.0,
            started: float | None = None) -> tuple[str, str]:
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
          question: str | None = None, timeout: float = 1.0) -> Verdict:
    """Extract the answer from `response` and compare it with `gold`. Safe from any thread."""
    _check_mode(mode)
    started = time.monotonic()
    if gold is None or str(gold).strip() == "":
        return Verdict("unverifiable", "empty gold answer", None)
    if mode == "deepseek":
        return _grade_deepseek(str(response or ""), str(gold), bench, question, timeout, started)
    response = str(response or "")
    if len(response) <= 20_000 and normalize(response) == normalize(str(gold)):  # a bare answer equal to the gold
        return Verdict("correct", "identical after normalisation", extract_answer(response, bench=bench) or response.strip())
    pred = extract_answer(response, bench=bench)
    if pred is None:
        return Verdict("incorrect", "no answer found in the response", None)
    if len(pred) > MAX_ANSWER_CHARS or len(str(gold)) > MAX_ANSWER_CHARS:
        return Verdict("unverifiable", f"answer longer than {MAX_ANSWER_CHARS} characters", pred[:MAX_ANSWER_CHARS])
    verdict, reason = compare(pred, str(gold), bench=bench, timeout=timeout, started=started)
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


def grade_batch(items: list[dict], *, mode: str = "strict", timeout: float = 1.0, workers: int = 0) -> list[Verdict]:
    """Grade many items (dicts with `response`, `gold`, optional `bench`, `question`), in input order.

    `workers` > 1 grades that many items at once (threads in front of as many worker processes)."""
    _check_mode(mode)
    for i, it in enumerate(items):
        if "response" not in it or "gold" not in it:
            raise ValueError(f"item {i}: needs keys 'response' and 'gold' (has {sorted(it)})")

    def one(it: dict) -> Verdict:
        return grade(it["response"], it["gold"], mode=mode, bench=it.get("bench"), question=it.get("question"),
                     timeout=timeout)

    if workers and workers > 1:
        reserve_pool_size(min(workers, max(2, os.cpu_count() or 2)))  # more threads than processes is fine
        with ThreadPoolExecutor(workers) as ex:
            return list(ex.map(one, items))
    return [one(it) for it in items]
