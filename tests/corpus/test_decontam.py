"""The DeepSeekMath decontamination rule: 10-gram hits, exact match of 3-9-gram benchmark texts, CJK characters."""

from __future__ import annotations

import logging

import pytest

from seekmath.corpus import decontam

Q = "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May."


def test_grams_normalisation_and_cjk():
    assert decontam.grams("Natalia SOLD clips: $48.") == ["natalia", "sold", "clips", "48"]
    assert decontam.grams("ｆｕｌｌ width") == ["full", "width"]  # NFKC
    assert decontam.grams("小明有3个苹果。") == ["小", "明", "有", "3", "个", "苹", "果"]
    assert decontam.grams("snake_case x") == ["snake", "case", "x"]


def test_ten_gram_rule():
    idx = decontam.build_index([("gsm8k:0:question", Q)])
    g = decontam.grams(Q)
    assert len(g) == 20 and len(idx.long) == 11  # 20 grams -> 11 distinct 10-grams
    ten = " ".join(g[5:15])
    assert idx.hits(f"Forum post. {ten.upper()}!! thanks") == {"gsm8k:0:question": "ngram"}
    nine = " ".join(g[5:14])
    assert idx.hits(f"Forum post. {nine} thanks") == {}
    assert idx.hits("completely unrelated text about the weather in april and may") == {}


def test_exact_rule_for_3_to_9_grams():
    items = [("math:1:solution", "The answer is 42 apples"),  # 5 grams: exact match only
             ("math:2:answer", "x plus y"),  # 3 grams
             ("math:3:answer", "7 cm")]  # 2 grams: never matched
    idx = decontam.build_index(items)
    assert idx.too_short == 1
    assert idx.hits("so the answer is 42 apples, done") == {"math:1:solution": "exact"}
    assert idx.hits("the answer is 42 pears") == {}
    assert idx.hits("we have X plus Y here") == {"math:2:answer": "exact"}
    assert idx.hits("it is 7 cm long") == {}
    # min_n is configurable; min_n > n is rejected
    assert decontam.build_index(items, min_n=2).hits("it is 7 cm long") == {"math:3:answer": "exact"}
    with pytest.raises(ValueError):
        decontam.build_index(items, n=5, min_n=6)


def test_cjk_character_ngrams():
    zh = "小明有三个苹果，他又买了五个，现在一共有几个苹果？"
    idx = decontam.build_index([("cmath:7:question", zh)])
    assert idx.hits("网页内容：小明有三个苹果，他又买了五个，然后……") == {"cmath:7:question": "ngram"}  # 12 shared characters
    assert idx.hits("小明有三个苹果") == {}  # 7 characters: under 10
    short = decontam.build_index([("cmath:8:answer", "八个苹果")])  # 4 characters -> exact rule
    assert short.hits("答案是八个苹果。") == {"cmath:8:answer": "exact"}


def test_whole_text_mode_for_templated_items():
    q = "Ines has 58 coins. Then she finds 24 more coins. How many coins does Ines have now?"
    idx = decontam.build_index([("synthetic_test:1:question", q)], whole_prefixes=("synthetic_test:",))
    # shares a 10-gram ("finds 24 more coins how many coins does ines have now") but is another problem
    other = "Ines has 30 coins. Then she finds 24 more coins. How many coins does Ines have now?"
    assert idx.hits(other) == {}
    assert idx.hits("Problem: " + q + " Solution: ...") == {"synthetic_test:1:question": "exact"}
    plain = decontam.build_index([("gsm8k:1:question", q)])
    assert plain.hits(other) == {"gsm8k:1:question": "ngram"}


def test_benchmark_texts_real_gsm8k_and_missing(shared_data, monkeypatch, caplog, tmp_path):
    monkeypatch.setenv("SEEKMATH_DATA_DIR", str(shared_data / "bench"))
    pairs, counts = decontam.benchmark_texts(["gsm8k"], ["question", "solution"])
    assert counts == {"gsm8k": 1319} and len(pairs) == 2 * 1319
    idx = decontam.build_index(pairs)
    q0 = [t for k, t in pairs if k.endswith(":question")][0]
    assert idx.hits("<p>" + q0 + "</p>")
    monkeypatch.setenv("SEEKMATH_DATA_DIR", str(tmp_path))  # nothing there
    with caplog.at_level(logging.WARNING, logger="seekmath.corpus"):
        pairs, counts = decontam.benchmark_texts(["gsm8k", "cmath"], ["question"])
    assert pairs == [] and counts == {"gsm8k": "missing", "cmath": "missing"}
    assert "gsm8k" in caplog.text
    with pytest.raises(ValueError, match="decontam_fields"):
        decontam.benchmark_texts(["gsm8k"], ["question", "rationale"])


def test_benchmark_texts_synthetic_test_split():
    from seekmath.config import TasksConfig

    pairs, counts = decontam.benchmark_texts([], ["question"], tasks_cfg=TasksConfig(num_test=7), synthetic_test=True)
    assert counts == {"synthetic_test": 7} and len(pairs) == 7 and pairs[0][0].startswith("synthetic_test:")


def test_numbers_only_grams_are_no_evidence():
    from seekmath.corpus.decontam import build_index

    q = "Determine the modulo 4 remainder of the following sum: $$ 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10 + 11 + 12. $$"
    index = build_index([("math500:q", q), ("x:short", "1, 2, 3")])
    code_listing = "Example\n" + "\n".join(str(i) for i in range(1, 40)) + "\nint main(void) { return 0; }"
    assert index.hits(code_listing) == {}  # a line-number column is not the benchmark
    assert index.hits("copied: determine the modulo 4 remainder of the following sum 1 + 2 + 3") == {"math500:q": "ngram"}
    assert index.too_short == 1
