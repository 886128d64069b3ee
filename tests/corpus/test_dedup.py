"""URL normalisation, exact URL dedup and MinHash-LSH near-dedup."""

from __future__ import annotations

import random

import numpy as np
import pytest

from seekmath.corpus import dedup


@pytest.mark.parametrize("url,key", [
    ("https://www.Example.com/a/b/", "example.com/a/b"),
    ("http://example.com/a/b", "example.com/a/b"),
    ("HTTPS://EXAMPLE.com:443/a//b#frag", "example.com/a/b"),
    ("http://example.com:8080/x", "example.com:8080/x"),
    ("https://example.com/?b=2&a=1&utm_source=feed&fbclid=z", "example.com?a=1&b=2"),
    ("https://example.com/", "example.com"),
    ("example.com/q/1", "example.com/q/1"),
    ("https://math.example/Questions/1", "math.example/Questions/1"),  # paths stay case-sensitive
])
def test_normalize_url(url, key):
    assert dedup.normalize_url(url) == key


def test_domain_and_url_dedup():
    assert dedup.domain_of("https://www.MathOverflow.net/questions/1") == "mathoverflow.net"
    keys = [dedup.normalize_url(u) for u in ["http://a.org/x", "https://www.a.org/x/", "http://a.org/y", "a.org/x#z"]]
    assert dedup.url_dedup(keys).tolist() == [True, False, True, False]


def test_shingles():
    assert dedup.shingles("A b c d e f", 5) == {"a b c d e", "b c d e f"}
    assert dedup.shingles("Two words", 5) == {"two words"}
    assert dedup.shingles("  ...  ", 5) == set()


def _text(rng, n=120):
    vocab = [f"w{i}" for i in range(2000)]
    return " ".join(rng.choice(vocab) for _ in range(n))


def test_minhash_deterministic_and_seeded():
    rng = random.Random(0)
    texts = [_text(rng) for _ in range(5)]
    a = dedup.minhash_signatures(texts, num_perm=64, seed=3)
    b = dedup.minhash_signatures(list(texts), num_perm=64, seed=3)
    c = dedup.minhash_signatures(texts, num_perm=64, seed=4)
    assert a.dtype == np.uint32 and a.shape == (5, 64)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    # a signature depends on the text only, not on its neighbours
    assert np.array_equal(dedup.minhash_signatures(texts[2:3], num_perm=64, seed=3)[0], a[2])


def test_minhash_estimates_jaccard():
    rng = random.Random(1)
    words = [f"w{i}" for i in range(400)]
    a = " ".join(words[:300])
    b = " ".join(words[100:400])  # 5-gram shingles: 296 each, 196 shared -> J = 196 / 396
    true = len(dedup.shingles(a) & dedup.shingles(b)) / len(dedup.shingles(a) | dedup.shingles(b))
    assert true == pytest.approx(196 / 396)
    sig = dedup.minhash_signatures([a, b], num_perm=512, seed=0)
    assert dedup.estimated_jaccard(sig[0], sig[1]) == pytest.approx(true, abs=0.07)
    del rng


def test_near_duplicates_clusters_keep_the_first():
    rng = random.Random(2)
    base = [_text(rng, 200) for _ in range(6)]
    words = base[1].split()
    near = " ".join(words[:195] + ["x1", "x2", "x3", "x4", "x5"])  # same page, a changed ending
    texts = base + [near, base[3], ""]
    sig = dedup.minhash_signatures(texts, num_perm=14 * 8, seed=0)
    removed = dedup.near_duplicates(sig, bands=14, rows=8, threshold=0.7)
    assert removed.tolist() == [False] * 6 + [True, True, False]
    # with URL-dedup survivors only: the exact copy (index 7) is not active, so it is not "removed" here
    active = np.array([True] * 7 + [False, True])
    assert dedup.near_duplicates(sig, bands=14, rows=8, threshold=0.7, active=active).tolist() == [False] * 6 + [True, False, False]
    # a threshold above the pair's similarity keeps the changed copy
    assert not dedup.near_duplicates(sig, bands=14, rows=8, threshold=1.0)[6]
    with pytest.raises(ValueError, match="bands"):
        dedup.near_duplicates(sig, bands=10, rows=8, threshold=0.7)
