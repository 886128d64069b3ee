"""fastText classifier: preprocessing, training with the paper's settings, reproducibility, quantisation, batched scoring."""

from __future__ import annotations

import random

import numpy as np
import pytest

from seekmath.corpus import classify

FILLER = ("the city council met on tuesday to discuss the new park while local shops reported a busy weekend "
          "and the football team won its match in the rain as fans sang songs about summer holidays").split()


def _prose(rng: random.Random, n: int = 60) -> str:
    return " ".join(rng.choice(FILLER) for _ in range(n)).capitalize() + "."


def _math(rng: random.Random) -> str:
    a, b = rng.randint(2, 90), rng.randint(2, 90)
    return (f"Problem: Solve $x + {a} = {a + b}$.\nSolution: Subtract {a} from both sides:\n"
            f"$x = {a + b} - {a} = {b}$.\nThe answer is \\boxed{{{b}}}.")


def test_fasttext_text_keeps_words_apart():
    assert classify.fasttext_text("Two\nlines\r\nand\ttabs") == "two lines and tabs"  # never glued ("twolines")
    assert classify.fasttext_text("$x^2+1$, done.") == "$ x ^ 2 + 1 $ , done ."
    assert classify.fasttext_text("ＡＢＣ") == "abc"  # NFKC + lower-case
    assert "\n" not in classify.fasttext_text("a\n\n\nb")


def test_training_lines_labels_and_shuffle():
    lines = classify.training_lines(["Math A"], ["Prose B", "Prose C"], seed=1)
    assert sorted(lines) == ["__label__math math a", "__label__other prose b", "__label__other prose c"]
    assert lines == classify.training_lines(["Math A"], ["Prose B", "Prose C"], seed=1)


@pytest.fixture(scope="module")
def data():
    rng = random.Random(0)
    pos = [_math(rng) for _ in range(150)]
    neg = [_prose(rng) for _ in range(150)]
    test_pos = [_math(rng) for _ in range(40)]
    test_neg = [_prose(rng) for _ in range(40)]
    return pos, neg, test_pos, test_neg


KW = dict(dim=32, bucket=50_000, epochs=20, lr=0.1, word_ngrams=3, min_count=3)


def test_train_score_reproducible_and_batched(tmp_path, data):
    pos, neg, test_pos, test_neg = data
    p1 = classify.train_classifier(pos, neg, tmp_path / "a" / "model.bin", seed=3, **KW)
    p2 = classify.train_classifier(pos, neg, tmp_path / "b" / "model.bin", seed=3, **KW)
    assert p1.read_bytes() == p2.read_bytes()  # single-threaded training from zeroed memory: bit-for-bit
    model = classify.load_model(p1)
    assert classify.load_model(p1) is model  # one load per process
    s_pos = classify.score_texts(model, test_pos, batch_size=7)
    s_neg = classify.score_texts(model, test_neg, batch_size=7)
    assert s_pos.dtype == np.float32
    assert (s_pos > 0.5).mean() >= 0.95 and (s_neg < 0.5).mean() >= 0.95
    assert np.array_equal(s_pos, classify.score_texts(model, test_pos, batch_size=1000))
    assert s_pos.min() >= 0 and s_pos.max() <= 1


def test_quantised_model_is_smaller_and_agrees(tmp_path, data):
    pos, neg, test_pos, test_neg = data
    full = classify.train_classifier(pos, neg, tmp_path / "model.bin", seed=0, **KW)
    quant = classify.train_classifier(pos, neg, tmp_path / "model.ftz", seed=0, quantize=True, quantize_cutoff=5000, **KW)
    assert quant.stat().st_size < full.stat().st_size / 5
    texts = test_pos + test_neg
    a = classify.score_texts(classify.load_model(full), texts) > 0.5
    b = classify.score_texts(classify.load_model(quant), texts) > 0.5
    assert (a == b).mean() >= 0.95


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="positives and negatives"):
        classify.train_classifier([], ["x"], tmp_path / "m.bin", isolate=False)
    with pytest.raises(FileNotFoundError):
        classify.load_model(tmp_path / "missing.bin")
