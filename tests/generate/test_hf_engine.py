"""The hf generation engine: equivalence with model.generate, determinism, stops, EOS, lengths."""

import copy

import pytest
import torch

from seekmath.generate import Completion, cut_at_stop, make_engine
from seekmath.generate.hf import sample_next

PROMPTS = [
    "User: What is 3 plus 4?\n\nAssistant:",
    "Q: Tom has 5 apples and buys 7 more. How many apples does Tom have?\nA:",
    "Hello",
    "User: Sam buys 12 pens and gives away 3. How many pens does Sam have now?\n\nAssistant:",
    "Problem: Ann has 9 beads.\nSolution:",
]


@pytest.fixture(scope="module")
def model_tok(tiny_model_dir):
    from seekmath.models import load_model, load_tokenizer

    torch.set_num_threads(1)
    return load_model(tiny_model_dir, device="cpu").eval(), load_tokenizer(tiny_model_dir)


def _reference_greedy(model, tok, prompts, max_new_tokens):
    enc = tok(prompts, return_tensors="pt", padding=True)
    with torch.inference_mode():
        out = model.generate(**enc, do_sample=False, max_new_tokens=max_new_tokens,
                             eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    rows = []
    for r in out[:, enc["input_ids"].shape[1]:].tolist():
        rows.append(r[: r.index(tok.eos_token_id) + 1] if tok.eos_token_id in r else r)
    return rows


def test_greedy_matches_model_generate_token_for_token(model_tok):
    model, tok = model_tok
    engine = make_engine("hf", model, tok, batch_size=len(PROMPTS))
    outs = engine.generate(PROMPTS, max_new_tokens=24)
    ref = _reference_greedy(model, tok, PROMPTS, 24)
    for o, r, p in zip(outs, ref, PROMPTS):
        assert len(o) == 1 and isinstance(o[0], Completion)
        assert o[0].token_ids == r
        assert o[0].prompt_ids == tok(p)["input_ids"] and o[0].prompt_ids[0] == tok.bos_token_id
        assert o[0].text == tok.decode(r, skip_special_tokens=True)


def test_greedy_n_copies_and_length_finish(model_tok):
    model, tok = model_tok
    engine = make_engine("hf", model, tok)
    outs = engine.generate(PROMPTS[:2], n=3, max_new_tokens=5)
    for row in outs:
        assert len(row) == 3 and len({tuple(c.token_ids) for c in row}) == 1
        for c in row:
            if c.finish_reason == "length":
                assert len(c.token_ids) == 5


def test_sampling_is_seeded_and_deterministic(model_tok):
    model, tok = model_tok
    engine = make_engine("hf", model, tok, batch_size=4)
    kw = dict(n=4, temperature=1.0, top_p=0.9, max_new_tokens=12)
    a = engine.generate(PROMPTS, seed=7, **kw)
    b = engine.generate(PROMPTS, seed=7, **kw)
    c = engine.generate(PROMPTS, seed=8, **kw)
    ids = lambda outs: [[x.token_ids for x in row] for row in outs]  # noqa: E731
    assert ids(a) == ids(b)
    assert ids(a) != ids(c)
    assert all(len(row) == 4 for row in a)
    assert len({tuple(x.token_ids) for x in a[0]}) > 1  # samples of one prompt differ


def test_stop_strings_cut_the_greedy_text(model_tok):
    model, tok = model_tok
    engine = make_engine("hf", model, tok)
    full = engine.generate(PROMPTS, max_new_tokens=30)
    # pick stop strings that occur in the greedy continuations
    stops = sorted({f[0].text[3:5] for f in full if len(f[0].text) >= 6})[:2]
    assert stops
    cut = engine.generate(PROMPTS, max_new_tokens=30, stop=stops)
    for f, c in zip(full, cut):
        expected, found = cut_at_stop(f[0].text, stops)
        assert c[0].text == expected
        if found:
            assert c[0].finish_reason == "stop"
            assert not any(s in c[0].text for s in stops)
            assert c[0].token_ids == f[0].token_ids[: len(c[0].token_ids)]  # same tokens, stopped early


def test_eos_ends_a_row(model_tok):
    model, tok = model_tok
    m = copy.deepcopy(model)
    with torch.no_grad():  # make EOS the argmax everywhere
        m.lm_head.weight[tok.eos_token_id] = 0
        if getattr(m.lm_head, "bias", None) is None:
            m.lm_head.bias = torch.nn.Parameter(torch.zeros(m.lm_head.out_features))
        m.lm_head.bias[tok.eos_token_id] = 1e4
    out = make_engine("hf", m, tok).generate(PROMPTS[:2], max_new_tokens=10)
    for row in out:
        assert row[0].finish_reason == "eos"
        assert row[0].token_ids == [tok.eos_token_id]
        assert row[0].text == ""


def test_update_weights_swaps_the_module(model_tok):
    model, tok = model_tok
    engine = make_engine("hf", model, tok)
    other = copy.deepcopy(model)
    engine.update_weights(other)
    assert engine.model is other


def test_sample_next_top_p_and_greedy():
    logits = torch.tensor([[0.0, 3.0, 1.0, 2.9], [5.0, 0.0, 0.0, 0.0]])
    assert sample_next(logits, 0.0, 1.0, None).tolist() == [1, 0]
    g = torch.Generator().manual_seed(0)
    # top_p tiny: only the most likely token survives, whatever the temperature
    for _ in range(20):
        assert sample_next(logits, 2.0, 1e-6, g).tolist() == [1, 0]
    # top_p 0.6 on row 0: probs ~ [.02,.48,.07,.43] -> {1, 3} survive (1 alone has < 0.6)
    seen = {sample_next(logits, 1.0, 0.6, g)[0].item() for _ in range(200)}
    assert seen == {1, 3}


def test_cut_at_stop():
    assert cut_at_stop("abc\nQ: next", ["\nQ:"]) == ("abc", True)
    assert cut_at_stop("a Problem: b\nQ:", ["\nQ:", "Problem:"]) == ("a ", True)
    assert cut_at_stop("abc", ["x"]) == ("abc", False)
    assert cut_at_stop("abc", None) == ("abc", False)


def test_bad_arguments(model_tok):
    model, tok = model_tok
    engine = make_engine("hf", model, tok)
    with pytest.raises(ValueError, match="top_p"):
        engine.generate(["x"], top_p=0.0)
    with pytest.raises(ValueError, match="n must be"):
        engine.generate(["x"], n=0)
    with pytest.raises(TypeError, match="list of strings"):
        engine.generate("x")
    with pytest.raises(ValueError, match="unknown generation engine"):
        make_engine("nope", model, tok)
    assert engine.generate([]) == []


def test_vllm_missing_is_a_clear_error():
    pytest.importorskip("torch")
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="needs the vllm package"):
            make_engine("vllm", "some/path")
    else:  # pragma: no cover - only where vllm is installed
        pytest.skip("vllm is installed")
