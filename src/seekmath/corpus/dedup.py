"""Deduplication: URL normalisation + exact URL dedup, and MinHash-LSH near-dedup (spec §1.2).

DeepSeekMath ran URL dedup and near-dedup over all of Common Crawl before recall, but does not say
how. Here:

* `normalize_url` gives the dedup key: host lower-cased without `www.`, default port dropped, scheme
  dropped (http and https copies are one page), fragment dropped, duplicate slashes collapsed, a
  trailing slash removed, tracking parameters (`utm_*`, `fbclid`, `gclid`) removed and the rest of the
  query sorted. The canonical copy is kept (see `canonical_rank`).
* MinHash over word 5-gram shingles (normalised text), signatures of `bands x rows` 32-bit hashes
  from a seeded multiply-shift family, LSH banding, and every candidate pair verified by its
  estimated Jaccard similarity >= `threshold`. Clusters are joined with union-find and the canonical
  copy of each cluster is kept (`canonical_rank`: no query string, larger site, shorter URL, earlier). Everything is a pure function of (texts, seed), so results are
  identical across processes, engines and runs.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit

import numpy as np
import xxhash

_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|mc_cid|mc_eid)$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_url(url: str) -> str:
    """Dedup key of a URL: `host[:port]/path[?sorted query]` (see module docstring).

    >>> normalize_url("HTTPS://www.Example.com:443/a//b/?utm_source=x&b=2&a=1#top")
    'example.com/a/b?a=1&b=2'
    """
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k))
    key = host + (path if path != "/" else "")
    if query:
        key += "?" + urlencode(query)
    return key


def domain_of(url: str) -> str:
    """The base URL of a page (the paper's "domain"): the host, lower-cased, without `www.`."""
    return normalize_url(url).split("/", 1)[0].split("?", 1)[0]


def url_dedup(keys: list[str], rank: np.ndarray | None = None) -> np.ndarray:
    """Keep mask: one page per URL key — the one with the lowest `rank` (default: the first)."""
    best: dict[str, int] = {}
    for i, k in enumerate(keys):
        j = best.get(k)
        if j is None or (rank is not None and rank[i] < rank[j]):
            best[k] = i
    keep = np.zeros(len(keys), dtype=bool)
    keep[list(best.values())] = True
    return keep


def canonical_rank(urls: list[str], domains: list[str]) -> np.ndarray:
    """Which copy of a duplicate to keep (0 = best): the canonical one.

    Order: a URL without query string first (`?amp=1`, `?ref=...` are variants); then a page of the
    larger site (pages per domain in the input — scraper and mirror sites are small); then the
    shorter URL; then input order. A ranking, not a score: ties never remain.
    """
    size: dict[str, int] = {}
    for d in domains:
        size[d] = size.get(d, 0) + 1
    has_query = np.array(["?" in u for u in urls], dtype=np.int64)
    site = -np.array([size[d] for d in domains], dtype=np.int64)
    length = np.array([len(u) for u in urls], dtype=np.int64)
    order = np.lexsort((np.arange(len(urls)), length, site, has_query))
    rank = np.empty(len(urls), dtype=np.int64)
    rank[order] = np.arange(len(urls))
    return rank


# ---------------------------------------------------------------------------------------------
# MinHash

_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, n: int = 5) -> set[str]:
    """Word n-gram shingles of NFKC lower-cased text; a text shorter than n words is one shingle."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).lower())
    if not words:
        return set()
    if len(words) < n:
        return {" ".join(words)}
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def hash_params(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of the multiply-shift family h(x) = ((a*x + b) mod 2^64) >> 32, a odd."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    return a, b


EMPTY = np.uint32(0xFFFFFFFF)


def minhash_signatures(texts: list[str], *, num_perm: int = 112, shingle: int = 5, seed: int = 0) -> np.ndarray:
    """uint32 signatures [len(texts), num_perm]; a text without words gets all-EMPTY (never matched)."""
    a, b = hash_params(num_perm, seed)
    out = np.full((len(texts), num_perm), EMPTY, dtype=np.uint32)
    for i, text in enumerate(texts):
        sh = shingles(text, shingle)
        if not sh:
            continue
        x = np.fromiter((xxhash.xxh32_intdigest(s.encode("utf-8")) for s in sorted(sh)), dtype=np.uint64, count=len(sh))
        with np.errstate(over="ignore"):
            h = (x[:, None] * a[None, :] + b[None, :]) >> np.uint64(32)
        out[i] = h.min(axis=0).astype(np.uint32)
    return out


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    return float(np.mean(sig_a == sig_b))


class _UnionFind:
    def __init__(self, n: int, rank: np.ndarray | None = None):
        self.parent = list(range(n))
        self.rank = rank

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:  # the better-ranked document (default: the earlier) represents its cluster
            if self.rank is not None and self.rank[rj] < self.rank[ri]:
                ri, rj = rj, ri
            elif self.rank is None and rj < ri:
                ri, rj = rj, ri
            self.parent[rj] = ri


def near_duplicates(signatures: np.ndarray, *, bands: int, rows: int, threshold: float,
                    active: np.ndarray | None = None, rank: np.ndarray | None = None,
                    return_kept: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Mask of documents to remove: every member of a near-duplicate cluster except its best-ranked
    (`rank`, lower is better; default: the earliest).

    Candidates share all `rows` hashes of at least one band; a candidate is joined to the first
    document of its bucket only if their estimated Jaccard >= `threshold`. `active` (bool mask)
    limits the search (e.g. to URL-dedup survivors); empty texts never take part.
    """
    n = signatures.shape[0]
    if signatures.shape[1] != bands * rows:
        raise ValueError(f"signature length {signatures.shape[1]} != bands*rows = {bands}*{rows}")
    active = np.ones(n, dtype=bool) if active is None else active.copy()
    active &= ~np.all(signatures == EMPTY, axis=1)
    idx = np.flatnonzero(active)
    uf = _UnionFind(n, rank)
    for band in range(bands):
        block = np.ascontiguousarray(signatures[idx, band * rows : (band + 1) * rows])
        if len(idx) == 0:
            break
        keys = block.view(np.dtype((np.void, block.dtype.itemsize * rows))).ravel()
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        first_of: dict[int, int] = {}
        for pos in np.flatnonzero(counts[inverse] > 1):
            g = int(inverse[pos])
            doc = int(idx[pos])
            if g not in first_of:
                first_of[g] = doc
            elif estimated_jaccard(signatures[first_of[g]], signatures[doc]) >= threshold:
                uf.union(first_of[g], doc)
    remove = np.zeros(n, dtype=bool)
    kept_copy = np.arange(n)  # for a removed document: the copy that was kept
    for i in idx:
        root = uf.find(int(i))
        if root != i:
            remove[i] = True
            kept_copy[i] = root
    return (remove, kept_copy) if return_kept else remove
