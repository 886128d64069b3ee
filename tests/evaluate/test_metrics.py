"""Metrics against hand-computed values."""

from fractions import Fraction
from math import comb

import pytest

from seekmath.evaluate.metrics import (
    accuracy,
    maj_at_k_correct,
    majority_vote,
    mean_interval,
    mean_pass_at_k,
    pass_at_k,
    wilson_interval,
)


def test_accuracy():
    assert accuracy([True, False, True, True]) == 0.75
    assert accuracy([]) == 0.0


@pytest.mark.parametrize(
    "n,c,k,expected",
    [
        (5, 2, 2, 0.7),  # 1 - C(3,2)/C(5,2) = 1 - 3/10
        (8, 3, 1, 0.375),  # pass@1 = c/n
        (10, 0, 3, 0.0),
        (4, 3, 2, 1.0),  # n - c < k: every pair holds a correct sample
        (200, 1, 100, 0.5),  # 1 - C(199,100)/C(200,100) = 1 - 100/200
        (64, 64, 64, 1.0),
        (6, 2, 3, 0.8),  # 1 - C(4,3)/C(6,3) = 1 - 4/20
    ],
)
def test_pass_at_k_hand_values(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_k_matches_exact_binomials_and_large_n():
    for n, c, k in [(64, 5, 8), (100, 37, 10), (1000, 3, 500)]:
        exact = 1 - Fraction(comb(n - c, k), comb(n, k))
        assert pass_at_k(n, c, k) == pytest.approx(float(exact), rel=1e-9)


def test_pass_at_k_rejects_bad_input():
    with pytest.raises(ValueError, match="c <= n"):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError, match="k <= n"):
        pass_at_k(3, 1, 4)


def test_mean_pass_at_k():
    assert mean_pass_at_k([(5, 2), (4, 3)], 2) == pytest.approx((0.7 + 1.0) / 2)


def test_majority_vote_tie_goes_to_earliest_bucket():
    assert majority_vote(["5", "3", "3", "5", "7"]) == 0  # 5 and 3 tie with 2 votes; 5 came first
    assert majority_vote(["3", "5", "5", "3", "3"]) == 0  # 3 has 3 votes
    assert majority_vote(["3", None, "5", "5"]) == 2  # None abstains
    assert majority_vote([None, "", "  "]) is None
    assert majority_vote([" 4", "4 ", "2"]) == 0  # default key strips


def test_majority_vote_groups_equivalent_answers():
    eq = lambda a, b: float(Fraction(a)) == float(Fraction(b))  # noqa: E731
    assert majority_vote(["2", "1/2", "0.5", "2"], equal=eq) == 0  # tie 2 vs {1/2, 0.5}: 2 came first
    assert majority_vote(["3", "1/2", "0.5", "2"], equal=eq) == 1  # {1/2, 0.5} wins with 2 votes


def test_maj_at_k_correct_uses_first_k():
    preds = ["7", "7", "9", "9", "9"]
    correct = [False, False, True, True, True]
    assert maj_at_k_correct(preds, correct, 2) is False
    assert maj_at_k_correct(preds, correct, 5) is True
    assert maj_at_k_correct(preds, correct, 4) is False  # 2-2 tie -> "7" (first)
    assert maj_at_k_correct([None, None], [False, False], 2) is False


def test_wilson_interval_hand_values():
    lo, hi = wilson_interval(8, 10)
    assert lo == pytest.approx(0.49016, abs=1e-4) and hi == pytest.approx(0.94332, abs=1e-4)
    lo, hi = wilson_interval(0, 20)
    assert lo == 0.0 and hi == pytest.approx(0.16113, abs=1e-4)  # z^2/(n+z^2) = 3.8415/23.8415
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_mean_interval():
    lo, hi = mean_interval([0.0, 1.0, 0.5, 0.5])
    # mean 0.5, sample sd = sqrt(0.5/3), half = 1.96 * sd / 2
    half = 1.959963984540054 * (0.5 / 3) ** 0.5 / 2
    assert lo == pytest.approx(0.5 - half) and hi == pytest.approx(0.5 + half)
