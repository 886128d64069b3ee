"""Build, load and save Hugging Face models and tokenizers; train the tiny tokenizer; the chat format.

The tiny default is a transformers Llama (or Qwen2) decoder — RMSNorm, SwiGLU, RoPE — so every
checkpoint seekmath writes loads with `AutoModelForCausalLM` / `AutoTokenizer`, and any real HF
checkpoint can take its place. Nothing here reaches a hub: local folders are loaded with
`local_files_only=True`; a model id that is not a folder is passed on to transformers as is.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Iterable

import torch

from seekmath.runs import atomic_dir

log = logging.getLogger("seekmath.models")

PAD, BOS, EOS = "<|pad|>", "<|bos|>", "<|eos|>"

# DeepSeekMath's instruction suffixes (spec §2.2); the evaluation and SFT stages append them.
COT_SUFFIX = "\nPlease reason step by step, and put your final answer within \\boxed{}."
TOOL_SUFFIX = (
    "\nPlease integrate natural language reasoning with programs to solve the problem above, "
    "and put your final answer within \\boxed{}."
)
COT_SUFFIX_ZH = "\n请通过逐步推理来解答问题，并把最终答案放置于\\boxed{}中。"
TOOL_SUFFIX_ZH = "\n请结合自然语言和Python程序语言来解答问题，并把最终答案放置于\\boxed{}中。"

# DeepSeekMath's chat layout: "User: {q}\n\nAssistant: {a}<eos>User: ..."; BOS comes from the tokenizer.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{ 'User: ' + message['content'] + '\n\n' }}"
    "{% elif message['role'] == 'assistant' %}{{ 'Assistant: ' + message['content'] + eos_token }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)


def chat_prompt(question: str) -> str:
    """The zero-shot prompt text after BOS: `User: {q}\\n\\nAssistant:` (the answer starts with a space)."""
    return f"User: {question}\n\nAssistant:"


def chat_example(question: str, answer: str) -> tuple[str, str]:
    """(prompt, completion) for SFT; the completion carries the leading space, the EOS is added by the trainer."""
    return chat_prompt(question), f" {answer}"


# ----------------------------------------------------------------------------------------------
# Tokenizer


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1024):
    """Train a byte-level BPE with single-digit tokens and wrap it as a HF fast tokenizer.

    Digits are split one per token (as DeepSeek's tokenizer does), so arithmetic is learnable by a
    tiny model. BOS is prepended by the post-processor, like DeepSeekMath's tokenizer.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, BOS, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    bos_id = tok.token_to_id(BOS)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, bos_id)]
    )
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=PAD, padding_side="left"
    )
    hf.chat_template = CHAT_TEMPLATE
    hf.model_max_length = 1 << 20
    return hf


def load_tokenizer(name_or_path: str | Path):
    from transformers import AutoTokenizer

    local = Path(name_or_path).is_dir()
    tok = AutoTokenizer.from_pretrained(str(name_or_path), local_files_only=local)
    if tok.pad_token is None:  # many base checkpoints have none; generation needs one
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"
    if not getattr(tok, "chat_template", None):
        tok.chat_template = CHAT_TEMPLATE
    return tok


# ----------------------------------------------------------------------------------------------
# Model


def pick_device(spec: str = "auto") -> torch.device:
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(spec)


def pick_dtype(name: str) -> torch.dtype:
    try:
        return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]
    except KeyError:
        raise ValueError(f"model.dtype: unknown dtype {name!r}; expected float32, bfloat16 or float16") from None


def build_model(model_cfg, tokenizer, seed: int = 0):
    """A freshly initialised decoder of the configured shape, sized to the tokenizer."""
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    common = dict(
        vocab_size=len(tokenizer),
        hidden_size=model_cfg.hidden_size,
        intermediate_size=model_cfg.intermediate_size,
        num_hidden_layers=model_cfg.num_layers,
        num_attention_heads=model_cfg.num_heads,
        num_key_value_heads=model_cfg.num_kv_heads,
        max_position_embeddings=model_cfg.max_position_embeddings,
        rope_theta=model_cfg.rope_theta,
        rms_norm_eps=1e-6,
        tie_word_embeddings=model_cfg.tie_word_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    if model_cfg.arch == "llama":
        config, cls = LlamaConfig(**common), LlamaForCausalLM
    elif model_cfg.arch == "qwen2":
        config, cls = Qwen2Config(**common), Qwen2ForCausalLM
    else:
        raise ValueError(f"model.arch: unknown architecture {model_cfg.arch!r}; expected llama or qwen2")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = cls(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    return model


def load_model(name_or_path: str | Path, dtype: str = "float32", device: str = "auto", **kwargs):
    """Load any causal LM (HF id or local folder) with AutoModelForCausalLM."""
    from transformers import AutoModelForCausalLM

    local = Path(name_or_path).is_dir()
    model = AutoModelForCausalLM.from_pretrained(
        str(name_or_path), dtype=pick_dtype(dtype), local_files_only=local, **kwargs
    )
    return model.to(pick_device(device))


def save_pretrained(model, tokenizer, out_dir: str | Path) -> Path:
    """save_pretrained (safetensors) of model and tokenizer, atomically: the folder appears whole."""
    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        if tokenizer is not None:
            tokenizer.save_pretrained(tmp)
    return out_dir


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


def is_checkpoint(path: str | Path) -> bool:
    p = Path(path)
    return p.is_dir() and (p / "config.json").is_file()


def env_offline() -> None:
    """Tests and the tiny recipe never reach a hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
