"""The math classifier: fastText supervised, with the paper's settings (DeepSeekMath §2.1, spec §1.1).

Positives are seed pages, negatives random pool pages, 1:1 (paper: 500K OpenWebMath pages vs 500K
Common Crawl pages); dim 256, lr 0.1, word n-grams up to 3, minCount 3, 3 epochs. Everything the paper
leaves open is fastText's default except:

* text preprocessing (`fasttext_text`): NFKC, lower-case, newlines and tabs become spaces (fastText
  reads one example per line, and simply deleting newlines would glue the last word of a line to the
  first of the next — datatrove's default does that), and punctuation is split off words, so
  `coins.` and `coins` are one feature and LaTeX markup (`\\`, `{`, `=`, `^`) becomes features of its own;
* `bucket` is configurable: the default 2M buckets make a 2 GB model at dim 256 (feasibility §6);
* training uses one thread by default, so a run is reproducible (multi-threaded Hogwild is not).

Scoring loads a model once per process (`load_model` caches by path) and predicts in batches.
"""

from __future__ import annotations

import logging
import os
import random
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

log = logging.getLogger("seekmath.corpus")

MATH_LABEL = "__label__math"
OTHER_LABEL = "__label__other"

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def fasttext_text(text: str) -> str:
    """One fastText input line: NFKC, lower-cased, words and single punctuation marks separated by one space.

    >>> fasttext_text("Two\\nlines, $x^2$")
    'two lines , $ x ^ 2 $'
    """
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(_TOKEN.findall(text))


def training_lines(positives: Iterable[str], negatives: Iterable[str], seed: int) -> list[str]:
    """Labelled fastText lines, shuffled deterministically for `seed`."""
    lines = [f"{MATH_LABEL} {fasttext_text(t)}" for t in positives]
    lines += [f"{OTHER_LABEL} {fasttext_text(t)}" for t in negatives]
    random.Random(seed).shuffle(lines)
    return lines


def _train_in_fresh_process(kwargs: dict) -> str:
    return str(train_classifier(**kwargs, isolate=False))


def train_classifier(
    positives: Sequence[str],
    negatives: Sequence[str],
    out_path: str | Path,
    *,
    dim: int = 256,
    lr: float = 0.1,
    word_ngrams: int = 3,
    min_count: int = 3,
    epochs: int = 3,
    bucket: int = 2_000_000,
    loss: str = "softmax",
    threads: int = 1,
    seed: int = 0,
    quantize: bool = False,
    quantize_cutoff: int = 200_000,
    isolate: bool = True,
) -> Path:
    """Train the math-vs-other fastText model and save it atomically to `out_path` (.bin, or .ftz if quantised).

    `isolate=True` trains in a freshly spawned process whose glibc serves every large block from
    zeroed mmap pages (`MALLOC_MMAP_THRESHOLD_`). Why: fastText 0.9.x initialises only `thread`
    tenths of its input matrix (`DenseMatrix::uniform` fills one block of m*n/10 per thread) and
    leaves the rest as returned by `new[]`. In a long-lived process that memory is often recycled
    heap, so single-threaded training (the reproducible kind) starts from garbage: "Encountered NaN"
    or different models from identical input. From zeroed pages the uninitialised rows start at 0
    and training is bit-for-bit reproducible.
    """
    if isolate:
        import multiprocessing as mp
        import os as _os

        kwargs = dict(positives=list(positives), negatives=list(negatives), out_path=str(out_path), dim=dim, lr=lr,
                      word_ngrams=word_ngrams, min_count=min_count, epochs=epochs, bucket=bucket, loss=loss,
                      threads=threads, seed=seed, quantize=quantize, quantize_cutoff=quantize_cutoff)
        old = _os.environ.get("MALLOC_MMAP_THRESHOLD_")
        _os.environ["MALLOC_MMAP_THRESHOLD_"] = str(128 * 1024)
        try:
            with mp.get_context("spawn").Pool(1) as pool:
                path = Path(pool.apply(_train_in_fresh_process, (kwargs,)))
        finally:
            if old is None:
                _os.environ.pop("MALLOC_MMAP_THRESHOLD_", None)
            else:
                _os.environ["MALLOC_MMAP_THRESHOLD_"] = old
        _MODELS.pop(str(path), None)
        return path
    import fasttext

    if not positives or not negatives:
        raise ValueError(f"fastText training needs positives and negatives (got {len(positives)} and {len(negatives)})")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    lines = training_lines(positives, negatives, seed)
    fd, train_file = tempfile.mkstemp(prefix=".fasttext-train.", suffix=".txt", dir=out_path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        for attempt in range(4):
            try:
                model = fasttext.train_supervised(
                    input=train_file, dim=dim, lr=lr, wordNgrams=word_ngrams, minCount=min_count, epoch=epochs,
                    bucket=bucket, loss=loss, thread=threads, seed=seed, verbose=0,
                )
                break
            except RuntimeError as e:
                # fastText diverges now and then on small training sets ("Encountered NaN"); its
                # maintainers' advice is a lower learning rate (facebookresearch/fastText #638)
                if "NaN" not in str(e) or attempt == 3:
                    raise
                log.warning("fastText diverged at lr=%g; retrying at lr=%g", lr, lr / 2)
                lr /= 2
        if quantize:
            model.quantize(input=train_file, retrain=False, cutoff=quantize_cutoff, qnorm=True)
        tmp = out_path.with_name(f".{out_path.name}.tmp")
        model.save_model(str(tmp))
        os.replace(tmp, out_path)
    finally:
        os.unlink(train_file)
    _MODELS.pop(str(out_path), None)
    return out_path


# one loaded model per process and path: workers score many shards but load the model once
_MODELS: dict[str, object] = {}


def load_model(path: str | Path):
    import fasttext

    key = str(path)
    if key not in _MODELS:
        if not Path(path).is_file():
            raise FileNotFoundError(f"fastText model not found: {path}")
        _MODELS[key] = fasttext.load_model(key)
    return _MODELS[key]


def score_lines(model, lines: Sequence[str], batch_size: int = 1024) -> np.ndarray:
    """P(math) for already-normalised lines (`fasttext_text`), predicted in batches of `batch_size`.

    The pipeline normalises each page once at ingest and rescores the stored lines every iteration."""
    out = np.zeros(len(lines), dtype=np.float32)
    for start in range(0, len(lines), batch_size):
        labels, probs = model.predict(list(lines[start : start + batch_size]), k=-1, threshold=0.0)
        for i, (labs, ps) in enumerate(zip(labels, probs)):
            j = labs.index(MATH_LABEL) if MATH_LABEL in labs else -1
            if j >= 0:
                out[start + i] = min(float(ps[j]), 1.0)
    return out


def score_texts(model, texts: Sequence[str], batch_size: int = 1024) -> np.ndarray:
    """P(math) for raw texts: `fasttext_text` then `score_lines`."""
    return score_lines(model, [fasttext_text(t) for t in texts], batch_size)
