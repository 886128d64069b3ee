import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from seekmath.config import ModelConfig
from seekmath.models import (
    CHAT_TEMPLATE,
    build_model,
    chat_example,
    chat_prompt,
    count_parameters,
    load_model,
    load_tokenizer,
    save_pretrained,
    train_tokenizer,
)

TEXTS = ["Mia has 12 apples. 12 + 7 = 19. The answer is \\boxed{19}.", "Überall 3,5 € — ünïcödé ✓", "x^2 + y^2 = z^2"] * 50


def test_tokenizer_roundtrip_digits_and_specials():
    tok = train_tokenizer(TEXTS, vocab_size=300)
    for text in TEXTS[:3]:
        ids = tok(text).input_ids
        assert ids[0] == tok.bos_token_id  # BOS prepended like DeepSeekMath's tokenizer
        assert tok.decode(ids, skip_special_tokens=True) == text
    # digits are single tokens, so "1234" is 4 tokens
    assert len(tok("1234", add_special_tokens=False).input_ids) == 4
    assert {tok.pad_token, tok.bos_token, tok.eos_token} == {"<|pad|>", "<|bos|>", "<|eos|>"}
    assert tok.padding_side == "left"


def test_chat_template_renders_deepseekmath_format():
    tok = train_tokenizer(TEXTS, vocab_size=300)
    text = tok.apply_chat_template(
        [{"role": "user", "content": "What is 2+3?"}, {"role": "assistant", "content": "5"}], tokenize=False
    )
    assert text == "<|bos|>User: What is 2+3?\n\nAssistant: 5<|eos|>"
    gen = tok.apply_chat_template([{"role": "user", "content": "Q"}], tokenize=False, add_generation_prompt=True)
    assert gen == "<|bos|>User: Q\n\nAssistant:"
    assert chat_prompt("Q") == "User: Q\n\nAssistant:"
    assert chat_example("Q", "A") == ("User: Q\n\nAssistant:", " A")
    assert tok.chat_template == CHAT_TEMPLATE


def test_tiny_model_save_reload_generate(tmp_path):
    tok = train_tokenizer(TEXTS, vocab_size=300)
    cfg = ModelConfig(hidden_size=64, num_layers=2, num_heads=2, num_kv_heads=2, intermediate_size=172)
    model = build_model(cfg, tok, seed=0)
    assert type(model).__name__ == "LlamaForCausalLM"
    assert 1e4 < count_parameters(model) < 1e6
    save_pretrained(model, tok, tmp_path / "m")
    assert (tmp_path / "m" / "model.safetensors").is_file()
    m2 = AutoModelForCausalLM.from_pretrained(tmp_path / "m", local_files_only=True)
    t2 = AutoTokenizer.from_pretrained(tmp_path / "m", local_files_only=True)
    for a, b in zip(model.state_dict().values(), m2.state_dict().values()):
        assert torch.equal(a, b)
    enc = t2(["Mia has 12"], return_tensors="pt")
    out = m2.generate(**enc, max_new_tokens=6, do_sample=False, pad_token_id=t2.pad_token_id)
    assert out.shape == (1, enc.input_ids.shape[1] + 6)
    # the seekmath loaders give the same model
    m3, t3 = load_model(tmp_path / "m", device="cpu"), load_tokenizer(tmp_path / "m")
    assert torch.equal(m3(**enc).logits, m2(**enc).logits) and t3.pad_token == "<|pad|>"


def test_qwen2_arch_and_seed_determinism():
    tok = train_tokenizer(TEXTS, vocab_size=300)
    cfg = ModelConfig(arch="qwen2", hidden_size=64, num_layers=1, num_heads=2, num_kv_heads=1, intermediate_size=128)
    a, b = build_model(cfg, tok, seed=3), build_model(cfg, tok, seed=3)
    assert type(a).__name__ == "Qwen2ForCausalLM"
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))


# ----------------------------------------------------------------------------------------------
# Errors a user can act on: one line naming the thing, before anything heavy loads

import pytest  # noqa: E402

from seekmath.cli import main as seekmath_main  # noqa: E402
from seekmath.config import ConfigError  # noqa: E402
from seekmath.models import check_model_ref  # noqa: E402


def test_check_model_ref(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    (tmp_path / "empty").mkdir()
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "config.json").write_text("{}")
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    (tmp_path / "notes.txt").write_text("x")
    for good in ("ok", str(tmp_path / "m.gguf"), "Qwen/Qwen2.5-Math-1.5B-Instruct", "gpt2"):
        check_model_ref(good)  # folders, GGUF files and hub ids pass (the hub is not contacted)
    for bad, why in [("runs/tiny/sft/finall", "no such file or folder"), ("runs/sft", "no such file or folder"),
                     ("./missing", "no such file or folder"), ("empty", "no config.json"),
                     ("notes.txt", "not a .gguf file"), ("x.gguf", "no such file")]:
        with pytest.raises(ConfigError, match=why) as e:
            check_model_ref(bad)
        assert bad in str(e.value) and "\n" not in str(e.value)


def _one_line_error(capsys, argv, *must):
    assert seekmath_main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and all(m in err[0] for m in must), err


def test_stage_errors_are_one_line(tmp_path, capsys):
    _one_line_error(capsys, ["eval", "--model", str(tmp_path / "nope"), "--bench", "gsm8k", "--out", str(tmp_path / "e")],
                    "nope", "no such file or folder")
    _one_line_error(capsys, ["rl", "--model", str(tmp_path / "nope"), "--out", str(tmp_path / "r"), "--config", "smoke"],
                    "nope", "not a model folder")
    _one_line_error(capsys, ["sft", "--model", str(tmp_path / "nope"), "--out", str(tmp_path / "s"), "--config", "smoke"],
                    "nope", "not a model folder")
    # a benchmark name is checked before the model loads: this model folder would fail to load
    bad_model = tmp_path / "broken"
    bad_model.mkdir()
    (bad_model / "config.json").write_text("not json")
    _one_line_error(capsys, ["eval", "--model", str(bad_model), "--bench", "gsm9k", "--out", str(tmp_path / "e2")],
                    "unknown benchmark 'gsm9k'", "did you mean 'gsm8k'")
    # corpus build: a file named like a WARC that is not one, and a missing input
    fake = tmp_path / "crawl.warc.gz"
    fake.write_bytes(b"<html>not a warc</html>")
    _one_line_error(capsys, ["corpus", "build", "--input", str(fake), "--out", str(tmp_path / "c")], "crawl.warc.gz",
                    "not a gzip file")
    plain = tmp_path / "crawl.warc"
    plain.write_text("<html>hello</html>")
    _one_line_error(capsys, ["corpus", "build", "--input", str(plain), "--out", str(tmp_path / "c")], "not a WARC file")
    _one_line_error(capsys, ["corpus", "build", "--input", str(tmp_path / "none.warc"), "--out", str(tmp_path / "c")],
                    "none.warc", "not found")
