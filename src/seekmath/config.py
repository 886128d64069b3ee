"""Typed configs: YAML files, `base:` inheritance, dotted CLI overrides, errors that name the bad key.

A config is a tree of dataclasses (`Config` below). Each stage owns its section's dataclass in its own
package (`corpus/settings.py`, `train/settings.py`, `rl/settings.py`, `evaluate/settings.py`); this
module only knows how to fill any dataclass tree from plain data and to complain precisely.

    cfg = load_config("tiny", overrides=["rl.beta=0.04", "model.hidden_size=128"])

YAML files live in `configs/` (shipped inside the package as `seekmath/configs/`). A file may start
with `base: NAME` to inherit another config and change only what it lists.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from seekmath.corpus.settings import CorpusConfig
from seekmath.evaluate.settings import EvalConfig
from seekmath.rl.settings import RLConfig
from seekmath.train.settings import PretrainConfig, SFTConfig

CONFIG_DIR = Path(__file__).resolve().parent / "configs"


class ConfigError(ValueError):
    """A config that cannot be used; the message names the key and what was wrong."""


@dataclass
class ModelConfig:
    """The policy model. Empty `name_or_path` builds a tiny decoder from the fields below."""

    name_or_path: str = ""  # HF model id or local checkpoint folder; "" = build the tiny model
    arch: str = "llama"  # llama | qwen2 (both: RMSNorm, SwiGLU, RoPE)
    hidden_size: int = 256
    num_layers: int = 4
    num_heads: int = 4
    num_kv_heads: int = 4
    intermediate_size: int = 688  # SwiGLU width, ~8/3 x hidden as in Llama
    max_position_embeddings: int = 512
    rope_theta: float = 10000.0
    tie_word_embeddings: bool = True
    dtype: str = "float32"  # float32 | bfloat16 | float16
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    # zero-shot prompts of SFT, RL and eval: auto (the tokenizer's chat template, else DeepSeek's
    # "User: ...\n\nAssistant:") | deepseek | chat_template (models.render_prompt)
    prompt_format: str = "auto"


@dataclass
class TokenizerConfig:
    """Byte-level BPE trained locally for the tiny model (ignored when loading a real checkpoint)."""

    vocab_size: int = 1024
    train_documents: int = 4000  # generated documents the BPE is trained on


@dataclass
class TasksConfig:
    """The `synthetic` task: generated multi-step arithmetic word problems (see tasks/synthetic.py)."""

    seed: int = 0
    min_steps: int = 2
    max_steps: int = 3
    max_value: int = 60  # operands of + and - are below this
    max_factor: int = 9  # multipliers and divisors are at most this
    operations: list[str] = field(default_factory=lambda: ["add", "sub", "mul", "div"])
    test_fraction: float = 0.1  # share of the problem space reserved for the report split ("test")
    tune_fraction: float = 0.1  # share reserved for the tuning split (RL in-loop evaluation, settings sweeps)
    num_train: int = 20000
    num_test: int = 500  # report split
    num_tune: int = 500  # tuning split


@dataclass
class RunConfig:
    """`seekmath run`: which stages, where, with which benchmark files."""

    name: str = "tiny"
    stages: list[str] = field(default_factory=lambda: ["crawl", "corpus", "pretrain", "sft", "rl", "eval"])
    seed: int = 0
    eval_benches: list[str] = field(default_factory=lambda: ["synthetic"])
    # real benchmarks evaluated too (greedy, first `real_bench_limit` problems) when their files are found
    real_benches: list[str] = field(default_factory=lambda: ["gsm8k", "math500"])
    real_bench_limit: int = 100
    corpus_share: float = 0.8  # share of pretraining tokens from the mined corpus; the rest is generated prose
    threads: int = 0  # torch threads; 0 = all cores
    # auto | always | never: evaluate checkpoints in a second process, while RL trains and in the eval stage
    # (auto: CPU-only, when the cores hold it; recipe.parallel_eval)
    parallel_eval: str = "auto"
    rl_processes: int = 0  # processes of the RL stage (torchrun, gloo on CPU); 0 = auto (recipe.rl_processes)
    train_processes: int = 0  # processes of the pretrain and SFT stages (torchrun, gloo on CPU); 0 = auto (recipe.train_processes)
    mode: str = "recipe"  # recipe | findings (the stages up to sft, then the unified-paradigm study: findings/)


def _default_variants() -> dict[str, list[str]]:
    return {
        "rft": ["rl.algorithm=rft", "rl.reward=rule"],
        "online_rft": ["rl.algorithm=online_rft", "rl.reward=rule"],
        "grpo_os": ["rl.algorithm=grpo", "rl.reward=rule"],
        "grpo_ps": ["rl.algorithm=grpo", "rl.reward=prm"],  # PRM on Math-Shepherd labels
        "grpo_ps_exact": ["rl.algorithm=grpo", "rl.reward=prm", "rl.rm.step_labels=exact"],  # PRM on exact labels
        "iterative_1": ["rl.algorithm=grpo", "rl.reward=orm", "rl.iterations=1"],
        "iterative_2": ["rl.algorithm=grpo", "rl.reward=orm", "rl.iterations=2"],
    }


@dataclass
class FindingsConfig:
    """The unified-paradigm study (findings/): variants = name -> rl overrides, each run with every seed."""

    variants: dict[str, list[str]] = field(default_factory=_default_variants)
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    steps: int = 30  # TOTAL RL steps of every variant; iterative ones split them over rl.iterations (equal total steps)
    cpu_budget_s: float = 0.0  # the same CPU-seconds cap (rl.time_budget_s) for every variant; 0 = steps only
    eval_every: int = 5  # tuning-split greedy accuracy every N steps (the curves)
    report_problems: int = 300  # report-split problems every final policy is scored on (greedy): the orderings
    label_budget: int = 0  # responses labelled per reward-model round (orm/prm variants); 0 = rl.rm_train_prompts x rl.rm_samples_per_prompt
    k: list[int] = field(default_factory=lambda: [1, 2, 4, 8, 16])  # maj@k / pass@k before and after RL
    k_problems: int = 100  # report-split problems of the maj@k / pass@k evaluation
    k_variant: str = "grpo_os"  # "after RL" of the maj@k / pass@k comparison (every seed)
    workers: int = 1  # runs trained at once (separate processes, one torch thread each)


@dataclass
class Config:
    run: RunConfig = field(default_factory=RunConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    tasks: TasksConfig = field(default_factory=TasksConfig)
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    sft: SFTConfig = field(default_factory=SFTConfig)
    rl: RLConfig = field(default_factory=RLConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    findings: FindingsConfig = field(default_factory=FindingsConfig)


# ----------------------------------------------------------------------------------------------
# Building dataclasses from plain data, with type checks


_FLOAT_LITERAL = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """Check `value` against the annotation `tp`; return it (ints widen to float). Raise ConfigError."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key)
            except ConfigError as e:
                errors.append(e)
        raise ConfigError(f"{key}: value {value!r} has the wrong type; expected {_type_name(tp)}")
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: value {value!r} has the wrong type; expected a mapping (section)")
        return from_dict(tp, value, prefix=key)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{key}: value {value!r} has the wrong type; expected a list")
        (item_tp,) = typing.get_args(tp) or (Any,)
        return [_coerce(v, item_tp, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: value {value!r} has the wrong type; expected a mapping")
        _, val_tp = typing.get_args(tp) or (Any, Any)
        return {k: _coerce(v, val_tp, f"{key}.{k}") for k, v in value.items()}
    if tp is float:
        if isinstance(value, str) and _FLOAT_LITERAL.fullmatch(value.strip()):
            return float(value)  # YAML 1.1 reads `3e-3` (no dot) as a string; it is a float to a person
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: value {value!r} has the wrong type; expected float")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: value {value!r} has the wrong type; expected int")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: value {value!r} has the wrong type; expected bool (true/false)")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: value {value!r} has the wrong type; expected str")
        return value
    return value


def _unknown_key(key: str, valid: list[str], prefix: str) -> ConfigError:
    full = f"{prefix}.{key}" if prefix else key
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    hint = f"; did you mean '{(prefix + '.') if prefix else ''}{close[0]}'?" if close else ""
    return ConfigError(f"unknown config key '{full}'{hint} (valid here: {', '.join(valid)})")


def from_dict(cls: type, data: dict, prefix: str = "") -> Any:
    """Build dataclass `cls` from `data`, starting from its defaults; every key is checked."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in data.items():
        if key not in hints:
            raise _unknown_key(key, names, prefix)
        kwargs[key] = _coerce(value, hints[key], f"{prefix}.{key}" if prefix else key)
    return cls(**kwargs)


def to_dict(cfg: Any) -> dict:
    return dataclasses.asdict(cfg)


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


# ----------------------------------------------------------------------------------------------
# Files and overrides


def config_names() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def resolve_config_path(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or os.sep in name_or_path:
        if not p.is_file():
            raise ConfigError(f"config file not found: {name_or_path}")
        return p
    p = CONFIG_DIR / f"{name_or_path}.yaml"
    if not p.is_file():
        close = difflib.get_close_matches(name_or_path, config_names(), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ConfigError(f"unknown config '{name_or_path}'{hint} (known: {', '.join(config_names())})")
    return p


def _read_yaml_tree(name_or_path: str, seen: tuple = ()) -> dict:
    path = resolve_config_path(name_or_path)
    if str(path) in seen:
        raise ConfigError(f"config inheritance loop: {' -> '.join(seen + (str(path),))}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    base = data.pop("base", None)
    if base:
        base_path = str(path.parent / f"{base}.yaml") if (path.parent / f"{base}.yaml").is_file() else base
        data = _deep_merge(_read_yaml_tree(base_path, seen + (str(path),)), data)
    return data


def parse_override(text: str) -> tuple[list[str], Any]:
    """`rl.beta=0.04` -> (["rl", "beta"], 0.04). The value is read as YAML (numbers, lists, bools)."""
    if "=" not in text:
        raise ConfigError(f"override '{text}' must look like section.key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"override '{text}' has an empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.split("."), value


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    data = dict(data)
    for text in overrides:
        parts, value = parse_override(text)
        node = data
        for part in parts[:-1]:
            node[part] = dict(node.get(part) or {})
            node = node[part]
        node[parts[-1]] = value
    return data


def load_config(name_or_path: str | None = "tiny", overrides: list[str] | None = None) -> Config:
    data = _read_yaml_tree(name_or_path) if name_or_path else {}
    data = apply_overrides(data, overrides or [])
    return from_dict(Config, data)


def dump_config(cfg: Any) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False, allow_unicode=True)
