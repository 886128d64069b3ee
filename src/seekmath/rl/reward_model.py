"""Reward models for GRPO: outcome (ORM) and process (PRM) scorers on a causal-LM backbone [P §4.1-4.2].

DeepSeekMath's reward model is initialised from the base model and trained (lr 2e-5 at 7B) on data
built "following Math-Shepherd" (spec §2.3); its head and loss are unspecified. Choices made here:

- Architecture: any HF causal LM's decoder (`backbone.base_model`, the transformer without its LM
  head) + `nn.Linear(hidden, 1)` on the last hidden state. The score of a position is a logit; scores
  returned to RL are sigmoid probabilities ("probability that this is / leads to a correct answer").
- kind "outcome": one score per response, read at the EOS token appended after it (the position
  that has seen the whole response). Trained on rule labels (answer correct or not).
- kind "process": one score per reasoning step, read at the token where the step ends
  (`segment.py`); trained on Math-Shepherd step labels. `score_outcomes` of a process RM is the
  score of the last step (under hard estimation the last step's label is exactly final correctness).
- Loss: pointwise binary cross-entropy on the labels, not a pairwise (Bradley-Terry) ranking loss.
  Why: the labels are absolute judgements of single samples (rule correctness; Math-Shepherd's
  "can this prefix still reach the gold answer" estimate, hard 0/1 or soft fraction), not preferences
  between two responses. Pointwise BCE uses every sample — also questions whose samples are all right
  or all wrong, which pairwise losses must drop — accepts soft labels, and yields calibrated
  probabilities comparable across questions; GRPO normalises rewards within the group anyway, so
  the absolute scale costs nothing. Math-Shepherd trains its PRM with the same per-step
  cross-entropy.

Folder format (`save`/`load`, atomic): the backbone via `save_pretrained` (a complete causal LM that
`AutoModelForCausalLM` loads), the tokenizer, `head.safetensors`, `reward_model.json` (kind, step
rule, max_length).

Data: `math_shepherd_labels` (process labels from rollouts of the policy), `RMExample`, and
`ReplayBuffer` / `continue_training` for iterative RL (Algorithm 1: continual RM training on fresh
policy samples with 10% replayed history).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from seekmath.rl.rm_settings import RewardModelConfig
from seekmath.rl.segment import char_spans_to_token_ends, split_steps, step_end_token_indices, step_prefixes

log = logging.getLogger("seekmath.rl.reward_model")

KINDS = ("outcome", "process")
STEP_LABELS = ("math_shepherd", "exact")  # process-label sources (rl.rm.step_labels)
MIN_HELDOUT_POSITIONS = 100  # below this a held-out AUC's interval is wider than about +-0.1
META_FILE = "reward_model.json"
HEAD_FILE = "head.safetensors"


# ----------------------------------------------------------------------------------------------
# Examples


@dataclass
class RMExample:
    """One training example: an outcome `label` and/or per-step `step_labels` (aligned to split_steps)."""

    prompt: str
    response: str
    label: float | None = None
    step_labels: list[float] | None = None
    gold: str | None = None
    id: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @classmethod
    def from_any(cls, x: Any, where: str = "example") -> "RMExample":
        if isinstance(x, RMExample):
            return x
        if not isinstance(x, dict):
            raise TypeError(f"{where}: expected an RMExample or a dict, got {type(x).__name__}")
        missing = [k for k in ("prompt", "response") if k not in x]
        if missing:
            raise ValueError(f"{where}: missing field(s) {', '.join(missing)}")
        unknown = set(x) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        return cls(**x)


def _check_label(v: float, where: str) -> float:
    v = float(v)
    if not (0.0 <= v <= 1.0) or math.isnan(v):
        raise ValueError(f"{where}: label {v} is outside [0, 1]")
    return v


# ----------------------------------------------------------------------------------------------
# Settings resolution


def rm_config(cfg: Any = None) -> RewardModelConfig:
    """A RewardModelConfig from a RewardModelConfig, an RLConfig or a full Config (None = defaults).

    Inside the `rl` section the RL loop's flat keys are authoritative for the settings it shares with
    the RM: rl.rm_lr, rl.rm_epochs, rl.step_rule, rl.rm_replay_ratio, rl.rm_rollouts_per_step,
    rl.rm_samples_per_prompt, rl.seed (and rl.rm.* holds the rest: batch size, max length, ...).
    """
    if cfg is None:
        return RewardModelConfig()
    if isinstance(cfg, RewardModelConfig):
        return cfg
    rl = getattr(cfg, "rl", cfg)
    base = getattr(rl, "rm", None)
    if not isinstance(base, RewardModelConfig):
        base = RewardModelConfig()
    shared = {"lr": "rm_lr", "epochs": "rm_epochs", "step_rule": "step_rule", "replay_ratio": "rm_replay_ratio",
              "rollouts_per_step": "rm_rollouts_per_step", "samples_per_question": "rm_samples_per_prompt", "seed": "seed"}
    default = RewardModelConfig()
    over = {}
    for key, flat in shared.items():
        if hasattr(rl, flat):
            if getattr(base, key) != getattr(default, key) and getattr(base, key) != getattr(rl, flat):
                raise ValueError(f"rl.rm.{key} is set, but the RL loop reads rl.{flat}; set rl.{flat} instead")
            over[key] = getattr(rl, flat)
    return dataclasses.replace(base, **over)


def _validate_cfg(c: RewardModelConfig) -> None:
    if c.kind not in KINDS:
        raise ValueError(f"reward_model.kind: unknown {c.kind!r}; expected outcome or process")
    if c.estimation not in ("hard", "soft"):
        raise ValueError(f"reward_model.estimation: unknown {c.estimation!r}; expected hard or soft")
    if c.step_labels not in STEP_LABELS:
        raise ValueError(f"reward_model.step_labels: unknown {c.step_labels!r}; expected {' or '.join(STEP_LABELS)}")
    if not 0.0 <= c.replay_ratio < 1.0:
        raise ValueError(f"reward_model.replay_ratio must be in [0, 1), got {c.replay_ratio}")
    if not 0.0 <= c.eval_fraction < 1.0:
        raise ValueError(f"reward_model.eval_fraction must be in [0, 1), got {c.eval_fraction}")
    for k in ("batch_size", "max_length", "epochs"):
        if getattr(c, k) < 1:
            raise ValueError(f"reward_model.{k} must be >= 1, got {getattr(c, k)}")
    split_steps("", c.step_rule)  # raises on a bad rule


# ----------------------------------------------------------------------------------------------
# The model


class RewardModel(nn.Module):
    """Causal-LM backbone + scalar head. kind "outcome" | "process" (see the module doc)."""

    def __init__(self, backbone: nn.Module, tokenizer, kind: str = "outcome", step_rule: str = "lines",
                 max_length: int = 1024, head: nn.Linear | None = None):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"RewardModel: unknown kind {kind!r}; expected outcome or process")
        split_steps("", step_rule)
        self.backbone = backbone
        self.tokenizer = tokenizer
        self.kind = kind
        self.step_rule = step_rule
        self.max_length = max_length
        hidden = _hidden_size(backbone)
        if head is None:
            head = nn.Linear(hidden, 1)
            nn.init.normal_(head.weight, std=1.0 / math.sqrt(hidden + 1))
            nn.init.zeros_(head.bias)
        self.head = head.to(next(backbone.parameters()).device)

    # -- construction / persistence

    @classmethod
    def from_backbone(cls, model_or_path: Any, tokenizer=None, kind: str = "outcome", step_rule: str = "lines",
                      max_length: int = 1024, seed: int = 0, device: str = "cpu") -> "RewardModel":
        """A fresh head on a causal LM (a loaded module — deep-copied, never shared — or a checkpoint path,
        loaded in fp32 on `device`: the RL loop passes the policy's device)."""
        from seekmath.models import load_model, load_tokenizer

        if isinstance(model_or_path, RewardModel):
            return model_or_path
        if isinstance(model_or_path, (str, Path)):
            path = Path(model_or_path)
            if _rm_meta_path(path) is not None:
                return cls.load(path, device=device)
            backbone = load_model(path, device=device)
            tokenizer = tokenizer or load_tokenizer(path)
        else:
            backbone = copy.deepcopy(model_or_path)
        if tokenizer is None:
            raise ValueError("RewardModel.from_backbone: a tokenizer is needed with an in-memory model")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            rm = cls(backbone, tokenizer, kind, step_rule, max_length)
        return rm

    def save(self, out_dir: str | Path) -> Path:
        """Atomic folder: backbone (save_pretrained), tokenizer, head.safetensors, reward_model.json."""
        from safetensors.torch import save_file

        from seekmath.runs import atomic_dir

        out_dir = Path(out_dir)
        with atomic_dir(out_dir) as tmp:
            self.backbone.save_pretrained(tmp, safe_serialization=True)
            self.tokenizer.save_pretrained(tmp)
            save_file({k: v.detach().cpu().contiguous() for k, v in self.head.state_dict().items()}, str(tmp / HEAD_FILE))
            meta = {"kind": self.kind, "step_rule": self.step_rule, "max_length": self.max_length,
                    "hidden_size": self.head.in_features, "format": "seekmath-reward-model-1"}
            (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        return out_dir

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> "RewardModel":
        """Load a folder written by `save` (or a training run folder holding it in `final/`)."""
        from safetensors.torch import load_file

        from seekmath.models import load_model, load_tokenizer

        meta_path = _rm_meta_path(Path(path))
        if meta_path is None:
            raise FileNotFoundError(f"{path}: not a reward-model folder (no {META_FILE} here or in final/)")
        folder = meta_path.parent
        meta = json.loads(meta_path.read_text())
        backbone = load_model(folder, device=device)
        tok = load_tokenizer(folder)
        head = nn.Linear(meta["hidden_size"], 1)
        head.load_state_dict(load_file(str(folder / HEAD_FILE)))
        return cls(backbone, tok, meta["kind"], meta["step_rule"], meta.get("max_length", 1024), head=head)

    # -- forward

    @property
    def device(self) -> torch.device:
        return next(self.backbone.parameters()).device

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Score logits at every position, [B, T] (right padding expected)."""
        decoder = getattr(self.backbone, "base_model", None)
        if decoder is not None and decoder is not self.backbone:
            hidden = decoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        else:  # a model without a separate decoder: ask for hidden states
            hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True).hidden_states[-1]
        return self.head(hidden.to(self.head.weight.dtype)).squeeze(-1)

    def encode(self, prompt: str, response: str, rule: str | None = None) -> tuple[list[int], int, list[int]]:
        """(ids, outcome position, step-end positions) for prompt + response + EOS.

        The prompt is tokenised with BOS, the response separately without special tokens (as the
        policy generated it after the prompt); steps map to tokens through the response's offsets.
        """
        tok = self.tokenizer
        p_ids = tok(prompt)["input_ids"]
        enc = tok(response, add_special_tokens=False, return_offsets_mapping=True)
        r_ids = list(enc["input_ids"])
        ids = list(p_ids) + r_ids + [tok.eos_token_id]
        spans = split_steps(response, rule or self.step_rule)
        ends = char_spans_to_token_ends([tuple(o) for o in enc["offset_mapping"]], spans) if spans else []
        return ids, len(ids) - 1, [len(p_ids) + e for e in ends]

    def step_end_tokens(self, prompt_ids: Sequence[int], response_ids: Sequence[int], response_text: str,
                        rule: str | None = None, *, absolute: bool = False) -> list[int]:
        """Token index where each step of `response_text` ends — an index into `response_ids` (the
        generated tokens), or into prompt_ids + response_ids with absolute=True. See segment.py."""
        ends = step_end_token_indices(self.tokenizer, response_ids, response_text, rule or self.step_rule)
        return [len(prompt_ids) + e for e in ends] if absolute else ends

    def _truncate(self, ids: list[int], positions: list[int]) -> tuple[list[int], list[int]]:
        """Keep the last max_length tokens (scores sit at the end); positions cut away become -1."""
        cut = max(0, len(ids) - self.max_length)
        return ids[cut:], [p - cut if p - cut >= 0 else -1 for p in positions]

    def _logits_at(self, batch: list[tuple[list[int], list[int]]]) -> list[torch.Tensor]:
        """For each (ids, positions): the logits at those positions (-1 -> nan), one right-padded forward."""
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        T = max(len(ids) for ids, _ in batch)
        input_ids = torch.full((len(batch), T), pad, dtype=torch.long)
        attn = torch.zeros((len(batch), T), dtype=torch.long)
        for i, (ids, _) in enumerate(batch):
            input_ids[i, : len(ids)] = torch.tensor(ids)
            attn[i, : len(ids)] = 1
        logits = self(input_ids.to(self.device), attn.to(self.device))
        out = []
        for i, (_, pos) in enumerate(batch):
            idx = torch.tensor([max(p, 0) for p in pos], dtype=torch.long, device=logits.device)
            vals = logits[i].index_select(0, idx)
            valid = torch.tensor([p >= 0 for p in pos], dtype=torch.bool, device=logits.device)
            out.append(torch.where(valid, vals, torch.full_like(vals, float("nan"))))
        return out

    @torch.no_grad()
    def _score(self, prompts, responses, which: str, rule: str | None, batch_size: int) -> list[list[float]]:
        if len(prompts) != len(responses):
            raise ValueError(f"reward model: {len(prompts)} prompts but {len(responses)} responses")
        was_training = self.training
        self.eval()
        items = []
        for p, r in zip(prompts, responses):
            ids, last, ends = self.encode(p, r, rule)
            if which == "outcome":
                pos = [ends[-1]] if (self.kind == "process" and ends) else [last]
            else:
                pos = ends
            items.append(self._truncate(ids, pos))
        order = sorted(range(len(items)), key=lambda i: len(items[i][0]))  # similar lengths per batch
        scores: list[list[float]] = [[] for _ in items]
        truncated = 0
        for b in range(0, len(order), batch_size):
            chunk = order[b : b + batch_size]
            for i, lg in zip(chunk, self._logits_at([items[i] for i in chunk])):
                probs = torch.sigmoid(lg.float())
                truncated += int(torch.isnan(probs).sum())
                scores[i] = torch.nan_to_num(probs, nan=0.5).tolist()  # cut-away steps: uninformative 0.5
        if truncated:
            log.warning("reward model: %d step(s) beyond max_length=%d scored 0.5", truncated, self.max_length)
        self.train(was_training)
        return scores

    def score_outcomes(self, prompts: Sequence[str], responses: Sequence[str], batch_size: int = 16) -> torch.Tensor:
        """P(correct) per response, Tensor[N] (outcome RM: at the EOS; process RM: its last step's score)."""
        s = self._score(prompts, responses, "outcome", None, batch_size)
        return torch.tensor([x[0] for x in s], dtype=torch.float32)

    def score_steps(self, prompts: Sequence[str], responses: Sequence[str], rule: str | None = None,
                    batch_size: int = 16) -> list[list[float]]:
        """One score per step of each response (steps by `rule`, default the model's); [] for no steps."""
        return self._score(prompts, responses, "steps", rule, batch_size)


def _hidden_size(model: nn.Module) -> int:
    cfg = model.config
    if hasattr(cfg, "get_text_config"):
        cfg = cfg.get_text_config()
    for key in ("hidden_size", "n_embd", "d_model"):
        if getattr(cfg, key, None):
            return int(getattr(cfg, key))
    raise ValueError(f"cannot find the hidden size of {type(model).__name__}")


def _rm_meta_path(path: Path) -> Path | None:
    for cand in (path / META_FILE, path / "final" / META_FILE):
        if cand.is_file():
            return cand
    return None


# ----------------------------------------------------------------------------------------------
# Metrics


def roc_auc(scores: Sequence[float], labels: Sequence[float]) -> float:
    """Area under the ROC curve = P(score of a random positive > score of a random negative), ties 1/2.

    Labels >= 0.5 are positives (soft labels are binarised). NaN when one class is absent.
    Computed from average ranks (Mann-Whitney U).
    """
    pairs = sorted(zip(scores, labels), key=lambda x: x[0])
    n = len(pairs)
    ranks = [0.0] * n
    i = 0
    while i < n:
        j = i
        while j + 1 < n and pairs[j + 1][0] == pairs[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1  # average 1-based rank of the tie block
        i = j + 1
    pos = [r for r, (_, y) in zip(ranks, pairs) if y >= 0.5]
    n_pos, n_neg = len(pos), n - len(pos)
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return (sum(pos) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def auc_interval(auc: float, n_pos: int, n_neg: int, z: float = 1.96) -> tuple[float, float]:
    """95% interval of an AUC from its standard error (Hanley & McNeil 1982, eq. 2), clipped to [0, 1].

    SE^2 = (A(1-A) + (n_pos-1)(Q1-A^2) + (n_neg-1)(Q2-A^2)) / (n_pos n_neg), Q1 = A/(2-A), Q2 = 2A^2/(1+A).
    Says how much an AUC measured on a small held-out set can be trusted (NaN without both classes).
    """
    if n_pos < 1 or n_neg < 1 or math.isnan(auc):
        return (float("nan"), float("nan"))
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    se = math.sqrt(max(var, 0.0))
    return (max(0.0, auc - z * se), min(1.0, auc + z * se))


def classification_metrics(logits: Sequence[float], labels: Sequence[float]) -> dict:
    """BCE loss, accuracy at p = 0.5, AUC with its 95% interval, and the class counts of labelled positions."""
    if not logits:
        return {"n": 0}
    lg = torch.tensor(list(logits), dtype=torch.float64)
    y = torch.tensor(list(labels), dtype=torch.float64)
    auc = roc_auc(lg.tolist(), y.tolist())
    n_pos = int((y >= 0.5).sum())
    return {
        "n": len(y),
        "loss": float(F.binary_cross_entropy_with_logits(lg, y)),
        "accuracy": float(((lg > 0) == (y >= 0.5)).double().mean()),
        "auc": auc,
        "auc_ci95": list(auc_interval(auc, n_pos, len(y) - n_pos)),
        "n_pos": n_pos,
        "n_neg": len(y) - n_pos,
        "positive_share": float((y >= 0.5).double().mean()),
    }


# ----------------------------------------------------------------------------------------------
# Training


def _targets(rm: RewardModel, ex: RMExample, kind: str, where: str, rule: str) -> tuple[list[int], list[int], list[float]]:
    ids, last, ends = rm.encode(ex.prompt, ex.response, rule)
    if kind == "outcome":
        if ex.label is None:
            raise ValueError(f"{where}: an outcome reward model needs 'label'")
        pos, labels = [last], [_check_label(ex.label, where)]
    else:
        if ex.step_labels is None:
            raise ValueError(f"{where}: a process reward model needs 'step_labels'")
        if len(ex.step_labels) != len(ends):
            raise ValueError(f"{where}: {len(ex.step_labels)} step labels but the response has {len(ends)} steps by rule {rule!r}")
        pos, labels = list(ends), [_check_label(v, where) for v in ex.step_labels]
    ids, pos = rm._truncate(ids, pos)
    keep = [k for k, p in enumerate(pos) if p >= 0]
    return ids, [pos[k] for k in keep], [labels[k] for k in keep]


def _batch_loss(rm: RewardModel, batch: list[tuple[list[int], list[int], list[float]]]) -> tuple[torch.Tensor, list[float], list[float]]:
    """Mean BCE over every labelled position of the batch (pointwise; see the module doc)."""
    logits = rm._logits_at([(ids, pos) for ids, pos, _ in batch])
    lg = torch.cat(logits)
    y = torch.tensor([v for _, _, lab in batch for v in lab], dtype=lg.dtype, device=lg.device)
    if lg.numel() == 0:
        return lg.sum() * 0.0, [], []
    return F.binary_cross_entropy_with_logits(lg, y), lg.detach().float().tolist(), y.tolist()


@torch.no_grad()
def evaluate_reward_model(rm: RewardModel, examples: Iterable, kind: str | None = None, batch_size: int = 16) -> dict:
    """Held-out BCE, accuracy and AUC over all labelled positions (steps for a process RM)."""
    kind = kind or rm.kind
    data = [_targets(rm, RMExample.from_any(x, f"example {i}"), kind, f"example {i}", rm.step_rule) for i, x in enumerate(examples)]
    was = rm.training
    rm.eval()
    all_lg, all_y = [], []
    for b in range(0, len(data), batch_size):
        _, lg, y = _batch_loss(rm, data[b : b + batch_size])
        all_lg += lg
        all_y += y
    rm.train(was)
    return classification_metrics(all_lg, all_y)


def split_heldout(examples: list, fraction: float, seed: int) -> tuple[list, list]:
    """Deterministic (train, held-out) split; no held-out set below 10 examples."""
    n_eval = int(round(len(examples) * fraction)) if len(examples) >= 10 else 0
    order = list(range(len(examples)))
    random.Random(f"rm-split/{seed}").shuffle(order)
    held = set(order[:n_eval])
    return [x for i, x in enumerate(examples) if i not in held], [x for i, x in enumerate(examples) if i in held]


def train_reward_model(model_or_path: Any, tokenizer, examples: Sequence, kind: str, out_dir: str | Path,
                       cfg: Any = None, *, eval_examples: Sequence | None = None, resume: bool = False,
                       progress: bool = True, device: str = "cpu") -> RewardModel:
    """Train (or continue training) a reward model with AdamW on pointwise BCE; returns it.

    model_or_path: a RewardModel (trained further in place — iterative RL), a causal LM module (deep-
        copied; e.g. the policy) or a checkpoint path (a causal LM, or a reward-model folder).
    examples: RMExample or dicts; outcome needs `label`, process `step_labels` (one per step).
    cfg: RewardModelConfig, RLConfig or Config (see `rm_config`).
    device: where a model given as a path is loaded (fp32 weights: AdamW needs them).
    eval_examples: the held-out set; None = `cfg.eval_fraction` of `examples`.
    Writes out_dir/metrics.jsonl (loss per step, held-out metrics per epoch), out_dir/summary.json and
    the model to out_dir/final/ (atomic). With resume=True a finished run is loaded instead of retrained
    and an interrupted one continues from its last epoch checkpoint (out_dir/checkpoint/).
    """
    from tqdm.auto import tqdm

    from seekmath.runs import MetricsLogger, atomic_write_json

    c = dataclasses.replace(rm_config(cfg), kind=kind)
    _validate_cfg(c)
    out_dir = Path(out_dir)
    final = out_dir / "final"
    if resume and (out_dir / "summary.json").is_file() and _rm_meta_path(final) is not None:
        log.info("reward model already trained in %s; loading it", final)
        return RewardModel.load(final, device=device)

    exs = [RMExample.from_any(x, f"example {i}") for i, x in enumerate(examples)]
    if not exs:
        raise ValueError("train_reward_model: no examples")
    if eval_examples is None:
        train_ex, held_ex = split_heldout(exs, c.eval_fraction, c.seed)
    else:
        train_ex, held_ex = exs, [RMExample.from_any(x, f"eval example {i}") for i, x in enumerate(eval_examples)]

    rm = RewardModel.from_backbone(model_or_path, tokenizer, kind, c.step_rule, c.max_length, seed=c.seed, device=device)
    if rm.kind != kind:
        raise ValueError(f"train_reward_model: the given reward model is {rm.kind!r}, asked to train {kind!r}")
    rule = rm.step_rule
    train_data = [_targets(rm, x, kind, f"example {i}", rule) for i, x in enumerate(train_ex)]
    opt = torch.optim.AdamW([p for p in rm.parameters() if p.requires_grad], lr=c.lr, weight_decay=c.weight_decay)

    start_epoch, step = 0, 0
    ckpt = out_dir / "checkpoint"
    if resume and _rm_meta_path(ckpt) is not None and (ckpt / "trainer_state.pt").is_file():
        rm = RewardModel.load(ckpt, device=str(rm.device))
        opt = torch.optim.AdamW([p for p in rm.parameters() if p.requires_grad], lr=c.lr, weight_decay=c.weight_decay)
        state = torch.load(ckpt / "trainer_state.pt", weights_only=False)
        opt.load_state_dict(state["optimizer"])
        start_epoch, step = state["epoch"], state["step"]
        log.info("resuming reward-model training at epoch %d (step %d)", start_epoch, step)

    steps_per_epoch = math.ceil(len(train_data) / c.batch_size)
    logger = MetricsLogger(out_dir, tensorboard=False, resume_from_step=step if start_epoch else None)
    t0 = time.time()
    before = evaluate_reward_model(rm, held_ex, kind, c.batch_size) if held_ex else {"n": 0}
    history = []
    rm.train()
    bar = tqdm(total=steps_per_epoch * c.epochs, initial=step, desc=f"reward model ({kind})", unit="step", disable=not progress)
    for epoch in range(start_epoch, c.epochs):
        order = list(range(len(train_data)))
        random.Random(f"rm-epoch/{c.seed}/{epoch}").shuffle(order)
        for b in range(0, len(order), c.batch_size):
            batch = [train_data[i] for i in order[b : b + c.batch_size]]
            loss, lg, y = _batch_loss(rm, batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            gnorm = torch.nn.utils.clip_grad_norm_(rm.parameters(), c.grad_clip) if c.grad_clip > 0 else torch.tensor(0.0)
            opt.step()
            step += 1
            acc = sum((a > 0) == (t >= 0.5) for a, t in zip(lg, y)) / max(len(y), 1)
            logger.log(step, loss=loss.item(), train_accuracy=acc, grad_norm=float(gnorm), epoch=epoch)
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
        held = evaluate_reward_model(rm, held_ex, kind, c.batch_size) if held_ex else {"n": 0}
        history.append(held)
        logger.log(step, **{f"eval_{k}": v for k, v in held.items()}, epoch=epoch + 1)
        if epoch + 1 < c.epochs:  # epoch checkpoint for resume
            rm.save(ckpt)
            from seekmath.runs import atomic_write_bytes
            import io

            buf = io.BytesIO()
            torch.save({"optimizer": opt.state_dict(), "epoch": epoch + 1, "step": step}, buf)
            atomic_write_bytes(ckpt / "trainer_state.pt", buf.getvalue())
    bar.close()
    logger.close()
    rm.eval()
    rm.save(final)
    summary = {"kind": kind, "examples": len(exs), "train": len(train_ex), "heldout": len(held_ex),
               "steps": step, "epochs": c.epochs, "lr": c.lr, "seconds": round(time.time() - t0, 2),
               "heldout_before": before, "heldout_after": history[-1] if history else before}
    atomic_write_json(out_dir / "summary.json", summary)
    if ckpt.exists():
        import shutil

        shutil.rmtree(ckpt, ignore_errors=True)
    rm.last_summary = summary
    a = summary["heldout_after"]
    log.info("reward model (%s): %d examples, held-out accuracy %s AUC %s (interval %s, %s held-out positions)", kind, len(exs),
             a.get("accuracy"), a.get("auc"), a.get("auc_ci95"), a.get("n", 0))
    if a.get("n", 0) < MIN_HELDOUT_POSITIONS:
        log.warning("reward model (%s): its held-out AUC comes from %d labelled positions (< %d): read it as noise",
                    kind, a.get("n", 0), MIN_HELDOUT_POSITIONS)
    return rm


# ----------------------------------------------------------------------------------------------
# Math-Shepherd process labels


def math_shepherd_labels(engine, problems: Sequence, responses: Sequence[str], rollouts_per_step: int = 8, *,
                         reward=None, prompts: Sequence[str] | None = None, rule: str = "lines",
                         estimation: str = "hard", temperature: float = 1.0, top_p: float = 1.0,
                         max_new_tokens: int = 256, stop: list[str] | None = None, seed: int = 0) -> list[RMExample]:
    """Step labels by Monte-Carlo rollouts (Math-Shepherd, Wang et al. 2023, which DeepSeekMath follows).

    For response i (to problems[i]) with steps s_1..s_K: for every step j < K, sample N =
    `rollouts_per_step` completions of the policy from prompt + (response up to step j+1), grade
    prefix + completion against the gold answer with `reward` (default RuleReward), and label step j
        hard: 1 if ANY completion reaches the gold answer, else 0
        soft: the fraction that does.
    The last step's label is the response's own correctness (its "completion" is itself).
    Responses without steps are skipped. Each example also carries `label` = the response's outcome,
    so the same data trains an outcome RM. All rollouts go through one `engine.generate` call.
    """
    from seekmath.rl.rewards import RuleReward

    if estimation not in ("hard", "soft"):
        raise ValueError(f"math_shepherd_labels: estimation {estimation!r}; expected hard or soft")
    if rollouts_per_step < 1:
        raise ValueError(f"math_shepherd_labels: rollouts_per_step must be >= 1, got {rollouts_per_step}")
    if len(problems) != len(responses):
        raise ValueError(f"math_shepherd_labels: {len(problems)} problems but {len(responses)} responses")
    if prompts is not None and len(prompts) != len(responses):
        raise ValueError(f"math_shepherd_labels: {len(prompts)} prompts but {len(responses)} responses")
    reward = reward or RuleReward()
    if prompts is None:
        from seekmath.rl.grpo import policy_prompt  # the model's prompt format (auto), as RL prompts it

        prompts = [policy_prompt(p.question, getattr(engine, "tokenizer", None)) for p in problems]

    finals = reward(list(responses), [str(p.answer) for p in problems]).tolist()
    queries, owners = [], []  # one rollout query per (response, non-final step)
    per_response_prefixes = []
    for i, r in enumerate(responses):
        prefixes = step_prefixes(r, rule)
        per_response_prefixes.append(prefixes)
        for j, pre in enumerate(prefixes[:-1]):
            queries.append(prompts[i] + pre)
            owners.append((i, j))
    outs = engine.generate(queries, n=rollouts_per_step, temperature=temperature, top_p=top_p,
                           max_new_tokens=max_new_tokens, stop=stop, seed=seed) if queries else []
    full, golds = [], []
    for (i, j), group in zip(owners, outs):
        pre = per_response_prefixes[i][j]
        for comp in group:
            full.append(pre + comp.text)
            golds.append(str(problems[i].answer))
    hits = reward(full, golds).tolist() if full else []

    step_labels: list[list[float]] = [[0.0] * len(p) for p in per_response_prefixes]
    for q, (i, j) in enumerate(owners):
        h = hits[q * rollouts_per_step : (q + 1) * rollouts_per_step]
        step_labels[i][j] = float(any(x > 0.5 for x in h)) if estimation == "hard" else sum(h) / len(h)
    examples, skipped = [], 0
    for i, r in enumerate(responses):
        if not step_labels[i]:
            skipped += 1
            continue
        step_labels[i][-1] = float(finals[i])
        examples.append(RMExample(prompt=prompts[i], response=r, label=float(finals[i]), step_labels=step_labels[i],
                                  gold=str(problems[i].answer), id=str(getattr(problems[i], "id", i))))
    if skipped:
        log.info("math_shepherd_labels: %d response(s) without steps skipped", skipped)
    return examples


def process_labels(engine, problems: Sequence, responses: Sequence[str], rollouts_per_step: int = 8, *,
                   labels: str = "math_shepherd", reward=None, prompts: Sequence[str] | None = None, rule: str = "lines",
                   **rollout_kwargs) -> list[RMExample]:
    """Step-labelled examples for a process RM, from the label source `labels` (rl.rm.step_labels):

    math_shepherd: `math_shepherd_labels` (N = rollouts_per_step rollouts from every step prefix);
    exact: the synthetic task's exact labels (`rl/step_labels.py`), no rollouts — the upper bound.
    Both return the same examples (outcome `label` = the rule's verdict, one `step_labels` entry per step).
    """
    if labels == "math_shepherd":
        return math_shepherd_labels(engine, problems, responses, rollouts_per_step, reward=reward, prompts=prompts,
                                    rule=rule, **rollout_kwargs)
    if labels != "exact":
        raise ValueError(f"rl.rm.step_labels: unknown {labels!r}; expected {' or '.join(STEP_LABELS)}")
    from seekmath.rl.rewards import RuleReward
    from seekmath.rl.step_labels import exact_label_batch

    if len(problems) != len(responses):
        raise ValueError(f"process_labels: {len(problems)} problems but {len(responses)} responses")
    reward = reward or RuleReward()
    if prompts is None:
        from seekmath.models import COT_SUFFIX, chat_prompt

        prompts = [chat_prompt(p.question + COT_SUFFIX) for p in problems]
    finals = reward(list(responses), [str(p.answer) for p in problems]).tolist()
    steps = exact_label_batch(problems, responses, finals, rule)
    return [RMExample(prompt=q, response=r, label=float(f), step_labels=s, gold=str(p.answer), id=str(getattr(p, "id", i)))
            for i, (q, r, f, s, p) in enumerate(zip(prompts, responses, finals, steps, problems)) if s]


# ----------------------------------------------------------------------------------------------
# Iterative RL: replay of historical RM data (Algorithm 1)


class ReplayBuffer:
    """Historical reward-model data for continual training; `mix(fresh)` adds `replay_ratio` history.

    The mixed set is fresh + k historical examples with k / (len(fresh) + k) = replay_ratio (10% in the
    paper), i.e. k = round(len(fresh) * r / (1 - r)), capped by what the buffer holds. Sampling is
    without replacement and deterministic per (seed, round). `capacity` > 0 bounds the buffer
    (reservoir sampling keeps a uniform sample of everything ever added).
    """

    def __init__(self, replay_ratio: float = 0.1, capacity: int = 0, seed: int = 0):
        if not 0.0 <= replay_ratio < 1.0:
            raise ValueError(f"ReplayBuffer: replay_ratio must be in [0, 1), got {replay_ratio}")
        self.replay_ratio = replay_ratio
        self.capacity = capacity
        self.seed = seed
        self.items: list[RMExample] = []
        self.seen = 0  # examples ever added (for reservoir sampling)
        self.rounds = 0  # mix() calls

    def __len__(self) -> int:
        return len(self.items)

    def n_replay(self, n_fresh: int) -> int:
        return min(len(self.items), int(round(n_fresh * self.replay_ratio / (1.0 - self.replay_ratio))))

    def mix(self, fresh: Sequence) -> list[RMExample]:
        fresh = [RMExample.from_any(x, f"fresh example {i}") for i, x in enumerate(fresh)]
        k = self.n_replay(len(fresh))
        rng = random.Random(f"replay/{self.seed}/{self.rounds}")
        self.rounds += 1
        return fresh + (rng.sample(self.items, k) if k else [])

    def add(self, examples: Iterable) -> None:
        rng = random.Random(f"reservoir/{self.seed}/{self.seen}")
        for i, x in enumerate(examples):
            x = RMExample.from_any(x, f"example {i}")
            self.seen += 1
            if self.capacity <= 0 or len(self.items) < self.capacity:
                self.items.append(x)
            else:
                j = rng.randrange(self.seen)
                if j < self.capacity:
                    self.items[j] = x

    def state_dict(self) -> dict:
        return {"replay_ratio": self.replay_ratio, "capacity": self.capacity, "seed": self.seed, "seen": self.seen,
                "rounds": self.rounds, "items": [x.to_dict() for x in self.items]}

    def load_state_dict(self, state: dict) -> None:
        self.replay_ratio, self.capacity, self.seed = state["replay_ratio"], state["capacity"], state["seed"]
        self.seen, self.rounds = state["seen"], state["rounds"]
        self.items = [RMExample.from_any(x) for x in state["items"]]

    def save(self, path: str | Path) -> Path:
        from seekmath.runs import atomic_write_json

        return atomic_write_json(path, self.state_dict())

    @classmethod
    def load(cls, path: str | Path) -> "ReplayBuffer":
        buf = cls()
        buf.load_state_dict(json.loads(Path(path).read_text()))
        return buf


def continue_training(rm: RewardModel, fresh_examples: Sequence, buffer: ReplayBuffer, out_dir: str | Path,
                      cfg: Any = None, **kwargs) -> RewardModel:
    """Algorithm 1's last line: train `rm` further on fresh policy samples + replayed history, then
    add the fresh samples to the buffer. Returns the (same, updated) reward model."""
    mixed = buffer.mix(fresh_examples)
    rm = train_reward_model(rm, rm.tokenizer, mixed, rm.kind, out_dir, cfg, **kwargs)
    buffer.add(fresh_examples)
    return rm
