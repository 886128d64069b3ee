"""Build, load and save Hugging Face models and tokenizers; train the tiny tokenizer; the chat format.

The tiny default is a transformers Llama (or Qwen2) decoder — RMSNorm, SwiGLU, RoPE — so every
checkpoint seekmath writes loads with `AutoModelForCausalLM` / `AutoTokenizer`, and any real HF
checkpoint can take its place: a local folder (loaded with `local_files_only=True`), a hub id (passed
on to transformers as is; whether the hub is reachable is the user's choice, e.g. HF_HUB_OFFLINE=1),
or a `.gguf` file (dequantised on load; `seekmath model convert` does it once and saves a folder).

Prompt formats (`model.prompt_format`): every zero-shot prompt of SFT, RL and evaluation is built by
`render_prompt` / `render_example`, so a model is trained and evaluated on one layout.
"""

from __future__ import annotations

import logging
import re
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


PROMPT_FORMATS = ("auto", "deepseek", "chat_template")


def chat_prompt(question: str) -> str:
    """The zero-shot prompt text after BOS: `User: {q}\\n\\nAssistant:` (the answer starts with a space)."""
    return f"User: {question}\n\nAssistant:"


def chat_example(question: str, answer: str) -> tuple[str, str]:
    """(prompt, completion) for SFT; the completion carries the leading space, the EOS is added by the trainer."""
    return chat_prompt(question), f" {answer}"


def _resolve_format(tokenizer, fmt: str) -> str:
    from seekmath.config import ConfigError

    if fmt not in PROMPT_FORMATS:
        raise ConfigError(f"model.prompt_format: unknown format {fmt!r}; expected one of {', '.join(PROMPT_FORMATS)}")
    has_template = bool(getattr(tokenizer, "chat_template", None))
    if fmt == "chat_template" and not has_template:
        raise ConfigError("model.prompt_format: 'chat_template' but the tokenizer has no chat template "
                          "(use 'deepseek' or 'auto')")
    if fmt == "auto":
        return "chat_template" if has_template else "deepseek"
    return fmt


def adds_bos(tokenizer) -> bool:
    """Whether encoding a string (add_special_tokens=True) already prepends the tokenizer's BOS."""
    bos = getattr(tokenizer, "bos_token_id", None)
    if bos is None:
        return False
    ids = tokenizer("x", add_special_tokens=True)["input_ids"]
    return bool(ids) and ids[0] == bos and ids != tokenizer("x", add_special_tokens=False)["input_ids"]


def _template_text(tokenizer, messages: list[dict], generation_prompt: bool) -> str:
    """The chat template's text, without a leading BOS when encoding adds one anyway (no BOS twice:
    `tokenizer(text)` then gives exactly the ids `apply_chat_template(..., tokenize=True)` gives)."""
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)
    bos = getattr(tokenizer, "bos_token", None)
    if bos and text.startswith(bos) and adds_bos(tokenizer):
        text = text[len(bos):]
    return text


def render_prompt(tokenizer, user_text: str, fmt: str = "auto") -> str:
    """The zero-shot prompt string for one user turn (engines encode it with add_special_tokens=True).

    fmt: "deepseek" = `User: {user_text}\n\nAssistant:` (spec §2.2); "chat_template" = the tokenizer's
    own template with the generation prompt; "auto" = the template when the tokenizer has one, else
    DeepSeek's layout. The paper's CoT/tool instructions are part of `user_text` (callers append them)."""
    if _resolve_format(tokenizer, fmt) == "deepseek":
        return chat_prompt(user_text)
    return _template_text(tokenizer, [{"role": "user", "content": user_text}], True)


def render_example(tokenizer, user_text: str, answer: str, fmt: str = "auto") -> tuple[str, str]:
    """(prompt, completion) of one SFT example: the prompt exactly as `render_prompt` renders it and the
    completion = the assistant turn (the answer and the template's end-of-turn token, not the separator
    that follows it). The SFT loss covers the completion's tokens; the trainer adds EOS if it is missing."""
    prompt = render_prompt(tokenizer, user_text, fmt)
    if _resolve_format(tokenizer, fmt) == "deepseek":
        return prompt, f" {answer}"
    full = _template_text(tokenizer, [{"role": "user", "content": user_text}, {"role": "assistant", "content": answer}],
                          False)
    if not full.startswith(prompt):
        raise ValueError("the chat template renders the conversation with another prefix than the generation prompt; "
                         "use model.prompt_format=deepseek for this tokenizer")
    completion = full[len(prompt):]
    start = completion.find(answer)
    eos = getattr(tokenizer, "eos_token", None)
    end = completion.find(eos, start + len(answer)) if eos and start >= 0 else -1
    completion = completion[: end + len(eos)] if end >= 0 else completion.rstrip()
    return prompt, completion


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


def _source(name_or_path: str | Path) -> tuple[str, dict]:
    """from_pretrained's (name, kwargs) for a folder, a .gguf file or a hub id."""
    p = Path(name_or_path).expanduser()
    if p.suffix == ".gguf" and p.is_file():
        return str(p.parent), {"gguf_file": p.name, "local_files_only": True}
    return (str(p), {"local_files_only": True}) if p.is_dir() else (str(name_or_path), {})


def load_tokenizer(name_or_path: str | Path):
    from transformers import AutoTokenizer

    name, kw = _source(name_or_path)
    tok = AutoTokenizer.from_pretrained(name, **kw)
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

    name, kw = _source(name_or_path)
    model = AutoModelForCausalLM.from_pretrained(name, dtype=pick_dtype(dtype), **kw, **kwargs)
    if "gguf_file" in kw:
        _drop_gguf_quantization(model)
        model.config._name_or_path = str(Path(name_or_path).expanduser())  # the file, not its folder
    return model.to(pick_device(device))


def _drop_gguf_quantization(model) -> None:
    """A GGUF checkpoint is dequantised on load; what remains of its quantisation config would make
    save_pretrained refuse (and reloads try to find the .gguf again): the weights are plain tensors now."""
    model.hf_quantizer = None
    model.is_quantized = False
    for cfg in (model.config, getattr(model, "generation_config", None)):
        if cfg is not None and hasattr(cfg, "quantization_config"):
            delattr(cfg, "quantization_config")


def convert_gguf(gguf_file: str | Path, out_dir: str | Path, dtype: str = "float32") -> Path:
    """A .gguf file -> a normal HF folder (safetensors, tokenizer with its chat template), dequantised."""
    check_model_ref(gguf_file)
    if Path(gguf_file).suffix != ".gguf":
        from seekmath.config import ConfigError

        raise ConfigError(f"model convert: {gguf_file} is not a .gguf file")
    tok = load_tokenizer(gguf_file)
    model = load_model(gguf_file, dtype=dtype, device="cpu")
    return save_pretrained(model, tok, out_dir)


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def check_model_ref(name_or_path: str | Path) -> None:
    """One clear line (ConfigError) when `name_or_path` is neither a model folder, a .gguf file nor a
    hub id — before anything heavy is loaded. A hub id is not looked up here (the hub may be offline)."""
    from seekmath.config import ConfigError

    text = str(name_or_path)
    p = Path(text).expanduser()
    expected = "not a model folder (with config.json), a .gguf file or a hub id like org/name"
    if not text:
        raise ConfigError(f"model: no model given; {expected}")
    if p.is_dir():
        if not (p / "config.json").is_file():
            raise ConfigError(f"model {text}: folder has no config.json; {expected}")
        return
    if p.is_file():
        if p.suffix != ".gguf":
            raise ConfigError(f"model {text}: is a file but not a .gguf file; {expected}")
        return
    looks_local = (text.startswith((".", "/", "~")) or text.endswith(".gguf") or text.count("/") > 1
                   or not _HUB_ID.match(text) or ("/" in text and Path(text.split("/")[0]).is_dir()))
    if looks_local:
        raise ConfigError(f"model {text}: no such file or folder; {expected}")


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
