"""Benchmark metrics as pure functions: top-1 accuracy, maj@k, unbiased pass@k, 95% intervals.

- Top-1 (the paper's "greedy" numbers, spec §5.1): the fraction of problems whose greedy answer is correct.
- maj@k (self-consistency; the paper's maj@64 on MATH): a vote over the k sampled answers. The paper's
  repository has no voting code (spec §8), so the rule is ours and documented in `majority_vote`.
- pass@k: the unbiased estimator of Chen et al. 2021 (Codex paper, eq. 1) from n >= k samples with c
  correct: 1 - C(n-c, k) / C(n, k), computed as a product so it never overflows.
- 95% intervals: Wilson score intervals for proportions (greedy, maj@k); for pass@k (a mean of per-problem
  probabilities in [0, 1], not a proportion) the normal interval of the mean, clipped to [0, 1].
"""

from __future__ import annotations

import math
from typing import Callable, Hashable, Sequence

Z95 = 1.959963984540054  # two-sided 95% normal quantile


def accuracy(correct: Sequence[bool]) -> float:
    """Fraction of True; 0.0 for an empty list."""
    return sum(bool(c) for c in correct) / len(correct) if correct else 0.0


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem (Chen et al. 2021): the probability that at least one of k draws
    without replacement from n samples (c of them correct) is correct = 1 - C(n-c, k) / C(n, k).

    Computed as 1 - prod_{i=n-c+1}^{n} (1 - k/i): stable for any n (no huge binomials)."""
    if not 0 <= c <= n:
        raise ValueError(f"pass_at_k: need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"pass_at_k: need 1 <= k <= n, got n={n}, k={k}")
    if n - c < k:  # every k-subset contains a correct sample
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def mean_pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> float:
    """Mean pass@k over problems given (n, c) per problem."""
    if not counts:
        return 0.0
    return sum(pass_at_k(n, c, k) for n, c in counts) / len(counts)


def majority_vote(preds: Sequence[str | None], key: Callable[[str], Hashable] | None = None,
                  equal: Callable[[str, str], bool] | None = None) -> int | None:
    """The index (into `preds`) of the representative of the winning answer, or None if no sample answered.

    Grouping: samples without an answer (None or empty) abstain. Each answer joins the first earlier bucket
    whose representative has the same `key` (default: the stripped string) or, if `equal` is given, for
    which `equal(representative, answer)` holds; otherwise it opens a new bucket and is its representative.
    Winner: the bucket with most members; ties go to the bucket whose first member came earliest (lowest
    sample index) — deterministic and independent of dict order.
    """
    key = key or (lambda s: s.strip())
    reps: list[int] = []  # representative sample index per bucket
    rep_keys: list[Hashable] = []
    sizes: list[int] = []
    by_key: dict[Hashable, int] = {}
    for i, p in enumerate(preds):
        if p is None or not str(p).strip():
            continue
        kk = key(p)
        b = by_key.get(kk)
        if b is None and equal is not None:
            b = next((j for j, r in enumerate(reps) if equal(preds[r], p)), None)  # type: ignore[arg-type]
        if b is None:
            b = len(reps)
            reps.append(i)
            rep_keys.append(kk)
            sizes.append(0)
        by_key.setdefault(kk, b)
        sizes[b] += 1
    if not reps:
        return None
    best = max(range(len(reps)), key=lambda j: (sizes[j], -reps[j]))
    return reps[best]


def maj_at_k_correct(preds: Sequence[str | None], correct: Sequence[bool], k: int,
                     key: Callable[[str], Hashable] | None = None,
                     equal: Callable[[str, str], bool] | None = None) -> bool:
    """Whether the majority answer among the first k samples is correct (no answer at all = wrong).
    The winning bucket's verdict is its representative's verdict (its members are equivalent answers)."""
    if len(preds) != len(correct):
        raise ValueError("maj_at_k_correct: preds and correct differ in length")
    if not 1 <= k <= len(preds):
        raise ValueError(f"maj_at_k_correct: need 1 <= k <= {len(preds)}, got {k}")
    win = majority_vote(list(preds[:k]), key=key, equal=equal)
    return bool(correct[win]) if win is not None else False


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (default 95%). (0, 1) when n == 0."""
    if n == 0:
        return 0.0, 1.0
    if not 0 <= successes <= n:
        raise ValueError(f"wilson_interval: need 0 <= successes <= n, got {successes}/{n}")
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(values: Sequence[float], z: float = Z95) -> tuple[float, float]:
    """Normal interval of a mean (sample std, n-1), clipped to [0, 1]; for pass@k averages."""
    n = len(values)
    if n == 0:
        return 0.0, 1.0
    m = sum(values) / n
    if n == 1:
        return max(0.0, m), min(1.0, m)
    var = sum((v - m) ** 2 for v in values) / (n - 1)
    half = z * math.sqrt(var / n)
    return max(0.0, m - half), min(1.0, m + half)
