"""The iterative recall loop — the heart of the DeepSeekMath Corpus pipeline (paper §2.1, Fig. 2; spec §1.3-1.5).

Per iteration k:
1. train fastText on the current seed (positives) vs random pool pages (negatives), 1:1 — never pages of
   the seed or pages collected as math in an earlier iteration (they would teach "math is not math");
2. score every page of the (deduplicated, decontaminated) pool;
3. rank by score and keep the top-N tokens (`keep_tokens`, the per-iteration budget; the paper kept
   the top 40B tokens in iteration 1) — pages under `min_score` are never kept;
4. per domain (pages sharing a base URL), the share of its pages collected; domains above
   `domain_threshold` (10%) are math domains;
5. within math domains, URL paths are proposed with their evidence in `iterK/paths.tsv`, at a depth
   chosen per site from its folder structure (`choose_depth`); they are accepted by a rule
   (`path_review=auto`: mostly classifier-positive pages) or read back from a human-edited file
   (`path_review=file`, the paper annotated by hand);
6. pages under accepted paths not yet collected join the seed; retrain — unless most of the new
   positives are pages the previous classifier scored non-math (`drift_disagreement`: the drift guard);
7. stop when >= `stop_overlap` (98%) of this iteration's collection was already collected in the
   previous iteration, after `max_iterations` (4), on drift, or when an iteration collects nothing.

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
    """`host/seg1/.../segDepth/` of a normalised URL key: the page's folder path cut at `depth` segments.

    A page in fewer folders gives its own (shallower) folder; a page at the site's root gives `host/`.

    >>> path_prefix("mathqa.example/questions/123?x=1", 1)
    'mathqa.example/questions/'
    >>> path_prefix("mathqa.example/about", 1)
    'mathqa.example/'
    >>> path_prefix("docs.example/en/intro.html", 3)
    'docs.example/en/'
    """
    path = url_key.split("?", 1)[0]
    parts = path.split("/")
    host, segs = parts[0], parts[1:]
    # the last segment is the page itself, not a folder
    folders = segs[:-1][: max(0, depth)]
    return host + "/" + "".join(s + "/" for s in folders)


def prefix_depth(prefix: str) -> int:
    """Folders in a proposed prefix: `host/a/b/` -> 2, `host/` -> 0."""
    return max(0, prefix.rstrip("/").count("/"))


def choose_depth(url_keys: Sequence[str], max_depth: int = 4, min_pages: int = 3) -> int:
    """The path depth at which a site splits into sections: the shallowest depth (1..max_depth) where at
    least two folders hold `min_pages` pages or more.

    A documentation site that lives under one folder (`docs.example/en/latest/...`) is one bucket at
    depth 1 and 2; proposing that bucket would offer the whole site for acceptance at once. Descending
    until the site splits gives the annotator (or the auto rule) its sections instead. A site that never
    splits (a flat manual) gets depth 1: its one bucket is the whole site at every depth.
    """
    for d in range(1, max(1, max_depth) + 1):
        counts: dict[str, int] = {}
        for k in url_keys:
            b = path_prefix(k, d)
            counts[b] = counts.get(b, 0) + 1
        if sum(1 for c in counts.values() if c >= min_pages) >= 2:
            return d
    return 1


@dataclass(frozen=True)
class PathProposal:
    domain: str
    prefix: str
    pages: int
    collected: int
    depth: int = 1
    positives: int = -1  # pages the classifier scored >= min_score (-1: not scored, use `collected`)
    mean_score: float = float("nan")
    example_positive: str = ""
    example_negative: str = ""

    @property
    def share(self) -> float:
        return self.collected / self.pages if self.pages else 0.0

    @property
    def positive_share(self) -> float:
        pos = self.collected if self.positives < 0 else self.positives
        return pos / self.pages if self.pages else 0.0


def propose_paths(url_keys: Sequence[str], domains: Sequence[str], collected: np.ndarray, math_doms: Sequence[str],
                  depth: int | dict[str, int] = 1, pool: np.ndarray | None = None, scores: np.ndarray | None = None,
                  min_score: float = 0.5) -> list[PathProposal]:
    """URL-path buckets inside math domains with their evidence (the annotators' worklist).

    `depth` is one depth for all domains or a per-domain dict (`choose_depth`). A bucket holds the
    pages whose folder path cut at that depth equals the prefix (`in_paths`), so the root bucket
    `host/` holds the root pages only, never the whole site. With `scores`, each bucket carries its
    classifier-positive count (score >= `min_score`), mean score and one URL of each kind.
    """
    wanted = set(math_doms)
    idx: dict[tuple[str, str], list[int]] = {}
    for i, (key, dom) in enumerate(zip(url_keys, domains)):
        if dom not in wanted or (pool is not None and not pool[i]):
            continue
        d = depth.get(dom, 1) if isinstance(depth, dict) else depth
        idx.setdefault((dom, path_prefix(key, d)), []).append(i)
    out = []
    for (dom, pre), rows in sorted(idx.items()):
        d = depth.get(dom, 1) if isinstance(depth, dict) else depth
        got = int(sum(bool(collected[i]) for i in rows))
        if scores is None:
            out.append(PathProposal(dom, pre, len(rows), got, d))
            continue
        s = np.asarray([scores[i] for i in rows], dtype=np.float64)
        pos = [i for i in rows if scores[i] >= min_score]
        neg = [i for i in rows if scores[i] < min_score]
        out.append(PathProposal(dom, pre, len(rows), got, d, len(pos), float(s.mean()),
                                url_keys[pos[0]] if pos else "", url_keys[neg[0]] if neg else ""))
    return out


def auto_accept(proposals: Sequence[PathProposal], min_share: float = 0.5, min_pages: int = 3) -> list[bool]:
    """The automatic stand-in for the paper's annotators: a path is math when it holds `min_pages` pages and
    at least `min_share` of them are classifier-positive (collected, when the proposals carry no scores).

    Counting classifier-positive pages (not the top-N collection) keeps the rule independent of the
    token budget; requiring most of them keeps a non-math site whose few pages crossed the domain
    threshold from being accepted wholesale."""
    return [p.pages >= min_pages and p.positive_share >= min_share for p in proposals]


TSV_HEADER = ["domain", "prefix", "depth", "pages", "collected", "share", "positives", "positive_share", "mean_score",
              "example_positive", "example_negative", "accept"]


def proposals_tsv(proposals: Sequence[PathProposal], accepted: Sequence[bool]) -> str:
    """The review file: one row per proposed path with its evidence; a human edits the `accept` column."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    w.writerow(TSV_HEADER)
    for p, a in zip(proposals, accepted):
        pos = p.collected if p.positives < 0 else p.positives
        mean = "" if p.mean_score != p.mean_score else f"{p.mean_score:.4f}"
        w.writerow([p.domain, p.prefix, p.depth, p.pages, p.collected, f"{p.share:.4f}", pos, f"{p.positive_share:.4f}",
                    mean, p.example_positive, p.example_negative, "1" if a else "0"])
    return buf.getvalue()


def read_review_rows(path: str | Path) -> list[tuple[str, int]]:
    """Accepted (prefix, depth) pairs of a human-edited TSV (accept = 1/yes/true/y).

    The `depth` column is optional: without it a prefix matches every page below it (its own folder
    count is the depth), so `host/` accepts the whole site — only a human should write that."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path review file not found: {path}")
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines(), delimiter="\t"))
    if rows and ("prefix" not in rows[0] or "accept" not in rows[0]):
        raise ValueError(f"{path}: needs the columns 'prefix' and 'accept' (header: {list(rows[0])})")
    out = []
    for r in rows:
        if str(r.get("accept", "")).strip().lower() not in ("1", "yes", "true", "y"):
            continue
        pre = r["prefix"].strip()
        d = str(r.get("depth") or "").strip()
        out.append((pre, int(d) if d.isdigit() else prefix_depth(pre)))
    return out


def read_review_file(path: str | Path) -> list[str]:
    """Accepted prefixes from a human-edited TSV (columns as written by `proposals_tsv`)."""
    return [p for p, _ in read_review_rows(path)]


def under_prefixes(url_keys: Sequence[str], prefixes: Sequence[str]) -> np.ndarray:
    """Mask of pages whose normalised URL starts with one of the prefixes (seed prefixes)."""
    pre = tuple(prefixes)
    if not pre:
        return np.zeros(len(url_keys), dtype=bool)
    return np.fromiter((k.startswith(pre) for k in url_keys), dtype=bool, count=len(url_keys))


def in_paths(url_keys: Sequence[str], paths: Sequence[tuple[str, int]]) -> np.ndarray:
    """Mask of pages in one of the accepted path buckets: `path_prefix(key, depth) == prefix`."""
    by_depth: dict[int, set[str]] = {}
    for pre, d in paths:
        by_depth.setdefault(int(d), set()).add(pre)
    if not by_depth:
        return np.zeros(len(url_keys), dtype=bool)
    return np.fromiter((any(path_prefix(k, d) in pres for d, pres in by_depth.items()) for k in url_keys),
                       dtype=bool, count=len(url_keys))


def drift_disagreement(positives: np.ndarray, previous_scores: np.ndarray | None, min_score: float,
                       external: int = 0) -> float | None:
    """Share of an iteration's positives that the previous iteration's classifier scored below `min_score`.

    Positives are the pool's seed pages plus `external` seed texts (outside the pool; the previous
    classifier trained on them, so they count as agreeing). They grow by the pages under accepted
    paths; when most of them are pages the previous classifier called non-math, the next classifier
    learns another notion of "math" — the loop drifts into whatever site was accepted. None when
    there is no previous classifier or no positive."""
    total = int(positives.sum()) + int(external)
    if previous_scores is None or total == 0:
        return None
    return float((previous_scores[positives] < min_score).sum()) / total


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
    """Iterate train -> score -> rank -> domains -> paths -> seed until a stop rule (see module doc).

    `train(positive_mask, negative_mask, iteration, model_path)` trains and saves a model;
    `score(model_path, iteration)` returns P(math) for every pool page. Per iteration the folder
    `work_dir/iterK/` gets `state.json` (collected/seed indices and statistics) and `paths.tsv`.

    Guards for real crawls (each keeps the paper's method, it only refuses to go wrong silently):
    negatives are never pages collected in an earlier iteration or in the seed; path buckets are
    accepted only when mostly classifier-positive (`auto_accept`); before training iteration k > 1,
    `drift_disagreement` of its positives with classifier k-1 above `cfg.drift_max_disagree` stops the
    loop (`drift_guard=stop`, the previous collection is final) or warns (`warn`); an iteration that
    collects nothing stops the loop (`stopped_by: nothing_collected`) with a warning.

    Returns {"iterations": [...stats], "collected": mask, "first_iteration": int array, "stopped_by": str,
    "final_iteration": int, "warnings": [str]}.
    """
    work_dir = Path(work_dir)
    n = len(pool.url_keys)
    active = pool.active
    seed = seed_mask & active
    if not seed.any() and external_positives == 0:
        raise ValueError("the recall loop has no seed: no pool page matches corpus.seed_prefixes and no corpus.seed_file was given")
    if cfg.drift_guard not in ("stop", "warn", "off"):
        raise ValueError(f"corpus.drift_guard must be stop, warn or off, not {cfg.drift_guard!r}")
    budgets = list(cfg.keep_tokens) or [0]
    rng_base = int(cfg.seed)
    previous: np.ndarray | None = None
    prev_scores: np.ndarray | None = None
    ever = np.zeros(n, dtype=bool)  # collected in any iteration so far: never a negative again
    first_iter = np.zeros(n, dtype=np.int32)  # 0 = never collected
    history: list[dict] = []
    warnings: list[str] = []
    stopped_by = "max_iterations"
    collected = np.zeros(n, dtype=bool)
    final_it = 0

    def warn(msg: str) -> None:
        log.warning(msg)
        warnings.append(msg)

    for it in range(1, int(cfg.max_iterations) + 1):
        it_dir = work_dir / f"iter{it}"
        state_path = it_dir / "state.json"
        disagree = drift_disagreement(seed, prev_scores, cfg.min_score, external_positives)
        if disagree is not None and disagree > cfg.drift_max_disagree and cfg.drift_guard != "off":
            msg = (f"iteration {it}: {disagree:.0%} of its {int(seed.sum()) + external_positives} positives were scored non-math by the "
                   f"iteration-{it - 1} classifier (> corpus.drift_max_disagree={cfg.drift_max_disagree}): "
                   "the accepted paths are pulling the classifier away from the seed; review "
                   f"{work_dir}/iter{it - 1}/paths.tsv")
            if cfg.drift_guard == "stop":
                warn(msg + "; stopping with the previous iteration's collection (corpus.drift_guard=stop)")
                stopped_by = "drift"
                break
            warn(msg)
        if state_path.is_file():  # finished before a crash: reuse, never redo
            st = json.loads(state_path.read_text(encoding="utf-8"))
            collected = np.zeros(n, dtype=bool)
            collected[st["collected"]] = True
            new_seed = np.zeros(n, dtype=bool)
            new_seed[st["seed_next"]] = True
            stats = st["stats"]
            model_file = st.get("model") or str(next(iter(sorted(it_dir.glob("model.*"))), it_dir / "model.bin"))
            scores = score(Path(model_file), it)
            progress(f"iteration {it}: resumed from {state_path}")
        else:
            it_dir.mkdir(parents=True, exist_ok=True)
            # negatives: random active pages that are neither seed nor collected as math in any earlier
            # iteration, negative_ratio x positives (paper: 1:1 against random web pages)
            n_pos = min(int(seed.sum()), int(cfg.max_positives)) + external_positives
            rng = np.random.default_rng(rng_base + 1000 * it)
            pos_idx = np.flatnonzero(seed)
            if len(pos_idx) > cfg.max_positives:
                pos_idx = np.sort(rng.choice(pos_idx, size=int(cfg.max_positives), replace=False))
            positives = np.zeros(n, dtype=bool)
            positives[pos_idx] = True
            cand = np.flatnonzero(active & ~seed & ~ever)
            if len(cand) == 0:
                warn(f"iteration {it}: no page left to draw negatives from (every active page is seed or was collected)")
                stopped_by = "no_negatives"
                break
            n_neg = min(len(cand), max(1, int(round(n_pos * cfg.negative_ratio))))
            negatives = np.zeros(n, dtype=bool)
            negatives[np.sort(rng.choice(cand, size=n_neg, replace=False))] = True
            model_path = train(positives, negatives, it, it_dir)
            scores = score(model_path, it)
            budget = budgets[min(it, len(budgets)) - 1]
            collected = select_top_tokens(scores, pool.tokens, budget, cfg.min_score, eligible=active)
            shares = domain_shares(pool.domains, collected, pool=active)
            doms = math_domains(shares, cfg.domain_threshold, cfg.domain_min_pages)
            if cfg.path_depth > 0:
                depth: int | dict[str, int] = int(cfg.path_depth)
            else:  # chosen per domain from its URL structure
                by_dom: dict[str, list[str]] = {}
                for i in np.flatnonzero(active):
                    if pool.domains[i] in doms:
                        by_dom.setdefault(pool.domains[i], []).append(pool.url_keys[i])
                depth = {d: choose_depth(keys, cfg.path_max_depth, cfg.path_min_pages) for d, keys in by_dom.items()}
            props = propose_paths(pool.url_keys, pool.domains, collected, doms, depth, pool=active, scores=scores,
                                  min_score=cfg.min_score)
            if cfg.path_review == "auto":
                accepted = auto_accept(props, cfg.path_accept_share, cfg.path_min_pages)
                accepted_paths = [(p.prefix, p.depth) for p, a in zip(props, accepted) if a]
            elif cfg.path_review == "file":
                if not cfg.path_review_file:
                    raise ValueError("corpus.path_review=file needs corpus.path_review_file (a TSV with prefix and accept columns)")
                accepted_paths = read_review_rows(cfg.path_review_file)
                chosen = set(accepted_paths)
                accepted = [(p.prefix, p.depth) in chosen for p in props]
            else:
                raise ValueError(f"corpus.path_review must be 'auto' or 'file', not {cfg.path_review!r}")
            atomic_write_text(it_dir / "paths.tsv", proposals_tsv(props, accepted))
            under = in_paths(pool.url_keys, accepted_paths) & active
            added = under & ~collected & ~seed
            new_seed = seed | added
            prev_pos = None if prev_scores is None else prev_scores >= cfg.min_score
            stats = {
                "iteration": it,
                "positives": int(positives.sum()) + external_positives,
                "negatives": int(negatives.sum()),
                "positives_disagreeing": None if disagree is None else round(disagree, 4),
                "budget_tokens": int(budget),
                "documents": int(collected.sum()),
                "tokens": int(pool.tokens[collected].sum()),
                "overlap_with_previous": (round(overlap_with_previous(collected, previous), 6)
                                          if previous is not None else None),
                # share of this collection the previous classifier called non-math (drift, seen from the output)
                "collected_new_to_previous_classifier": (round(float((collected & ~prev_pos).sum()) / max(1, int(collected.sum())), 4)
                                                         if prev_pos is not None else None),
                "max_score": round(float(scores[active].max()), 4) if active.any() else None,
                "math_domains": doms,
                "domains_found": len(doms),
                "path_depths": depth if isinstance(depth, dict) else {d: depth for d in doms},
                "paths_proposed": len(props),
                "paths_accepted": [p for p, _ in accepted_paths],
                "seed_added": int(added.sum()),
                "seed_size": int(new_seed.sum()) + external_positives,
                "domain_shares": {s.domain: round(s.share, 4) for s in shares if s.collected},
            }
            atomic_write_json(state_path, {
                "stats": stats,
                "model": str(model_path),
                "collected": np.flatnonzero(collected).tolist(),
                "seed_next": np.flatnonzero(new_seed).tolist(),
            })
        ov = overlap_with_previous(collected, previous)
        history.append(stats)
        progress(f"iteration {it}: {stats['documents']} pages, {stats['tokens']} tokens, "
                 f"{stats['domains_found']} math domains, overlap {ov:.4f}, +{stats['seed_added']} seed pages")
        if not collected.any():
            warn(f"iteration {it} collected nothing: the highest P(math) in the pool is {stats.get('max_score')} < "
                 f"corpus.min_score={cfg.min_score}; the seed does not look like any page of this crawl "
                 "(give a seed from it: corpus.seed_prefixes / --seed-prefix, or a seed file of similar text)")
            stopped_by = "nothing_collected"
            if previous is not None:
                collected = previous
            break
        if it == 1 and collected.sum() < cfg.min_documents:
            warn(f"iteration 1 collected only {int(collected.sum())} page(s) (< corpus.min_documents={cfg.min_documents}); "
                 f"the highest P(math) in the pool is {stats.get('max_score')}: the seed hardly looks like any page of "
                 "this crawl (give a seed from it: --seed-prefix, or a seed file of similar text)")
        final_it = it
        first_iter[(first_iter == 0) & collected] = it
        ever |= collected
        if previous is not None and ov >= cfg.stop_overlap:
            stopped_by = "overlap"
            break
        previous = collected
        prev_scores = scores
        seed = new_seed
    if stopped_by in ("drift", "no_negatives"):
        collected = previous if previous is not None else collected
    return {"iterations": history, "collected": collected, "first_iteration": first_iter, "stopped_by": stopped_by,
            "final_iteration": final_it, "warnings": warnings}
