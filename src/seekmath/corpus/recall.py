"""The iterative recall loop — the heart of the DeepSeekMath Corpus pipeline (paper §2.1, Fig. 2; spec §1.3-1.5).

Per iteration k:
1. train fastText on the current seed (positives) vs random pool pages (negatives), 1:1;
2. score every page of the (deduplicated, decontaminated) pool;
3. rank by score and keep the top-N tokens (`keep_tokens`, the per-iteration budget; the paper kept
   the top 40B tokens in iteration 1) — pages under `min_score` are never kept;
4. per domain (pages sharing a base URL), the share of its pages collected; domains above
   `domain_threshold` (10%) are math domains;
5. within math domains, URL-path prefixes are proposed with counts in `paths_iterK.tsv`; they are
   accepted by a rule (`path_review=auto`) or read back from a human-edited file (`path_review=file`,
   the paper annotated by hand);
6. pages under accepted prefixes not yet collected join the seed; retrain;
7. stop when >= `stop_overlap` (98%) of this iteration's collection was already collected in the
   previous iteration, or after `max_iterations` (4).

The statistics (top-N selection, overlap, domain shares, path proposals) are pure functions below;
`run_recall_loop` strings them together with a training function and a scoring function supplied by
the pipeline (so the executor stays separate), and writes each iteration's statistics and state,
so a killed run resumes at the iteration it was in.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from seekmath.runs import atomic_write_json, atomic_write_text

log = logging.getLogger("seekmath.corpus")


# ---------------------------------------------------------------------------------------------
# Pure statistics


def select_top_tokens(scores: np.ndarray, tokens: np.ndarray, budget: int | None, min_score: float = 0.0,
                      eligible: np.ndarray | None = None) -> np.ndarray:
    """Keep mask of the top-ranked pages whose token total stays within `budget` (§1.3).

    Pages are ranked by score, descending (ties: earlier page first); the longest prefix of the ranking
    whose tokens sum to <= budget is kept (budget None or <= 0: no cap). Pages scoring below
    `min_score` or not `eligible` are never kept.
    """
    scores = np.asarray(scores, dtype=np.float64)
    tokens = np.asarray(tokens, dtype=np.int64)
    ok = scores >= min_score
    if eligible is not None:
        ok &= eligible
    cand = np.flatnonzero(ok)
    order = cand[np.lexsort((cand, -scores[cand]))]
    keep = np.zeros(len(scores), dtype=bool)
    if budget is None or budget <= 0:
        keep[order] = True
        return keep
    n = int(np.searchsorted(np.cumsum(tokens[order]), budget, side="right"))
    keep[order[:n]] = True
    return keep


def overlap_with_previous(current: np.ndarray, previous: np.ndarray | None) -> float:
    """Share of this iteration's collection already collected in the previous one (§1.5 stop rule).

    0.0 when there is no previous iteration; 1.0 when nothing is collected now."""
    if previous is None:
        return 0.0
    n = int(current.sum())
    if n == 0:
        return 1.0
    return float((current & previous).sum()) / n


@dataclass(frozen=True)
class DomainShare:
    domain: str
    pages: int
    collected: int

    @property
    def share(self) -> float:
        return self.collected / self.pages if self.pages else 0.0


def domain_shares(domains: Sequence[str], collected: np.ndarray, pool: np.ndarray | None = None) -> list[DomainShare]:
    """Per domain: pages in the pool and pages collected (§1.4), sorted by domain name."""
    pages: dict[str, int] = {}
    got: dict[str, int] = {}
    for i, d in enumerate(domains):
        if pool is not None and not pool[i]:
            continue
        pages[d] = pages.get(d, 0) + 1
        if collected[i]:
            got[d] = got.get(d, 0) + 1
    return [DomainShare(d, pages[d], got.get(d, 0)) for d in sorted(pages)]


def math_domains(shares: Sequence[DomainShare], threshold: float = 0.10, min_pages: int = 1) -> list[str]:
    """Domains with more than `threshold` of their pages collected (and at least `min_pages` pages)."""
    return [s.domain for s in shares if s.pages >= min_pages and s.share > threshold]


def path_prefix(url_key: str, depth: int = 1) -> str:
    """`host/seg1/.../segDepth/` of a normalised URL key; a page with fewer segments gives `host/`.

    >>> path_prefix("mathqa.example/questions/123?x=1", 1)
    'mathqa.example/questions/'
    >>> path_prefix("mathqa.example/about", 1)
    'mathqa.example/'
    """
    path = url_key.split("?", 1)[0]
    parts = path.split("/")
    host, segs = parts[0], parts[1:]
    # the last segment is the page itself, not a folder
    folders = segs[:-1]
    if depth <= 0 or len(folders) < depth:
        return host + "/"
    return host + "/" + "".join(s + "/" for s in folders[:depth])


@dataclass(frozen=True)
class PathProposal:
    domain: str
    prefix: str
    pages: int
    collected: int

    @property
    def share(self) -> float:
        return self.collected / self.pages if self.pages else 0.0


def propose_paths(url_keys: Sequence[str], domains: Sequence[str], collected: np.ndarray, math_doms: Sequence[str],
                  depth: int = 1, pool: np.ndarray | None = None) -> list[PathProposal]:
    """URL-path prefixes inside math domains with page and collected counts (the annotators' worklist)."""
    wanted = set(math_doms)
    pages: dict[tuple[str, str], int] = {}
    got: dict[tuple[str, str], int] = {}
    for i, (key, dom) in enumerate(zip(url_keys, domains)):
        if dom not in wanted or (pool is not None and not pool[i]):
            continue
        k = (dom, path_prefix(key, depth))
        pages[k] = pages.get(k, 0) + 1
        if collected[i]:
            got[k] = got.get(k, 0) + 1
    return [PathProposal(d, p, pages[(d, p)], got.get((d, p), 0)) for d, p in sorted(pages)]


def auto_accept(proposals: Sequence[PathProposal], min_share: float = 0.5, min_pages: int = 3) -> list[bool]:
    """The automatic stand-in for the paper's annotators: a prefix is math if most of its pages were collected."""
    return [p.pages >= min_pages and p.share >= min_share for p in proposals]


TSV_HEADER = ["domain", "prefix", "pages", "collected", "share", "accept"]


def proposals_tsv(proposals: Sequence[PathProposal], accepted: Sequence[bool]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    w.writerow(TSV_HEADER)
    for p, a in zip(proposals, accepted):
        w.writerow([p.domain, p.prefix, p.pages, p.collected, f"{p.share:.4f}", "1" if a else "0"])
    return buf.getvalue()


def read_review_file(path: str | Path) -> list[str]:
    """Accepted prefixes from a human-edited TSV (columns as written by `proposals_tsv`; accept = 1/yes/true/y)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path review file not found: {path}")
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines(), delimiter="\t"))
    if rows and ("prefix" not in rows[0] or "accept" not in rows[0]):
        raise ValueError(f"{path}: needs the columns 'prefix' and 'accept' (header: {list(rows[0])})")
    return [r["prefix"].strip() for r in rows if str(r.get("accept", "")).strip().lower() in ("1", "yes", "true", "y")]


def under_prefixes(url_keys: Sequence[str], prefixes: Sequence[str]) -> np.ndarray:
    """Mask of pages whose normalised URL starts with one of the prefixes."""
    pre = tuple(prefixes)
    if not pre:
        return np.zeros(len(url_keys), dtype=bool)
    return np.fromiter((k.startswith(pre) for k in url_keys), dtype=bool, count=len(url_keys))


# ---------------------------------------------------------------------------------------------
# The loop


@dataclass
class Pool:
    """What the loop sees of the pool: one entry per page (only `active` pages take part)."""

    url_keys: list[str]
    domains: list[str]
    tokens: np.ndarray
    active: np.ndarray  # dedup + decontamination survivors


def run_recall_loop(
    pool: Pool,
    cfg,
    work_dir: str | Path,
    *,
    train: Callable[[np.ndarray, np.ndarray, int, Path], Path],
    score: Callable[[Path, int], np.ndarray],
    seed_mask: np.ndarray,
    external_positives: int = 0,
    progress: Callable[[str], None] = lambda s: None,
) -> dict:
    """Iterate train -> score -> rank -> domains -> paths -> seed until the stop rule (see module doc).

    `train(positive_mask, negative_mask, iteration, model_path)` trains and saves a model;
    `score(model_path, iteration)` returns P(math) for every pool page. Per iteration the folder
    `work_dir/iterK/` gets `state.json` (collected/seed indices and statistics) and `paths.tsv`.
    Returns {"iterations": [...stats], "collected": mask, "first_iteration": int array, "stopped_by": str}.
    """
    work_dir = Path(work_dir)
    n = len(pool.url_keys)
    active = pool.active
    seed = seed_mask & active
    if not seed.any() and external_positives == 0:
        raise ValueError("the recall loop has no seed: no pool page matches corpus.seed_prefixes and no corpus.seed_file was given")
    budgets = list(cfg.keep_tokens) or [0]
    rng_base = int(cfg.seed)
    previous: np.ndarray | None = None
    first_iter = np.zeros(n, dtype=np.int32)  # 0 = never collected
    history: list[dict] = []
    stopped_by = "max_iterations"
    collected = np.zeros(n, dtype=bool)
    for it in range(1, int(cfg.max_iterations) + 1):
        it_dir = work_dir / f"iter{it}"
        state_path = it_dir / "state.json"
        if state_path.is_file():  # finished before a crash: reuse, never redo
            st = json.loads(state_path.read_text(encoding="utf-8"))
            collected = np.zeros(n, dtype=bool)
            collected[st["collected"]] = True
            new_seed = np.zeros(n, dtype=bool)
            new_seed[st["seed_next"]] = True
            stats = st["stats"]
            progress(f"iteration {it}: resumed from {state_path}")
        else:
            it_dir.mkdir(parents=True, exist_ok=True)
            # negatives: random active non-seed pages, negative_ratio x positives (paper: 1:1)
            n_pos = min(int(seed.sum()), int(cfg.max_positives)) + external_positives
            rng = np.random.default_rng(rng_base + 1000 * it)
            pos_idx = np.flatnonzero(seed)
            if len(pos_idx) > cfg.max_positives:
                pos_idx = np.sort(rng.choice(pos_idx, size=int(cfg.max_positives), replace=False))
            positives = np.zeros(n, dtype=bool)
            positives[pos_idx] = True
            cand = np.flatnonzero(active & ~seed)
            n_neg = min(len(cand), max(1, int(round(n_pos * cfg.negative_ratio))))
            negatives = np.zeros(n, dtype=bool)
            negatives[np.sort(rng.choice(cand, size=n_neg, replace=False))] = True
            model_path = train(positives, negatives, it, it_dir)
            scores = score(model_path, it)
            budget = budgets[min(it, len(budgets)) - 1]
            collected = select_top_tokens(scores, pool.tokens, budget, cfg.min_score, eligible=active)
            shares = domain_shares(pool.domains, collected, pool=active)
            doms = math_domains(shares, cfg.domain_threshold, cfg.domain_min_pages)
            props = propose_paths(pool.url_keys, pool.domains, collected, doms, cfg.path_depth, pool=active)
            if cfg.path_review == "auto":
                accepted = auto_accept(props, cfg.path_accept_share, cfg.path_min_pages)
                accepted_prefixes = [p.prefix for p, a in zip(props, accepted) if a]
            elif cfg.path_review == "file":
                if not cfg.path_review_file:
                    raise ValueError("corpus.path_review=file needs corpus.path_review_file (a TSV with prefix and accept columns)")
                accepted_prefixes = read_review_file(cfg.path_review_file)
                accepted = [p.prefix in accepted_prefixes for p in props]
            else:
                raise ValueError(f"corpus.path_review must be 'auto' or 'file', not {cfg.path_review!r}")
            atomic_write_text(it_dir / "paths.tsv", proposals_tsv(props, accepted))
            under = under_prefixes(pool.url_keys, accepted_prefixes) & active
            added = under & ~collected & ~seed
            new_seed = seed | added
            stats = {
                "iteration": it,
                "positives": int(positives.sum()) + external_positives,
                "negatives": int(negatives.sum()),
                "budget_tokens": int(budget),
                "documents": int(collected.sum()),
                "tokens": int(pool.tokens[collected].sum()),
                "overlap_with_previous": (round(overlap_with_previous(collected, previous), 6)
                                          if previous is not None else None),
                "math_domains": doms,
                "domains_found": len(doms),
                "paths_proposed": len(props),
                "paths_accepted": accepted_prefixes,
                "seed_added": int(added.sum()),
                "seed_size": int(new_seed.sum()) + external_positives,
                "domain_shares": {s.domain: round(s.share, 4) for s in shares if s.collected},
            }
            atomic_write_json(state_path, {
                "stats": stats,
                "collected": np.flatnonzero(collected).tolist(),
                "seed_next": np.flatnonzero(new_seed).tolist(),
            })
        ov = overlap_with_previous(collected, previous)
        first_iter[(first_iter == 0) & collected] = it
        history.append(stats)
        progress(f"iteration {it}: {stats['documents']} pages, {stats['tokens']} tokens, "
                 f"{stats['domains_found']} math domains, overlap {ov:.4f}, +{stats['seed_added']} seed pages")
        if previous is not None and ov >= cfg.stop_overlap:
            stopped_by = "overlap"
            break
        previous = collected
        seed = new_seed
    return {"iterations": history, "collected": collected, "first_iteration": first_iter, "stopped_by": stopped_by}
