"""The study's statistics: curves over seeds (pure functions)."""

from __future__ import annotations

import statistics


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def curve_stats(per_seed: dict) -> dict[int, tuple[float, float]]:
    """step -> (mean, std) over seeds, on the steps every seed evaluated."""
    steps = sorted(set.intersection(*(set(map(int, c)) for c in per_seed.values()))) if per_seed else []
    return {s: mean_std([c[s] if s in c else c[str(s)] for c in per_seed.values()]) for s in steps}
