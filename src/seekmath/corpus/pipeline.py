"""`build_corpus`: crawl files in, a deduplicated, decontaminated math corpus out (paper §2.1, Fig. 2).

Steps (each a module-level function over one shard, scheduled by `engines.Engine`; the driver only
does the global, cheap parts):

1. ingest    (per input file)  read + extract (`read.iter_documents`), URL key, domain, word count,
                               MinHash signature -> work/docs/shard-NNNNN.{jsonl.gz,meta.json,sig.npy}
2. dedup     (driver)          exact URL dedup, then MinHash-LSH near-dedup over all signatures
3. decontam  (per shard)       10-gram / exact 3-9-gram benchmark hits -> work/decontam/
4. recall    (driver + per-shard scoring) the iterative fastText loop of `recall.run_recall_loop`
5. write     (per shard)       the final collection -> out/corpus/shard-NNNNN.jsonl.gz (or .parquet)

Decontamination runs on the pool before the recall loop (the paper decontaminates the final corpus):
the result is the same set of removed pages, and the classifier never trains on benchmark text.

Everything is resumable: step shards have done markers, iterations have state files, and all files
are written atomically; gzip output carries no timestamp, so reruns and engines give identical bytes.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import logging
import pickle
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from seekmath.corpus import classify, dedup, decontam, recall
from seekmath.corpus.engines import Engine
from seekmath.runs import MetricsLogger, atomic_write_bytes, atomic_write_json, atomic_write_text, prepare_stage_dir, to_json

log = logging.getLogger("seekmath.corpus")


# ---------------------------------------------------------------------------------------------
# small I/O helpers


def gzip_bytes(data: bytes) -> bytes:
    """gzip without timestamp or file name, so equal input gives equal bytes."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def write_jsonl_gz(path: Path, rows: list[dict]) -> None:
    atomic_write_bytes(path, gzip_bytes("".join(to_json(r, indent=None) + "\n" for r in rows).encode("utf-8")))


def read_jsonl_gz(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_npy(path: Path, arr: np.ndarray) -> None:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    atomic_write_bytes(path, buf.getvalue())


def _is_labels_name(name: str) -> bool:
    """`labels.jsonl`, `labels-v2.jsonl`, ...: ground truth kept next to crawl shards, never crawl input."""
    return name.startswith("labels") and name.endswith((".jsonl", ".jsonl.gz"))


def input_files(inputs: list[str] | str, exclude: list[str | Path] = ()) -> list[str]:
    """Crawl files of the inputs (folders expanded); labels files (`labels*.jsonl`) and the files in
    `exclude` (the labels file given to `build`, whatever its name) are not inputs."""
    from seekmath.corpus.read import list_input_files

    skip = {Path(e).resolve() for e in exclude if e}
    files = [f for f in list_input_files(inputs) if not _is_labels_name(Path(f).name) and Path(f).resolve() not in skip]
    if not files:
        raise FileNotFoundError(f"no crawl files (.warc[.gz], .wet[.gz], .jsonl[.gz], .parquet) in {inputs}")
    return files


def seed_prefix_key(prefix: str) -> str:
    """A configured seed prefix in the form of `dedup.normalize_url` keys (no scheme, no www., host lower-case)."""
    p = prefix.strip()
    if "://" in p:
        p = p.split("://", 1)[1]
    host, sep, rest = p.partition("/")
    host = host.lower()
    if host.startswith("www."):
        host = host[4:]
    return host + sep + rest


def seed_texts(spec: str, tasks_cfg=None, seed: int = 0, limit: int | None = None) -> list[str]:
    """Texts of an external seed corpus (the paper's OpenWebMath), at most `limit` of them:

    - a jsonl(.gz)/parquet file or a folder of them, with a `text` (or `html`) field;
    - `hf:NAME[@SPLIT]`: a Hugging Face dataset (hub name or local folder), streamed, e.g.
      `hf:open-web-math/open-web-math` — the paper's own seed;
    - `synthetic:N`: N worked solutions of the synthetic task's TRAIN split, an OpenWebMath stand-in
      that covers only one family of problems (as OpenWebMath lacked diversity, §1.4).
    """
    from itertools import islice

    if spec.startswith("synthetic:"):
        from seekmath.config import TasksConfig
        from seekmath.tasks.synthetic import generate_problems, worked_text

        try:
            count = int(spec.split(":", 1)[1])
        except ValueError as e:
            raise ValueError(f"corpus.seed_file {spec!r}: expected synthetic:N with N a number") from e
        count = min(count, limit) if limit else count
        return [worked_text(p) for p in generate_problems(tasks_cfg or TasksConfig(), "train", count, seed=seed + 7919)]
    from seekmath.corpus.read import SkipStats, iter_documents

    if not spec.startswith("hf:") and not Path(spec).exists():
        raise FileNotFoundError(f"corpus.seed_file not found: {spec} (a jsonl/parquet file or folder with a `text` field, hf:NAME or "
                                "synthetic:N; e.g. hf:open-web-math/open-web-math streams OpenWebMath, or save a sample with "
                                "datasets.load_dataset('open-web-math/open-web-math', split='train[:500000]').to_json(PATH))")
    texts = [d["text"] for d in islice(iter_documents(spec, SkipStats()), limit)]
    if not texts:
        raise ValueError(f"corpus.seed_file {spec!r} holds no documents with text")
    return texts


# ---------------------------------------------------------------------------------------------
# step functions (run in workers; module-level so multiprocessing and Ray can ship them)


def step_ingest(task: dict) -> dict:
    from seekmath.corpus.read import SkipStats, iter_documents

    stats = SkipStats()
    rows, keys, domains, tokens, texts = [], [], [], [], []
    for doc in iter_documents(task["input"], stats):
        key = dedup.normalize_url(doc["url"])
        dom = key.split("/", 1)[0].split("?", 1)[0]
        ntok = len(doc["text"].split())
        rows.append({"id": doc["id"], "url": doc["url"], "domain": dom, "text": doc["text"], "source": doc.get("source", "")})
        keys.append(key)
        domains.append(dom)
        tokens.append(ntok)
        texts.append(doc["text"])
    sig = dedup.minhash_signatures(texts, num_perm=task["num_perm"], shingle=task["shingle"], seed=task["seed"])
    out = Path(task["out"])
    write_jsonl_gz(out.with_suffix(".jsonl.gz"), rows)
    # the classifier's view of each page, normalised once here and rescored every recall iteration
    atomic_write_bytes(out.with_suffix(".ft.txt.gz"),
                       gzip_bytes("".join(classify.fasttext_text(t) + "\n" for t in texts).encode("utf-8")))
    write_npy(out.with_suffix(".sig.npy"), sig)
    atomic_write_json(out.with_suffix(".meta.json"), {"ids": [r["id"] for r in rows], "urls": [r["url"] for r in rows],
                                                      "url_keys": keys, "domains": domains, "tokens": tokens})
    skipped = {k: v for k, v in stats.as_dict().items() if k not in ("documents", "records")}
    return {"documents": len(rows), "tokens": int(sum(tokens)), "skipped": skipped}


_INDEX: dict[str, decontam.DecontamIndex] = {}


def step_decontam(task: dict) -> dict:
    path = task["index"]
    if path not in _INDEX:  # one index load per worker process
        with open(path, "rb") as f:
            _INDEX[path] = pickle.load(f)
    index = _INDEX[path]
    hits_rows, contaminated = [], []
    for row, doc in enumerate(read_jsonl_gz(Path(task["shard"]))):
        hits = index.hits(doc["text"])
        if hits:
            contaminated.append(row)
            for key, rule in sorted(hits.items()):
                hits_rows.append({"item": key, "rule": rule, "doc_id": doc["id"], "url": doc["url"]})
    atomic_write_text(task["out"], "".join(to_json(r, indent=None) + "\n" for r in hits_rows))
    return {"contaminated": contaminated, "hits": len(hits_rows)}


def step_score(task: dict) -> dict:
    model = classify.load_model(task["model"])  # cached: one load per worker
    with gzip.open(task["lines"], "rt", encoding="utf-8") as f:
        lines = f.read().split("\n")[:-1]
    scores = classify.score_lines(model, lines, batch_size=task["batch"])
    write_npy(Path(task["out"]), scores)
    return {"documents": len(lines)}


def step_write(task: dict) -> dict:
    sel = json.loads(Path(task["selection"]).read_text(encoding="utf-8"))
    keep = {r: (s, it) for r, s, it in zip(sel["rows"], sel["scores"], sel["iterations"])}
    out_rows = []
    for row, doc in enumerate(read_jsonl_gz(Path(task["shard"]))):
        if row in keep:
            s, it = keep[row]
            out_rows.append({"id": doc["id"], "url": doc["url"], "domain": doc["domain"], "text": doc["text"],
                             "score": s, "iteration": it})
    out = Path(task["out"])
    if task["format"] == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        buf = io.BytesIO()
        table = pa.Table.from_pylist(out_rows, schema=pa.schema([("id", pa.string()), ("url", pa.string()), ("domain", pa.string()),
                                                                ("text", pa.string()), ("score", pa.float64()), ("iteration", pa.int32())]))
        pq.write_table(table, buf, compression="zstd")
        atomic_write_bytes(out, buf.getvalue())
    else:
        write_jsonl_gz(out, out_rows)
    return {"documents": len(out_rows), "tokens": int(sum(len(r["text"].split()) for r in out_rows))}


# ---------------------------------------------------------------------------------------------
# the driver


def _fingerprint(cfg, files: list[str]) -> str:
    corpus = dataclasses.asdict(cfg.corpus)
    for k in ("engine", "workers", "ray_address", "ray_temp_dir", "fail_on_empty", "min_documents"):  # how it runs does not change what it makes
        corpus.pop(k, None)
    blob = to_json({"corpus": corpus, "tasks": dataclasses.asdict(cfg.tasks), "inputs": files}, indent=None)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _ingest_fingerprint(cfg, files: list[str]) -> str:
    """What the ingest step's output depends on: the inputs and the MinHash settings (not the seed or the loop)."""
    c = cfg.corpus
    blob = to_json({"inputs": files, "minhash": [c.minhash_shingle, c.minhash_bands, c.minhash_rows, c.seed]}, indent=None)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _read_rows(shards: list[Path], offsets: np.ndarray, wanted: np.ndarray) -> list[str]:
    """Texts of the pool pages at global indices `wanted` (sorted), read shard by shard."""
    texts = []
    wanted = np.sort(wanted)
    for s, shard in enumerate(shards):
        lo, hi = offsets[s], offsets[s + 1]
        rows = wanted[(wanted >= lo) & (wanted < hi)] - lo
        if len(rows):
            docs = read_jsonl_gz(shard)
            texts += [docs[r]["text"] for r in rows]
    return texts


def _evaluate_labels(labels_path: str | Path, url_keys: list[str], collected: np.ndarray, url_removed: np.ndarray,
                     near_removed: np.ndarray, contaminated: np.ndarray, kept_copy: np.ndarray | None = None) -> dict:
    """Precision/recall of the final corpus against a demo crawl's labels (matched by normalised URL).

    `recall` counts a clean math page as found when it, or the near-duplicate copy that replaced it
    in dedup, is in the corpus (a deduplicated corpus keeps one copy of the content);
    `recall_strict` counts the page itself only."""
    from seekmath.runs import read_jsonl

    labels = {}
    for r in read_jsonl(labels_path):
        r["planted"] = r.get("planted") or "none"  # null / missing = a plain page
        labels[dedup.normalize_url(r["url"])] = r
    pos = {k: i for i, k in enumerate(url_keys)}  # first copy of each URL key
    final_keys = {url_keys[i] for i in np.flatnonzero(collected)}
    labelled_final = [labels[k] for k in final_keys if k in labels]
    tp = sum(1 for r in labelled_final if r.get("is_math"))
    math_clean = [k for k, r in labels.items() if r.get("is_math") and r["planted"] == "none"]
    found_strict = sum(1 for k in math_clean if k in final_keys)

    def kept(k: str) -> bool:
        if k in final_keys:
            return True
        i = pos.get(k)
        return i is not None and kept_copy is not None and near_removed[i] and url_keys[int(kept_copy[i])] in final_keys

    found = sum(1 for k in math_clean if kept(k))
    planted_c = [k for k, r in labels.items() if r.get("planted") == "contamination"]
    planted_nd = [k for k, r in labels.items() if r.get("planted") == "near_duplicate"]
    clean = [k for k, r in labels.items() if r["planted"] == "none"]

    def flagged(keys: list[str], mask: np.ndarray) -> int:
        return sum(1 for k in keys if k in pos and mask[pos[k]])

    return {
        "labelled_pages": len(labels),
        "precision": tp / len(labelled_final) if labelled_final else 0.0,
        "recall": found / len(math_clean) if math_clean else 0.0,
        "recall_strict": found_strict / len(math_clean) if math_clean else 0.0,
        "math_pages_labelled": len(math_clean),
        "contamination_planted": len(planted_c),
        # None, not 1.0, when nothing was planted: no evidence either way
        "contamination_recall": sum(1 for k in planted_c if k not in final_keys) / len(planted_c) if planted_c else None,
        "contamination_flagged": flagged(planted_c, contaminated),
        "clean_pages_flagged_contaminated": flagged(clean, contaminated),
        "near_duplicates_planted": len(planted_nd),
        "near_duplicate_recall": flagged(planted_nd, near_removed | url_removed) / len(planted_nd) if planted_nd else None,
        "clean_pages_removed_as_duplicates": flagged(clean, near_removed),
    }


def build_corpus(cfg, inputs: list[str] | str, out_dir: str | Path, *, engine: str = "local", labels: str | None = None,
                 ray_address: str | None = None, progress: bool = True) -> dict:
    """Mine a math corpus from crawl files; write out_dir/corpus/, stats.json, report.md. Returns the stats."""
    from seekmath.corpus.report import write_report

    c = cfg.corpus
    out = Path(out_dir)
    work = out / "work"
    files = input_files(inputs, exclude=[labels] if labels else [])
    fp, fp_ingest = _fingerprint(cfg, files), _ingest_fingerprint(cfg, files)
    fp_path = work / "fingerprint.json"
    old = json.loads(fp_path.read_text()) if fp_path.is_file() else None
    if old is not None and old["fingerprint"] != fp:
        shutil.rmtree(out / "corpus", ignore_errors=True)
        if old.get("ingest") == fp_ingest:  # same crawl, other settings (a new seed, loop rules): keep what was read
            log.warning("%s holds a run with other settings: keeping its ingested documents, redoing the rest", out)
            ingest_time = json.loads((work / "timings.json").read_text()).get("ingest") if (work / "timings.json").is_file() else None
            for p in work.iterdir():
                if p.name not in ("docs", "done"):
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
            for p in (work / "done").iterdir() if (work / "done").is_dir() else []:
                if p.name != "ingest":
                    shutil.rmtree(p)
            if ingest_time is not None:
                atomic_write_json(work / "timings.json", {"ingest": ingest_time})
        else:
            log.warning("%s holds a run with other settings or inputs: starting afresh", out)
            shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    prepare_stage_dir(out, cfg)  # config.yaml (resolved) + log.txt
    atomic_write_json(fp_path, {"fingerprint": fp, "ingest": fp_ingest, "inputs": files})
    say = log.info
    # step seconds survive a resume: a step adds the time of the work it did in this run, and a rerun that
    # only re-evaluates (every step resumed) keeps the first run's timings
    timings_path = work / "timings.json"
    timings: dict[str, float] = json.loads(timings_path.read_text(encoding="utf-8")) if timings_path.is_file() else {}

    def timed(step: str, t0: float, did_work: bool, accumulate: bool = True) -> None:
        if did_work or step not in timings:
            timings[step] = (timings.get(step, 0.0) if accumulate and did_work else 0.0) + time.perf_counter() - t0
            atomic_write_json(timings_path, timings)
    num_perm = c.minhash_bands * c.minhash_rows

    with Engine(engine, c.workers, ray_address=ray_address or c.ray_address, ray_temp_dir=c.ray_temp_dir,
                progress=progress) as eng:
        # 1. ingest
        t = time.perf_counter()
        docs_dir = work / "docs"
        docs_dir.mkdir(parents=True, exist_ok=True)
        tasks = [{"name": f"shard-{i:05d}", "input": f, "out": str(docs_dir / f"shard-{i:05d}"), "num_perm": num_perm,
                  "shingle": c.minhash_shingle, "seed": c.seed} for i, f in enumerate(files)]
        ingest = eng.run("ingest", step_ingest, tasks, work / "done" / "ingest")
        timed("ingest", t, eng.last_pending > 0)
        shards = [docs_dir / f"{t_['name']}.jsonl.gz" for t_ in tasks]
        metas = [json.loads((docs_dir / f"{t_['name']}.meta.json").read_text(encoding="utf-8")) for t_ in tasks]
        offsets = np.cumsum([0] + [len(m["ids"]) for m in metas])
        url_keys = [k for m in metas for k in m["url_keys"]]
        domains = [d for m in metas for d in m["domains"]]
        tokens = np.array([x for m in metas for x in m["tokens"]], dtype=np.int64)
        n = len(url_keys)
        skipped: dict[str, int] = {}
        for r in ingest:
            for k, v in r["skipped"].items():
                skipped[k] = skipped.get(k, 0) + v
        say(f"ingest: {n} documents from {len(files)} file(s); skipped {skipped}")
        if n == 0:
            raise ValueError(f"no documents could be read from {files} (skipped: {skipped})")

        # 2. dedup
        t = time.perf_counter()
        raw_urls = [u for m in metas for u in m["urls"]]
        rank = dedup.canonical_rank(raw_urls, domains) if c.dedup_keep == "canonical" else None
        if c.dedup_keep not in ("canonical", "first"):
            raise ValueError(f"corpus.dedup_keep must be 'canonical' or 'first', not {c.dedup_keep!r}")
        url_keep = dedup.url_dedup(url_keys, rank) if c.url_dedup else np.ones(n, dtype=bool)
        if c.near_dedup:
            sigs = np.concatenate([np.load(docs_dir / f"{t_['name']}.sig.npy") for t_ in tasks])
            near_removed, kept_copy = dedup.near_duplicates(sigs, bands=c.minhash_bands, rows=c.minhash_rows,
                                                            threshold=c.minhash_threshold, active=url_keep, rank=rank,
                                                            return_kept=True)
        else:
            near_removed, kept_copy = np.zeros(n, dtype=bool), np.arange(n)
        # which page went and which copy stayed (reviewable)
        atomic_write_text(work / "near_duplicates.jsonl", "".join(
            to_json({"removed": raw_urls[i], "kept": raw_urls[int(kept_copy[i])]}, indent=None) + "\n"
            for i in np.flatnonzero(near_removed)))
        timed("dedup", t, False)  # recomputed on every run (cheap): its first timing stands
        say(f"dedup: {int((~url_keep).sum())} URL duplicates, {int(near_removed.sum())} near-duplicates")

        # 3. decontaminate
        t = time.perf_counter()
        index_path = work / "decontam" / "index.pkl"
        bench_counts_path = work / "decontam" / "benchmarks.json"
        if not index_path.is_file():
            pairs, bench_counts = decontam.benchmark_texts(c.benchmarks, c.decontam_fields, tasks_cfg=cfg.tasks,
                                                           synthetic_test=c.decontam_synthetic_test)
            index = decontam.build_index(pairs, n=c.decontam_ngram, min_n=c.decontam_min_ngram,
                                         whole_prefixes=tuple(f"{b}:" for b in c.decontam_whole_text))
            atomic_write_json(bench_counts_path, {"benchmarks": bench_counts, "texts": index.items, "too_short": index.too_short})
            atomic_write_bytes(index_path, pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL))
        bench_info = json.loads(bench_counts_path.read_text(encoding="utf-8"))
        dtasks = [{"name": t_["name"], "shard": str(shards[i]), "index": str(index_path),
                   "out": str(work / "decontam" / f"{t_['name']}.hits.jsonl")} for i, t_ in enumerate(tasks)]
        dres = eng.run("decontam", step_decontam, dtasks, work / "done" / "decontam")
        contaminated = np.zeros(n, dtype=bool)
        for s, r in enumerate(dres):
            contaminated[np.asarray(r["contaminated"], dtype=np.int64) + offsets[s]] = True
        timed("decontam", t, eng.last_pending > 0)
        dedup_keep = url_keep & ~near_removed
        active = dedup_keep & ~contaminated
        say(f"decontam: {int((contaminated & dedup_keep).sum())} contaminated pages removed")

        # 4. recall loop
        t = time.perf_counter()
        seed_mask = recall.under_prefixes(url_keys, [seed_prefix_key(p) for p in c.seed_prefixes])
        if c.seed_prefixes and not seed_mask.any():
            log.warning("corpus.seed_prefixes %s match no page of the crawl (URL keys look like %r)",
                        c.seed_prefixes, url_keys[0] if url_keys else "")
        external: list[str] = []
        if c.seed_file:
            external = seed_texts(c.seed_file, cfg.tasks, c.seed, limit=c.max_positives)
        trained = {"seconds": 0.0, "new": False}

        def train(pos: np.ndarray, neg: np.ndarray, it: int, it_dir: Path) -> Path:
            path = it_dir / ("model.ftz" if c.quantize else "model.bin")
            if path.is_file():
                return path
            t0 = time.perf_counter()
            positives = external + _read_rows(shards, offsets, np.flatnonzero(pos))
            negatives = _read_rows(shards, offsets, np.flatnonzero(neg))
            path = classify.train_classifier(
                positives, negatives, path, dim=c.dim, lr=c.lr, word_ngrams=c.word_ngrams, min_count=c.min_count,
                epochs=c.epochs, bucket=c.bucket, loss=c.loss, threads=c.ft_threads, seed=c.seed + it, quantize=c.quantize,
                quantize_cutoff=c.quantize_cutoff)
            trained["seconds"] += time.perf_counter() - t0
            trained["new"] = True
            return path

        def score(model_path: Path, it: int) -> np.ndarray:
            stasks = [{"name": t_["name"], "lines": str(docs_dir / f"{t_['name']}.ft.txt.gz"), "model": str(model_path),
                       "batch": c.score_batch,
                       "out": str(model_path.parent / f"{t_['name']}.scores.npy")} for i, t_ in enumerate(tasks)]
            eng.run(f"score-iter{it}", step_score, stasks, model_path.parent / "done")
            return np.concatenate([np.load(st["out"]) for st in stasks])

        loop = recall.run_recall_loop(recall.Pool(url_keys, domains, tokens, active), c, work / "recall", train=train, score=score,
                                      seed_mask=seed_mask, external_positives=len(external), progress=say)
        if trained["new"] or "recall_training" not in timings:
            timings["recall_training"] = timings.get("recall_training", 0.0) + trained["seconds"]
        timed("recall", t, trained["new"])
        collected = loop["collected"]
        last_it = max(1, loop["final_iteration"])  # the iteration whose collection is the corpus
        final_scores = np.concatenate([np.load(work / "recall" / f"iter{last_it}" / f"{t_['name']}.scores.npy") for t_ in tasks])

        # 5. write the corpus
        t = time.perf_counter()
        corpus_dir = out / "corpus"
        suffix = "parquet" if c.output_format == "parquet" else "jsonl.gz"
        if c.output_format not in ("parquet", "jsonl.gz"):
            raise ValueError(f"corpus.output_format must be jsonl.gz or parquet, not {c.output_format!r}")
        sel_dir = work / "select"
        wtasks = []
        for s, t_ in enumerate(tasks):
            rows = np.flatnonzero(collected[offsets[s]:offsets[s + 1]])
            sel = {"rows": rows.tolist(), "scores": [round(float(final_scores[offsets[s] + r]), 6) for r in rows],
                   "iterations": [int(loop["first_iteration"][offsets[s] + r]) for r in rows]}
            sel_path = sel_dir / f"{t_['name']}.json"
            atomic_write_json(sel_path, sel)
            wtasks.append({"name": t_["name"], "shard": str(shards[s]), "selection": str(sel_path), "format": c.output_format,
                           "out": str(corpus_dir / f"{t_['name']}.{suffix}")})
        wres = eng.run("write", step_write, wtasks, work / "done" / "write")
        timed("write", t, eng.last_pending > 0)

    hits_rows = []
    for dt in dtasks:
        p = Path(dt["out"])
        if p.is_file():
            hits_rows += [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_item: dict[str, list[str]] = {}
    for h in hits_rows:
        by_item.setdefault(h["item"], []).append(h["url"])
    atomic_write_text(out / "decontamination.jsonl", "".join(
        to_json({"benchmark": k.split(":", 1)[0], "item": k, "documents": sorted(set(v))}, indent=None) + "\n" for k, v in sorted(by_item.items())))

    cores = max(1, c.workers)
    steps = ("ingest", "dedup", "decontam", "recall", "write")
    elapsed = sum(timings.get(k, 0.0) for k in steps)  # the build's own time, across resumes
    ingest_s = timings.get("ingest", 0.0)
    processing = elapsed - timings.get("recall_training", 0.0)
    final_stats = next((s_ for s_ in loop["iterations"] if s_["iteration"] == last_it), loop["iterations"][-1])
    stats: dict[str, Any] = {
        "documents_in": int(n),
        "documents_out": int(sum(r["documents"] for r in wres)),
        "tokens_in": int(tokens.sum()),
        "tokens_out": int(sum(r["tokens"] for r in wres)),
        "iterations": len(loop["iterations"]),
        "stopped_by": loop["stopped_by"],
        "final_iteration": last_it,
        "math_domains": final_stats["math_domains"],
        "warnings": loop["warnings"],
        "url_duplicates_removed": int((~url_keep).sum()),
        "near_duplicates_removed": int(near_removed.sum()),
        "contaminated_removed": int((contaminated & dedup_keep).sum()),
        "skipped": skipped,
        "decontamination": bench_info,
        "per_iteration": loop["iterations"],
        "engine": engine,
        "workers": c.workers,
        "seconds": round(elapsed, 2),
        "step_seconds": {k: round(v, 2) for k, v in timings.items()},
        # wall-clock rates: read+extract (ingest step), the build without classifier training, the whole build
        "ingest_documents_per_second_per_core": round(n / ingest_s / cores, 2) if ingest_s > 0 else None,
        "documents_per_second_per_core": round(n / processing / cores, 2) if processing > 0 else None,
        "build_documents_per_second": round(n / elapsed, 2) if elapsed > 0 else None,
    }
    if labels:
        stats.update(_evaluate_labels(labels, url_keys, collected, ~url_keep, near_removed, contaminated, kept_copy))
    with MetricsLogger(out, tensorboard=False) as metrics:  # one row per recall iteration
        for it in loop["iterations"]:
            metrics.log(it["iteration"], **{k: it[k] for k in ("documents", "tokens", "domains_found", "seed_added",
                                                                "positives") if k in it},
                        overlap_with_previous=it["overlap_with_previous"])
    atomic_write_json(out / "stats.json", stats)
    write_report(out, stats, domain_threshold=c.domain_threshold, stop_overlap=c.stop_overlap)
    log.info("corpus: %d -> %d documents, %d tokens, %d iteration(s), stopped by %s; %.1f documents/s per core",
             n, stats["documents_out"], stats["tokens_out"], stats["iterations"], stats["stopped_by"],
             stats["documents_per_second_per_core"] or 0)
    return stats
