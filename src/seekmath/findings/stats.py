"""The study's statistics (pure functions): curves over seeds, and each ordering's interval and verdict.

An ordering "A > B" (the paper's claim) is judged on the REPORT split from one number per training
seed and variant (final greedy accuracy). Its difference is mean(A) - mean(B) over seeds; its 95%
interval is Welch's t interval,

    se^2 = s_A^2 / n_A + s_B^2 / n_B,   df = se^4 / ((s_A^2/n_A)^2/(n_A-1) + (s_B^2/n_B)^2/(n_B-1)),
    diff +- t_{0.975, df} * se,

so the seed-to-seed spread of training (which also carries the evaluation's sampling noise on a fixed
problem set) sets its width; with 3 seeds per side t is about 2.8, honest about how little 3 seeds
show. A paired claim (maj@K gain vs pass@K gain of the same seed) uses the one-sample t interval of
the per-seed values. The verdict: "agree" when the whole interval is above 0 (A > B as the paper
says), "disagree" when it is below 0, "unresolved" when it contains 0 (or cannot be computed).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass
from typing import Sequence


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def curve_stats(per_seed: dict) -> dict[int, tuple[float, float]]:
    """step -> (mean, std) over seeds, on the steps every seed evaluated."""
    steps = sorted(set.intersection(*(set(map(int, c)) for c in per_seed.values()))) if per_seed else []
    return {s: mean_std([c[s] if s in c else c[str(s)] for c in per_seed.values()]) for s in steps}


def _t(level: float, df: float) -> float:
    from scipy.stats import t

    return float(t.ppf(0.5 + level / 2, df))


def welch_interval(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """(mean(a) - mean(b), lo, hi): Welch's t interval of a difference of means (module doc).

    NaN bounds when a side has fewer than 2 values; a zero-width interval when both sides have no spread.
    """
    if not a or not b:
        return (float("nan"),) * 3
    diff = statistics.fmean(a) - statistics.fmean(b)
    if len(a) < 2 or len(b) < 2:
        return diff, float("nan"), float("nan")
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    se2 = va + vb
    if se2 == 0:
        return diff, diff, diff
    df = se2 * se2 / (va * va / (len(a) - 1) + vb * vb / (len(b) - 1))
    half = _t(level, df) * math.sqrt(se2)
    return diff, diff - half, diff + half


def mean_interval(d: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """(mean, lo, hi): the one-sample t interval of paired per-seed differences."""
    if not d:
        return (float("nan"),) * 3
    m = statistics.fmean(d)
    if len(d) < 2:
        return m, float("nan"), float("nan")
    half = _t(level, len(d) - 1) * statistics.stdev(d) / math.sqrt(len(d))
    return m, m - half, m + half


def verdict(lo: float, hi: float) -> str:
    """agree (interval above 0) | disagree (below 0) | unresolved (contains 0, or unknown)."""
    if math.isnan(lo) or math.isnan(hi):
        return "unresolved"
    if lo > 0:
        return "agree"
    if hi < 0:
        return "disagree"
    return "unresolved"


@dataclass(frozen=True)
class Ordering:
    """One of the paper's orderings, as measured: difference (A - B, accuracy in [0, 1]) with its interval."""

    claim: str  # the paper's words
    a: str
    b: str
    diff: float
    lo: float
    hi: float
    seeds_a: int
    seeds_b: int
    verdict: str

    def as_dict(self) -> dict:
        return asdict(self)


def ordering(claim: str, a: str, b: str, values_a: Sequence[float], values_b: Sequence[float] | None = None,
             level: float = 0.95) -> Ordering:
    """A > B from per-seed values (Welch); with `values_b` None, `values_a` are paired differences (one-sample t)."""
    if values_b is None:
        diff, lo, hi = mean_interval(values_a, level)
        n_b = len(values_a)
    else:
        diff, lo, hi = welch_interval(values_a, values_b, level)
        n_b = len(values_b)
    return Ordering(claim, a, b, diff, lo, hi, len(values_a), n_b, verdict(lo, hi))
