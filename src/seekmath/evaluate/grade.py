"""Grading: extract an answer and compare it with the gold (first version: exact / numeric)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from seekmath.evaluate.extract import extract_answer


@dataclass
class Verdict:
    verdict: str  # "correct" | "incorrect" | "unverifiable"
    reason: str
    pred: str | None

    @property
    def correct(self) -> bool:
        return self.verdict == "correct"


def _as_number(s: str) -> Fraction | None:
    s = s.strip().strip("$").replace(",", "").replace(" ", "")
    try:
        return Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None


def answers_equal(a: str, b: str, mode: str = "strict", timeout: float = 1.0) -> bool:
    if a is None or b is None:
        return False
    if a.strip() == b.strip():
        return True
    x, y = _as_number(a), _as_number(b)
    return x is not None and y is not None and x == y


def grade(response: str, gold: str, *, mode: str = "strict", bench: str | None = None,
          question: str | None = None, timeout: float = 1.0) -> Verdict:
    pred = extract_answer(response, bench=bench, mode=mode)
    if pred is None:
        return Verdict("incorrect", "no answer found", None)
    if answers_equal(pred, str(gold), mode=mode, timeout=timeout):
        return Verdict("correct", "equal", pred)
    return Verdict("incorrect", "not equal", pred)


def grade_batch(items: list[dict], *, mode: str = "strict", timeout: float = 1.0, workers: int = 0) -> list[Verdict]:
    return [grade(it["response"], it["gold"], mode=mode, bench=it.get("bench"), question=it.get("question"),
                  timeout=timeout) for it in items]
