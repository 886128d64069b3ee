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
