"""The recall loop's statistics (paper §2.1 / spec §1.3-1.5), checked against hand-computed values."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seekmath.corpus import recall
from seekmath.corpus.settings import CorpusConfig


def test_select_top_tokens_budget_ties_and_min_score():
    scores = np.array([0.9, 0.2, 0.9, 0.6, 0.8])
    tokens = np.array([100, 50, 30, 40, 70])
    # ranking: 0 (0.9, earlier), 2 (0.9), 4 (0.8), 3 (0.6), 1 (0.2); cumulative 100, 130, 200, 240, 290
    keep = recall.select_top_tokens(scores, tokens, budget=200)
    assert keep.tolist() == [True, False, True, False, True]
    keep = recall.select_top_tokens(scores, tokens, budget=199)
    assert keep.tolist() == [True, False, True, False, False]
    keep = recall.select_top_tokens(scores, tokens, budget=0, min_score=0.5)  # no cap, floor 0.5
    assert keep.tolist() == [True, False, True, True, True]
    eligible = np.array([False, True, True, True, True])
    keep = recall.select_top_tokens(scores, tokens, budget=100, eligible=eligible)  # 2 (30) + 4 (70) = 100
    assert keep.tolist() == [False, False, True, False, True]


def test_overlap_with_previous():
    cur = np.array([1, 1, 1, 1, 0], dtype=bool)
    prev = np.array([1, 1, 1, 0, 1], dtype=bool)
    assert recall.overlap_with_previous(cur, prev) == pytest.approx(3 / 4)
    assert recall.overlap_with_previous(cur, None) == 0.0
    assert recall.overlap_with_previous(np.zeros(5, dtype=bool), prev) == 1.0


def test_domain_shares_and_threshold():
    domains = ["a", "a", "a", "a", "b", "b", "c", "c", "c", "c", "c", "c", "c", "c", "c", "c"]
    collected = np.zeros(16, dtype=bool)
    collected[[0, 1, 4]] = True  # a: 2/4, b: 1/2, c: 0/10
    collected[6] = True  # c: 1/10 = exactly 10% -> not "more than 10%"
    shares = recall.domain_shares(domains, collected)
    assert [(s.domain, s.pages, s.collected) for s in shares] == [("a", 4, 2), ("b", 2, 1), ("c", 10, 1)]
    assert shares[2].share == pytest.approx(0.1)
    assert recall.math_domains(shares, 0.10) == ["a", "b"]
    assert recall.math_domains(shares, 0.10, min_pages=3) == ["a"]
    pool = np.ones(16, dtype=bool)
    pool[[2, 3]] = False  # a: 2/2 within the pool
    assert [(s.domain, s.pages) for s in recall.domain_shares(domains, collected, pool)][0] == ("a", 2)


def test_path_prefix_and_proposals():
    assert recall.path_prefix("m.org/questions/12/how-to", 1) == "m.org/questions/"
    assert recall.path_prefix("m.org/questions/12/how-to", 2) == "m.org/questions/12/"
    assert recall.path_prefix("m.org/about", 1) == "m.org/"
    assert recall.path_prefix("m.org", 1) == "m.org/"
    assert recall.path_prefix("m.org/a/b.html", 3) == "m.org/a/"  # fewer folders than the depth: its own folder
    keys = ["m.org/questions/1", "m.org/questions/2", "m.org/questions/3", "m.org/users/1", "m.org/about", "n.org/questions/1"]
    doms = ["m.org"] * 5 + ["n.org"]
    collected = np.array([1, 1, 0, 0, 0, 1], dtype=bool)
    props = recall.propose_paths(keys, doms, collected, ["m.org"], depth=1)
    assert [(p.prefix, p.pages, p.collected) for p in props] == [("m.org/", 1, 0), ("m.org/questions/", 3, 2), ("m.org/users/", 1, 0)]
    assert recall.auto_accept(props, min_share=0.5, min_pages=3) == [False, True, False]
    assert recall.auto_accept(props, min_share=0.7, min_pages=1) == [False, False, False]
    under = recall.under_prefixes(keys, ["m.org/questions/"])
    assert under.tolist() == [True, True, True, False, False, False]
    # the root bucket holds the root pages only: accepting it must not take the whole site
    assert recall.in_paths(keys, [("m.org/", 1)]).tolist() == [False, False, False, False, True, False]
    assert recall.in_paths(keys, [("m.org/", 0)]).tolist() == [True] * 5 + [False]  # a human's whole-site prefix
    assert recall.in_paths(keys, [("m.org/questions/", 1)]).tolist() == under.tolist()


def test_choose_depth_descends_until_the_site_splits():
    # a docs site under one folder: depth 1 and 2 are one bucket (the whole site); depth 3 has sections
    keys = [f"d.org/en/latest/{sec}/p{i}.html" for sec in ("api", "math", "howto") for i in range(4)] + ["d.org/en/latest/index.html"]
    assert recall.choose_depth(keys, max_depth=4, min_pages=3) == 3
    # a Q&A site splits at depth 1 already (questions vs users), not into single questions at depth 2
    qa = [f"q.org/questions/{i}/slug" for i in range(10)] + [f"q.org/users/{i}/x" for i in range(3)]
    assert recall.choose_depth(qa, min_pages=3) == 1
    assert recall.choose_depth([f"f.org/manual/p{i}.html" for i in range(9)]) == 1  # flat: never splits


def test_auto_accept_counts_classifier_positive_pages():
    # a non-math site whose 3 of 10 pages crossed min_score: its one bucket is not mostly positive -> rejected
    keys = [f"vcs.org/docs/p{i}.html" for i in range(10)] + [f"m.org/q/{i}/x" for i in range(4)]
    doms = [k.split("/")[0] for k in keys]
    scores = np.array([0.9, 0.8, 0.7] + [0.1] * 7 + [0.9, 0.9, 0.6, 0.2])
    collected = scores >= 0.5
    props = recall.propose_paths(keys, doms, collected, ["m.org", "vcs.org"], {"m.org": 1, "vcs.org": 1}, scores=scores,
                                 min_score=0.5)
    assert [(p.prefix, p.pages, p.positives) for p in props] == [("m.org/q/", 4, 3), ("vcs.org/docs/", 10, 3)]
    assert props[1].example_positive == "vcs.org/docs/p0.html" and props[1].example_negative == "vcs.org/docs/p3.html"
    assert props[0].mean_score == pytest.approx((0.9 + 0.9 + 0.6 + 0.2) / 4)
    assert recall.auto_accept(props, min_share=0.5, min_pages=3) == [True, False]
    tsv = recall.proposals_tsv(props, [True, False]).splitlines()
    assert tsv[0].split("\t") == recall.TSV_HEADER and tsv[2].split("\t")[6:8] == ["3", "0.3000"]


def test_drift_disagreement():
    prev = np.array([0.9, 0.8, 0.1, 0.2, 0.3])
    pos = np.array([1, 1, 1, 0, 0], dtype=bool)
    assert recall.drift_disagreement(pos, prev, 0.5) == pytest.approx(1 / 3)
    assert recall.drift_disagreement(pos, None, 0.5) is None
    assert recall.drift_disagreement(np.zeros(5, dtype=bool), prev, 0.5) is None
    assert recall.drift_disagreement(pos, prev, 0.5, external=7) == pytest.approx(1 / 10)  # seed texts agree


def test_review_tsv_roundtrip(tmp_path):
    props = [recall.PathProposal("m.org", "m.org/questions/", 3, 2), recall.PathProposal("m.org", "m.org/users/", 4, 0)]
    text = recall.proposals_tsv(props, [True, False])
    assert text.splitlines()[1] == "m.org\tm.org/questions/\t1\t3\t2\t0.6667\t2\t0.6667\t\t\t\t1"
    # a human flips the decisions
    edited = text.replace("\t\t\t\t1", "\t\t\t\t0").replace("0.0000\t\t\t\t0", "0.0000\t\t\t\tyes")
    f = tmp_path / "review.tsv"
    f.write_text(edited)
    assert recall.read_review_file(f) == ["m.org/users/"]
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\n1\t2\n")
    with pytest.raises(ValueError, match="prefix"):
        recall.read_review_file(bad)


def _toy_pool():
    # 12 pages: math.org/q/* (4, math), math.org/blog/* (2, math but unseen by the first model), misc (6)
    keys = [f"math.org/q/{i}" for i in range(4)] + ["math.org/blog/1", "math.org/blog/2"] + [f"misc.org/p/{i}" for i in range(6)]
    doms = [k.split("/")[0] for k in keys]
    return recall.Pool(keys, doms, np.full(12, 10), np.ones(12, dtype=bool))


def test_recall_loop_grows_seed_and_stops_by_overlap(tmp_path):
    pool = _toy_pool()
    trained = []

    def train(pos, neg, it, it_dir):
        trained.append((it, np.flatnonzero(pos).tolist(), int(neg.sum())))
        p = it_dir / "model.bin"
        p.write_text(json.dumps(np.flatnonzero(pos).tolist()))
        return p

    def score(model_path, it):
        pos = set(json.loads(Path(model_path).read_text()))
        # a "model" that recognises the blog pages only once one of them is a positive
        s = np.zeros(12)
        s[:2] = 0.9  # q/0, q/1 always found
        if pos & {2, 3}:
            s[2:4] = 0.9
        if pos & {4, 5}:
            s[4:6] = 0.9
        return s

    cfg = CorpusConfig(max_iterations=4, path_min_pages=1, path_accept_share=0.5, domain_min_pages=1, min_score=0.5)
    # iteration 1: seed = q/0, q/1 -> collects q/0,q/1; math.org share 2/6 > 10%; prefixes: math.org/q/ 2/4 = 0.5 accepted,
    # blog 0/2 rejected -> q/2, q/3 join the seed. iteration 2 collects q/0..q/3 (overlap 2/4); no new prefix reaches 0.5
    # iteration 3 collects the same 4 pages -> overlap 1.0 >= 0.98 -> stop.
    res = recall.run_recall_loop(pool, cfg, tmp_path, train=train, score=score, seed_mask=np.array([1, 1] + [0] * 10, dtype=bool))
    assert res["stopped_by"] == "overlap"
    assert [s["documents"] for s in res["iterations"]] == [2, 4, 4]
    assert [s["overlap_with_previous"] for s in res["iterations"]] == [None, 0.5, 1.0]
    assert res["iterations"][0]["paths_accepted"] == ["math.org/q/"]
    assert res["iterations"][0]["seed_added"] == 2
    assert [t[1] for t in trained] == [[0, 1], [0, 1, 2, 3], [0, 1, 2, 3]]
    assert all(t[2] == len(t[1]) for t in trained)  # 1:1 negatives
    assert res["first_iteration"].tolist()[:6] == [1, 1, 2, 2, 0, 0]
    assert (tmp_path / "iter1" / "paths.tsv").read_text().count("\n") == 3
    assert res["iterations"][1]["positives_disagreeing"] == 0.5  # q/2, q/3 were below 0.5 for model 1
    # resume: every iteration's state is reused, nothing is retrained
    trained.clear()
    res2 = recall.run_recall_loop(pool, cfg, tmp_path, train=train, score=score, seed_mask=np.array([1, 1] + [0] * 10, dtype=bool))
    assert trained == [] and res2["collected"].tolist() == res["collected"].tolist()


def test_recall_loop_max_iterations_and_review_file(tmp_path):
    pool = _toy_pool()
    review = tmp_path / "review.tsv"
    review.write_text("domain\tprefix\taccept\nmath.org\tmath.org/blog/\t1\n")

    def train(pos, neg, it, it_dir):
        p = it_dir / "model.bin"
        p.write_text(json.dumps(np.flatnonzero(pos).tolist()))
        return p

    def score(model_path, it):
        s = np.zeros(12)
        s[it - 1] = 0.9  # a different page every iteration: never converges
        return s

    cfg = CorpusConfig(max_iterations=3, path_review="file", path_review_file=str(review), domain_min_pages=1, drift_guard="off")
    res = recall.run_recall_loop(pool, cfg, tmp_path / "w", train=train, score=score, seed_mask=np.eye(12, dtype=bool)[0])
    assert res["stopped_by"] == "max_iterations" and len(res["iterations"]) == 3
    assert res["iterations"][0]["paths_accepted"] == ["math.org/blog/"]
    assert res["iterations"][0]["seed_added"] == 2
    with pytest.raises(ValueError, match="no seed"):
        recall.run_recall_loop(pool, cfg, tmp_path / "x", train=train, score=score, seed_mask=np.zeros(12, dtype=bool))


def _model_files(it_dir, pos):
    p = it_dir / "model.bin"
    p.write_text(json.dumps(np.flatnonzero(pos).tolist()))
    return p


def test_negatives_never_include_pages_collected_before(tmp_path):
    pool = _toy_pool()
    negs = []

    def train(pos, neg, it, it_dir):
        negs.append(set(np.flatnonzero(neg).tolist()))
        return _model_files(it_dir, pos)

    def score(model_path, it):
        s = np.zeros(12)
        s[:4] = 0.9
        s[4:6] = 0.9 if it >= 1 else 0.0  # blog pages collected from iteration 1 on, never seed
        return s

    cfg = CorpusConfig(max_iterations=3, domain_min_pages=1, path_min_pages=10, negative_ratio=11.0)
    res = recall.run_recall_loop(pool, cfg, tmp_path, train=train, score=score, seed_mask=np.eye(12, dtype=bool)[0])
    assert len(negs) >= 2
    assert negs[0] == set(range(1, 12))  # iteration 1: every non-seed page
    for later in negs[1:]:  # later: never the pages collected as math before (0..5)
        assert later and later.isdisjoint(range(6)), later
    assert res["stopped_by"] == "overlap"


def test_drift_guard_stops_and_keeps_previous_collection(tmp_path):
    # 20 math pages (4 collected by model 1) and a whole non-math site accepted by a human reviewer:
    # iteration 2's positives are mostly pages model 1 scored non-math -> drift
    keys = [f"m.org/q/{i}" for i in range(4)] + [f"vcs.org/docs/{i}" for i in range(16)] + [f"x.org/{i}" for i in range(20)]
    pool = recall.Pool(keys, [k.split("/")[0] for k in keys], np.full(40, 10), np.ones(40, dtype=bool))
    review = tmp_path / "review.tsv"
    review.write_text("prefix\tdepth\taccept\nvcs.org/\t0\t1\n")

    def score(model_path, it):
        s = np.zeros(40)
        s[:4] = 0.9
        s[4:6] = 0.9  # two vcs pages cross the domain threshold
        return s

    trained = []

    def train(pos, neg, it, it_dir):
        trained.append(it)
        return _model_files(it_dir, pos)

    for guard, stop in (("stop", "drift"), ("warn", "overlap")):
        cfg = CorpusConfig(max_iterations=4, domain_min_pages=1, path_review="file", path_review_file=str(review),
                           drift_guard=guard, drift_max_disagree=0.5)
        trained.clear()
        res = recall.run_recall_loop(pool, cfg, tmp_path / guard, train=train, score=score, seed_mask=np.eye(40, dtype=bool)[0])
        assert res["stopped_by"] == stop and any("scored non-math" in w for w in res["warnings"])
        if guard == "stop":
            assert trained == [1] and res["final_iteration"] == 1
            assert np.flatnonzero(res["collected"]).tolist() == list(range(6))
        else:
            assert trained == [1, 2]
            assert res["iterations"][1]["positives_disagreeing"] == pytest.approx(14 / 15, abs=1e-4)


def test_nothing_collected_warns_and_stops(tmp_path):
    pool = _toy_pool()

    def score(model_path, it):
        return np.full(12, 0.3)

    res = recall.run_recall_loop(pool, CorpusConfig(), tmp_path, train=lambda p, n, it, d: _model_files(d, p), score=score,
                                 seed_mask=np.eye(12, dtype=bool)[0])
    assert res["stopped_by"] == "nothing_collected" and not res["collected"].any()
    assert "0.3" in res["warnings"][0] and len(res["iterations"]) == 1


def test_a_seed_that_collects_almost_nothing_is_warned_about(tmp_path):
    pool = _toy_pool()

    def score(model_path, it):
        s = np.full(12, 0.2)
        s[0] = 0.9
        return s

    res = recall.run_recall_loop(pool, CorpusConfig(min_documents=3), tmp_path, train=lambda p, n, it, d: _model_files(d, p),
                                 score=score, seed_mask=np.eye(12, dtype=bool)[0])
    assert any("collected only 1 page" in w for w in res["warnings"]) and res["collected"].sum() == 1
