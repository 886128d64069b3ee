"""Sources, the token-share mixture, packing with document isolation, and SFT examples/labels."""

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from seekmath.models import COT_SUFFIX, TOOL_SUFFIX
from seekmath.train.data import (
    IGNORE_INDEX,
    DataError,
    PackedSFTStream,
    PackedTextStream,
    choose_source,
    load_sft_examples,
    load_text_source,
    pack_segments,
    parse_data_spec,
    sft_segment,
    synthetic_sft_examples,
    tokenize_examples,
)
from seekmath.train.trainer import token_loss_sum


def test_parse_data_spec():
    assert parse_data_spec("a@0.56,hf:x/y:cfg@0.2,b") == [("a", 0.56), ("hf:x/y:cfg", 0.2), ("b", 1.0)]
    with pytest.raises(DataError, match="weight 'x' is not a number"):
        parse_data_spec(["dir@x"])
    with pytest.raises(DataError, match="must be > 0"):
        parse_data_spec(["dir@0"])


def test_choose_source_tracks_token_shares():
    # paper mixture, documents of unequal lengths per source
    weights = [0.56, 0.04, 0.10, 0.20, 0.10]
    lengths = [300, 50, 700, 120, 90]
    taken = [0] * 5
    for _ in range(5000):
        k = choose_source(taken, weights)
        taken[k] += lengths[k]
    total = sum(taken)
    for t, w, n in zip(taken, weights, lengths):
        assert abs(t / total - w) < 1.5 * max(lengths) / total + 1e-3
    assert choose_source([0, 0], [1, 1]) == 0  # ties -> lower index
    assert choose_source([10, 0], [1, 1]) == 1


def _write_corpus(tmp_path):
    """Shards as the corpus stage writes them: DIR/corpus/*.jsonl.gz and a parquet shard."""
    corpus = tmp_path / "mined" / "corpus"
    corpus.mkdir(parents=True)
    with gzip.open(corpus / "part-0000.jsonl.gz", "wt", encoding="utf-8") as f:
        for i in range(30):
            f.write(json.dumps({"id": f"a{i}", "url": f"http://m/{i}", "text": f"Let x = {i}. Then 2x = {2 * i}.",
                                "score": 0.9}) + "\n")
    pq.write_table(pa.table({"id": [f"b{i}" for i in range(20)], "text": [f"Theorem {i}: {i} + {i} = {2 * i}." for i in range(20)]}),
                   corpus / "part-0001.parquet")
    return tmp_path / "mined"


def test_corpus_folder_and_file_sources(tmp_path):
    root = _write_corpus(tmp_path)
    texts = load_text_source(str(root))
    assert len(texts) == 50 and any(t.startswith("Theorem") for t in texts)
    assert len(load_text_source(str(root / "corpus" / "part-0001.parquet"))) == 20
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"nope": 1}\n')
    with pytest.raises(DataError, match=r"bad.jsonl:2: no text field 'text'"):
        load_text_source(str(bad))
    with pytest.raises(DataError, match="no such file or folder"):
        load_text_source(str(tmp_path / "missing"))


def test_text_stream_packs_exact_rows_with_isolation(tmp_path, smoke_model):
    _, tok = smoke_model
    root = _write_corpus(tmp_path)
    sources = [("corpus", load_text_source(str(root)), 0.7), ("filler", load_text_source("filler"), 0.3)]
    stream = PackedTextStream(sources, tok, seq_len=64, seed=3, n_eval=5)
    rows = [stream.next_row() for _ in range(40)]
    eos, bos = tok.eos_token_id, tok.bos_token_id
    for r in rows:
        assert len(r.input_ids) == len(r.labels) == len(r.position_ids) == 64
        for t, p in enumerate(r.position_ids):
            if t and p == 0:  # a new document starts: the previous token ended one (EOS) or it is a continuation
                assert r.labels[t] == IGNORE_INDEX
            if t and r.input_ids[t] == bos and p == 0:
                assert r.input_ids[t - 1] == eos
    shares = stream.token_shares()
    assert abs(shares["corpus"] - 0.7) < 0.05
    # deterministic for a seed, different for another; state_dict resumes mid-stream exactly
    again = PackedTextStream(sources, tok, seq_len=64, seed=3, n_eval=5)
    assert [again.next_row().input_ids for _ in range(40)] == [r.input_ids for r in rows]
    other = PackedTextStream(sources, tok, seq_len=64, seed=4, n_eval=5)
    assert other.next_row().input_ids != rows[0].input_ids
    a = PackedTextStream(sources, tok, seq_len=64, seed=3, n_eval=5)
    for _ in range(17):
        a.next_row()
    b = PackedTextStream(sources, tok, seq_len=64, seed=3, n_eval=5)
    b.load_state_dict(json.loads(json.dumps(a.state_dict())))
    assert [b.next_row().input_ids for _ in range(23)] == [r.input_ids for r in rows[17:]]
    # held-out documents never appear in training rows
    held = {d for k, ev in enumerate(stream.eval_idx) for d in ev.tolist() if k == 0}
    assert held and not held & set(stream.train_idx[0].tolist())
    assert stream.eval_rows(3) and len(stream.eval_rows(3)) <= 3


def test_packed_document_logits_equal_the_document_alone(smoke_model):
    """Isolation really works: doc B packed after doc A gets the logits it gets alone."""
    model, tok = smoke_model
    a = tok("Problem: Mia has 3 apples. Then she buys 4 more.")["input_ids"] + [tok.eos_token_id]
    b = tok("Solution: 3 + 4 = 7. The answer is \\boxed{7}.")["input_ids"] + [tok.eos_token_id]
    with torch.no_grad():
        alone = model(input_ids=torch.tensor([b]), use_cache=False).logits[0]
        iso = pack_segments([a, b], len(a) + len(b), doc_isolation=True, pad_id=0)
        packed = model(input_ids=torch.tensor([iso.input_ids]), position_ids=torch.tensor([iso.position_ids]),
                       use_cache=False).logits[0, len(a):]
        plain = pack_segments([a, b], len(a) + len(b), doc_isolation=False, pad_id=0)
        leaky = model(input_ids=torch.tensor([plain.input_ids]), position_ids=torch.tensor([plain.position_ids]),
                      use_cache=False).logits[0, len(a):]
    torch.testing.assert_close(packed, alone, atol=1e-5, rtol=1e-5)
    assert (leaky - alone).abs().max() > 1e-3  # without isolation the context leaks (the test can fail)


def test_sft_format_uses_the_paper_suffixes(smoke_cfg):
    cot = synthetic_sft_examples(smoke_cfg, 3, ["cot"])[0]
    assert cot.prompt.startswith("User: ") and cot.prompt.endswith(COT_SUFFIX + "\n\nAssistant:")
    assert cot.completion.startswith(" ") and cot.completion.rstrip().endswith("}.") and "\\boxed{" in cot.completion
    tool = synthetic_sft_examples(smoke_cfg, 3, ["tool"])[0]
    assert tool.prompt.endswith(TOOL_SUFFIX + "\n\nAssistant:")
    assert "```python\n" in tool.completion and "```output\n" in tool.completion
    # the output block holds the gold answer
    from seekmath.tasks.synthetic import generate_problems

    gold = generate_problems(smoke_cfg.tasks, "train", 1)[0].answer
    assert f"```output\n{gold}\n```" in tool.completion and tool.completion.endswith(f"\\boxed{{{gold}}}.")
    with pytest.raises(DataError, match="format 'cod' unknown"):
        synthetic_sft_examples(smoke_cfg, 1, ["cod"])


def test_sft_files_gsm8k_style_and_prompt_completion(tmp_path, smoke_cfg):
    f = tmp_path / "gsm.jsonl"
    f.write_text(json.dumps({"question": "What is 2+3?", "answer": "2+3=<<2+3=5>>5\n#### 5"}) + "\n")
    (ex,) = load_sft_examples(str(f), smoke_cfg)
    assert ex.prompt == "User: What is 2+3?" + COT_SUFFIX + "\n\nAssistant:"
    assert ex.completion == " 2+3=5\nThe answer is \\boxed{5}."
    g = tmp_path / "pc.jsonl"
    g.write_text(json.dumps({"prompt": "User: hi\n\nAssistant:", "completion": " hello"}) + "\n")
    assert load_sft_examples(str(g), smoke_cfg)[0].completion == " hello"


def test_loss_mask_prompt_labels_change_nothing_assistant_tokens_do(smoke_model, smoke_cfg):
    """SFT loss is on assistant tokens only: other prompt tokens -> same loss; another answer token -> different."""
    _, tok = smoke_model
    ex = synthetic_sft_examples(smoke_cfg, 1, ["cot"])[0]
    ((p, c),) = tokenize_examples([ex], tok, 256)
    L = len(p) + len(c)
    torch.manual_seed(0)
    logits = torch.randn(1, L, len(tok))

    def loss_of(prompt_ids, completion_ids):
        seg, mask = sft_segment(prompt_ids, completion_ids)
        row = pack_segments([seg], L, True, tok.pad_token_id, [mask])
        s, n = token_loss_sum(logits, torch.tensor([row.labels]))
        return float(s) / n, n

    base, n = loss_of(p, c)
    assert n == len(c)  # every assistant token (incl. EOS) and nothing else carries loss
    changed_prompt = [p[0]] + [(t + 7) % len(tok) for t in p[1:]]
    assert loss_of(changed_prompt, c)[0] == base
    changed_answer = list(c)
    changed_answer[2] = (changed_answer[2] + 7) % len(tok)
    assert loss_of(p, changed_answer)[0] != base


def test_sft_stream_packs_whole_examples(smoke_model, smoke_cfg):
    _, tok = smoke_model
    examples = tokenize_examples(synthetic_sft_examples(smoke_cfg, 30, ["cot", "tool", "pot"]), tok, 256)
    stream = PackedSFTStream(examples, 512, tok.pad_token_id, seed=1)
    rows = [stream.next_row() for _ in range(20)]
    starts = 0
    for r in rows:
        assert len(r.input_ids) == 512
        for t, (i, lab, pos) in enumerate(zip(r.input_ids, r.labels, r.position_ids)):
            if i == tok.bos_token_id and pos == 0:
                starts += 1
                assert lab == IGNORE_INDEX
            if i == tok.pad_token_id:
                assert lab == IGNORE_INDEX
    # every consumed example went in whole (each starts with BOS at position 0), several per row
    assert starts == stream.epoch * len(examples) + stream.cursor > len(rows)
    assert stream.epoch >= 1
