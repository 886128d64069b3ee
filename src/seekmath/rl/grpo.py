"""Iterative GRPO (DeepSeekMath Algorithm 1) and its online/offline RFT siblings, in one loop.

    for iteration in 1..I:                                   (rl.iterations)
        pi_ref <- pi_theta                                   (reference reset)
        for step in 1..M:                                    (rl.steps)
            sample prompts_per_step questions; pi_old <- pi_theta
            G outputs per question from pi_old               (shared generation engine)
            rewards: rule (grader) | orm | prm               -> advantages (outcome | process)
            for 1..mu: one optimiser step maximising eq. 3  (losses.grpo_loss)
        reward model: continual training on fresh policy samples + 10% replay (orm / prm only)

Cost structure (why it is fast): the sampled tokens' log-probs under pi_ref are computed once per
batch in a few large no-grad forwards; pi_old's log-probs are NOT recomputed when mu = 1 — the
training forward's own detached log-probs are exactly pi_old there (rho = 1 in value, grad log pi in
gradient); with mu > 1 they come from one no-grad pass before the first update. The LM head only runs
over the real completion tokens, in chunks (`rollout.TokenScorer`).

Precision and memory (what lets a 7B policy fit, `rl/memory_plan.py`): the policy keeps fp32 master
weights whatever `model.dtype` says and computes in it through the trainer's autocast (AdamW on bf16
weights loses updates below bf16's resolution: at lr 1e-6 almost all of them); micro-batches of any
number of outputs; optional gradient checkpointing; the reference in the compute dtype on the same
device, on the CPU, or absent when beta = 0; vLLM's memory share, sleep mode, tensor parallelism and
length under `rl.vllm.*`.

`algorithm`:
- ``grpo``: eq. 3 with outcome (rule/orm) or process (prm) advantages.
- ``online_rft``: Table 10's gradient coefficient I(o) on fresh policy samples; no KL, no reference.
- ``rft``: offline — outputs are sampled from the frozen INITIAL policy (each prompt's group drawn
  once, from pi_sft), filtered by correctness (coefficient I(o)), trained SFT-style (mean token
  log-likelihood of the kept outputs, averaged over the batch's outputs). Sampling lazily per step
  from the frozen copy is the same distribution as generating the whole dataset up front, and
  resumes for free.

Resume is exact: the prompt order and the sampling seed of a step are functions of (seed, step);
weights, reference, optimiser, scheduler and RNG states are checkpointed atomically.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch

from seekmath.lora import ADAPTER_DIR, validate_rl_lora
from seekmath.rl.advantages import (ESTIMATORS, indicator_advantages, informative_groups, outcome_advantages,
                                     outcome_advantages_by, process_advantages)
from seekmath.rl.dynamic_sampling import Round, fill_batch, varied_groups
from seekmath.rl.losses import AGGREGATIONS, KL_ESTIMATORS, RATIO_LEVELS, aggregation_weights, grpo_loss, kl_estimate
from seekmath.rl.question_stream import CURRICULA, QuestionStream, permutation_slice
from seekmath.rl.reward_shaping import kl_penalised_rewards, soft_overlong_penalty
from seekmath.rl.rollout import GroupedRollout, TokenScorer, score_outputs, scorer_logprobs_nograd

log = logging.getLogger("seekmath.rl")

ALGORITHMS = ("grpo", "online_rft", "rft")
REWARDS = ("rule", "orm", "prm")
ZERO_VARIANCE = ("keep", "skip")
OVERLONG = ("none", "filter", "soft")
KL_IN = ("loss", "reward")
REFERENCE = ("same_device", "cpu", "none")
PRECISION = {"float32": "fp32", "bfloat16": "bf16"}  # model.dtype -> compute precision (train.trainer's names)
LOGPROB_GAP_WARN = 0.1  # nats/token: fp32 shows ~1e-6, bf16 ~1e-2; more means the sampler ran other weights


def validate(rl) -> None:
    """Fail early, naming the bad key."""
    if rl.algorithm not in ALGORITHMS:
        raise ValueError(f"rl.algorithm: unknown {rl.algorithm!r}; expected one of {', '.join(ALGORITHMS)}")
    if rl.reward not in REWARDS:
        raise ValueError(f"rl.reward: unknown {rl.reward!r}; expected one of {', '.join(REWARDS)}")
    if rl.aggregation not in AGGREGATIONS:
        raise ValueError(f"rl.aggregation: unknown {rl.aggregation!r}; expected one of {', '.join(AGGREGATIONS)}")
    if rl.zero_variance not in ZERO_VARIANCE:
        raise ValueError(f"rl.zero_variance: unknown {rl.zero_variance!r}; expected one of {', '.join(ZERO_VARIANCE)}")
    for key, allowed in (("ratio_level", RATIO_LEVELS), ("kl_estimator", KL_ESTIMATORS), ("advantage_estimator", ESTIMATORS),
                         ("overlong", OVERLONG), ("curriculum", CURRICULA), ("kl_in", KL_IN)):
        if getattr(rl, key) not in allowed:
            raise ValueError(f"rl.{key}: unknown {getattr(rl, key)!r}; expected one of {', '.join(allowed)}")
    if rl.clip_eps_high < 0 or not 0 <= rl.overlong_cache <= rl.max_new_tokens:
        raise ValueError("rl.clip_eps_high must be >= 0 and rl.overlong_cache in [0, rl.max_new_tokens]")
    if rl.overlong == "soft" and (rl.algorithm != "grpo" or rl.reward == "prm"):
        raise ValueError("rl.overlong=soft shapes outcome rewards: it needs rl.algorithm=grpo with rl.reward rule or orm")
    if rl.algorithm != "grpo" and rl.reward == "prm":
        raise ValueError("rl.reward=prm (process supervision) needs rl.algorithm=grpo")
    for key, on in (("dynamic_sampling", rl.dynamic_sampling), ("kl_in=reward", rl.kl_in == "reward")):
        if on and (rl.algorithm != "grpo" or rl.reward == "prm"):
            raise ValueError(f"rl.{key} works on outcome rewards: it needs rl.algorithm=grpo with rl.reward rule or orm")
    if rl.max_generation_rounds < 1:
        raise ValueError(f"rl.max_generation_rounds must be >= 1, got {rl.max_generation_rounds}")
    for key in ("group_size", "prompts_per_step", "max_new_tokens", "mu", "iterations", "steps", "micro_batch_size", "generation_batch_size"):
        if getattr(rl, key) < 1:
            raise ValueError(f"rl.{key} must be >= 1, got {getattr(rl, key)}")
    if rl.algorithm == "grpo" and rl.group_size < 2:
        raise ValueError("rl.group_size must be >= 2 for GRPO (advantages are relative to the group)")
    if rl.temperature <= 0:
        raise ValueError(f"rl.temperature must be > 0 (RL samples), got {rl.temperature}")
    if not 0 < rl.top_p <= 1:
        raise ValueError(f"rl.top_p must be in (0, 1], got {rl.top_p}")
    if rl.lr <= 0 or rl.beta < 0 or rl.clip_eps < 0:
        raise ValueError("rl.lr must be > 0, rl.beta and rl.clip_eps >= 0")
    if rl.reference not in REFERENCE:
        raise ValueError(f"rl.reference: unknown {rl.reference!r}; expected one of {', '.join(REFERENCE)}")
    if rl.reference == "none" and needs_anchor(rl):
        what = "rl.algorithm=rft samples from the frozen initial policy" if rl.algorithm == "rft" else f"rl.beta={rl.beta} needs pi_ref"
        raise ValueError(f"rl.reference=none: {what}; use same_device or cpu (or rl.beta=0)")
    if rl.distributed not in ("ddp", "fsdp"):
        raise ValueError(f"rl.distributed: unknown {rl.distributed!r}; expected ddp or fsdp")
    if rl.logprob_chunk_tokens < 0:
        raise ValueError(f"rl.logprob_chunk_tokens must be >= 0, got {rl.logprob_chunk_tokens}")
    validate_rl_lora(rl)
    if not 0 < rl.vllm.gpu_memory_utilization <= 1:
        raise ValueError(f"rl.vllm.gpu_memory_utilization must be in (0, 1], got {rl.vllm.gpu_memory_utilization}")
    if rl.vllm.tensor_parallel_size < 1 or rl.vllm.max_model_len < 0:
        raise ValueError("rl.vllm.tensor_parallel_size must be >= 1 and rl.vllm.max_model_len >= 0")


def needs_anchor(rl) -> bool:
    """A frozen copy of the policy: pi_ref (grpo, beta > 0) or the initial sampler (rft)."""
    return (rl.algorithm == "grpo" and rl.beta > 0) or rl.algorithm == "rft"


def one_process_only(rl) -> str | None:
    """Why these RL settings cannot run under torchrun (one line), or None when they can."""
    if rl.reward != "rule" and (not rl.reward_model or rl.iterations > 1):
        return (f"rl.reward={rl.reward}: reward-model training runs on one process; under torchrun use rl.reward=rule "
                "or a trained rl.reward_model with rl.iterations=1")
    if rl.advantage_estimator.startswith("reinforce_pp"):
        return f"rl.advantage_estimator={rl.advantage_estimator} normalises over the whole batch: one process only for now"
    if rl.dynamic_sampling:
        return ("rl.dynamic_sampling: resampling runs on one process for now (a round's informative groups would "
                "land unevenly on the processes); under torchrun use rl.zero_variance=skip")
    return None


def compute_precision(model_dtype: str) -> str:
    """model.dtype -> the trainer's precision name; the weights themselves always stay fp32 (master weights)."""
    if model_dtype not in PRECISION:
        raise ValueError(f"model.dtype: RL trains in float32 or bfloat16 (fp32 master weights + bf16 autocast), "
                         f"not {model_dtype!r} (float16 would need loss scaling)")
    return PRECISION[model_dtype]


def step_seed(seed: int, step: int, salt: int = 0) -> int:
    """A per-step seed (generation of step N is the same on a fresh run and a resumed one)."""
    return (seed * 1_000_003 + step * 7919 + salt * 104_729) % (2**31 - 1)


def prompt_indices(n_problems: int, per_step: int, step: int, seed: int) -> list[int]:
    """The prompts of `step`: consecutive slices of a per-epoch permutation (a pure function of step)."""
    return permutation_slice(n_problems, step * per_step, per_step, seed)


def policy_prompt(question: str, tokenizer=None, fmt: str = "auto") -> str:
    """The zero-shot prompt with the paper's CoT instruction (spec §2.2), in the model's prompt format
    (`model.prompt_format`, models.render_prompt); DeepSeekMath's layout without a tokenizer."""
    from seekmath.models import COT_SUFFIX, chat_prompt, render_prompt

    return chat_prompt(question + COT_SUFFIX) if tokenizer is None else render_prompt(tokenizer, question + COT_SUFFIX, fmt)


# ----------------------------------------------------------------------------------------------
# Rewards


class RewardModelSource:
    """orm / prm rewards from rlfamily's RewardModel, plus its (continual) training for Algorithm 1.

    Round k writes `out/reward_model/round-k/` (metrics, summary, `final/` = the RM). The replay
    buffer of historical RM data (and its sampling state) is part of the RL checkpoint
    (`state_dict`), so a run resumed from a checkpoint taken before round k redoes round k from the
    same history. The RM lives on the policy's device with fp32 weights (as the policy's master
    weights) and scores in the policy's compute precision.
    """

    def __init__(self, cfg, tokenizer, out_dir: Path, rule, init_path: Path, device: str = "cpu"):
        from seekmath.rl.reward_model import ReplayBuffer

        self.cfg, self.rl = cfg, cfg.rl
        self.kind = "outcome" if cfg.rl.reward == "orm" else "process"
        self.tok = tokenizer
        self.root = out_dir / "reward_model"
        self.rule = rule
        self.init_path = Path(cfg.rl.rm.init) if cfg.rl.rm.init else init_path
        self.device = device
        self.rm = None
        self.replay = ReplayBuffer(replay_ratio=self.rl.rm_replay_ratio, capacity=self.rl.rm.buffer_capacity, seed=self.rl.seed)

    def state_dict(self) -> dict:
        return {"replay": self.replay.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.replay.load_state_dict(state["replay"])

    def load(self, path: Path) -> None:
        from seekmath.rl.reward_model import RewardModel

        self.rm = RewardModel.load(path, device=self.device)

    def load_round(self, k: int) -> None:
        self.load(self.root / f"round-{k}" / "final")

    def ready(self) -> bool:
        return self.rm is not None

    def _examples(self, engine, problems, seed: int) -> list:
        """Fresh policy samples labelled by the rule (outcome) or by Math-Shepherd rollouts (process)."""
        from seekmath.rl import reward_model as rmod

        qs = [policy_prompt(p.question, self.tok, self.cfg.model.prompt_format) for p in problems]
        outs = engine.generate(qs, n=self.rl.rm_samples_per_prompt, temperature=self.rl.temperature, top_p=self.rl.top_p,
                               max_new_tokens=self.rl.max_new_tokens, seed=seed)
        prompts, responses, probs = [], [], []
        for q, p, group in zip(qs, problems, outs):
            for c in group:
                prompts.append(q)
                responses.append(c.text)
                probs.append(p)
        if self.kind == "outcome":
            labels = self.rule(responses, [p.answer for p in probs]).tolist()
            return [rmod.RMExample(prompt=q, response=r, label=float(y), gold=str(p.answer))
                    for q, r, y, p in zip(prompts, responses, labels, probs)]
        return rmod.process_labels(engine, probs, responses, self.rl.rm_rollouts_per_step, labels=self.rl.rm.step_labels, reward=self.rule, prompts=prompts,
                                         rule=self.rl.step_rule, estimation=self.rl.rm.estimation, temperature=self.rl.temperature,
                                         top_p=self.rl.top_p, max_new_tokens=self.rl.max_new_tokens, seed=seed)

    def train(self, engine, problems, seed: int, round_k: int) -> dict:
        """(Continual) training round k: fresh policy samples + `rm_replay_ratio` history (Algorithm 1)."""
        from seekmath.rl.reward_model import train_reward_model

        t0 = time.time()
        fresh = self._examples(engine, problems, seed)
        mixed = self.replay.mix(fresh)
        base = self.rm if self.rm is not None else self.init_path
        self.rm = train_reward_model(base, self.tok, mixed, self.kind, self.root / f"round-{round_k}", self.cfg, progress=False,
                                     device=self.device)
        self.replay.add(fresh)
        after = getattr(self.rm, "last_summary", {}).get("heldout_after", {})
        return {"rm_examples": len(mixed), "rm_fresh": len(fresh), "rm_seconds": round(time.time() - t0, 2),
                "rm_heldout_accuracy": after.get("accuracy"), "rm_heldout_auc": after.get("auc")}

    def _autocast(self):
        """Scoring in the policy's compute precision (the RM's weights are fp32 masters, like the policy's)."""
        from seekmath.train.trainer import autocast_context

        return autocast_context(compute_precision(self.cfg.model.dtype), torch.device(self.device))

    def outcome_scores(self, prompts, responses) -> torch.Tensor:
        with self._autocast():
            return self.rm.score_outcomes(prompts, responses, batch_size=self.rl.rm.batch_size).float().cpu()

    def step_scores(self, prompts, responses, prompt_ids, response_ids):
        with self._autocast():
            scores = self.rm.score_steps(prompts, responses, rule=self.rl.step_rule, batch_size=self.rl.rm.batch_size)
        ends = [self.rm.step_end_tokens(pi, ri, r, self.rl.step_rule) for pi, ri, r in zip(prompt_ids, response_ids, responses)]
        # the two segmentations come from the same rule; guard against a mismatch rather than mis-assign credit
        for i, (s, e) in enumerate(zip(scores, ends)):
            if len(s) != len(e):
                raise RuntimeError(f"process reward: output {i} has {len(s)} step scores but {len(e)} step ends")
        return scores, ends


# ----------------------------------------------------------------------------------------------
# State and checkpoints


@dataclass
class TrainState:
    step: int = 0  # GRPO steps completed (global, over iterations)
    rm_rounds: int = 0  # reward-model training rounds completed
    history: dict = field(default_factory=dict)  # eval results by step
    cpu_seconds: float = 0.0  # CPU seconds of all processes up to the checkpoint: rl.time_budget_s counts on after a resume

    def as_dict(self) -> dict:
        return {"step": self.step, "rm_rounds": self.rm_rounds, "history": self.history, "cpu_seconds": self.cpu_seconds}


def _latest_checkpoint(out: Path) -> Path | None:
    ck = out / "checkpoints"
    if not ck.is_dir():
        return None
    steps = sorted((int(p.name.split("-")[1]), p) for p in ck.glob("step-*") if p.is_dir() and (p / "state.json").is_file())
    return steps[-1][1] if steps else None


def save_checkpoint(out: Path, state: TrainState, policy, tok, ref, opt, sched, rm_source=None, dist=None, sharded=None,
                    policy_state: dict | None = None, stream=None, adapter=None) -> Path:
    """Everything a resume needs, in one atomic folder: fp32 policy, reference, optimiser, scheduler, RNG,
    the loop state, the question stream (order, curriculum) and (iterative RL) the RM replay buffer.

    Several processes: every process calls this; rank 0 writes the (full) policy and the rest. With
    FSDP2 (`sharded` = the wrapped scorer) the optimizer is sharded: every process writes its shards
    of it and of the model with torch.distributed.checkpoint (`dcp/`); `policy_state` is then the
    gathered fp32 weights `policy` (the rollout copy, maybe bf16) is saved with. LoRA (`adapter` = the
    PeftModel): the adapter alone, in `adapter/` (the base weights are the initial model's)."""
    from seekmath.distributed import Dist, save_sharded, shared_atomic_dir
    from seekmath.runs import atomic_write_json

    dist = dist or Dist.one_process()
    target = out / "checkpoints" / f"step-{state.step:06d}"
    with shared_atomic_dir(target, dist) as tmp:
        if sharded is not None:
            save_sharded(tmp / "dcp", sharded, opt)
        if dist.main:
            if adapter is not None:
                adapter.save_pretrained(tmp / ADAPTER_DIR)
            else:
                policy.save_pretrained(tmp / "policy", safe_serialization=True, **({"state_dict": policy_state} if policy_state else {}))
            tok.save_pretrained(tmp / (ADAPTER_DIR if adapter is not None else "policy"))
            if ref is not None:
                torch.save(ref.state_dict(), tmp / "ref.pt")
            torch.save({"optimizer": opt.state_dict() if sharded is None else None, "scheduler": sched.state_dict()}, tmp / "optimizer.pt")
            torch.save({"torch": torch.get_rng_state(), "python": random.getstate()}, tmp / "rng.pt")
            if rm_source is not None:
                atomic_write_json(tmp / "reward_model.json", rm_source.state_dict())
            if stream is not None:  # the question order: cursor and curriculum (rl/question_stream.py)
                atomic_write_json(tmp / "questions.json", stream.state_dict())
            atomic_write_json(tmp / "state.json", state.as_dict())
    if dist.main:
        for old in (out / "checkpoints").glob("step-*"):  # keep the newest only
            if old != target:
                shutil.rmtree(old, ignore_errors=True)
    dist.barrier()
    return target


# ----------------------------------------------------------------------------------------------
# Building the parts (one place each, so a distributed launcher can wrap them)


def build_policy(cfg, source, device) -> tuple[torch.nn.Module, TokenScorer]:
    """(policy, scorer): the HF policy with fp32 master weights on `device`, and the TokenScorer that
    trains it (compute in model.dtype through the trainer's autocast; chunked log-probs).

    Wrap the SCORER for DDP/FSDP: its forward is the whole log-prob computation.
    """
    from seekmath.models import load_model

    rl = cfg.rl
    precision = compute_precision(cfg.model.dtype)
    # fp32 master weights whatever model.dtype says, exactly as train.trainer does: AdamW on bf16 weights
    # loses updates below bf16's resolution (at lr 1e-6 most of them); bf16 compute comes from autocast
    policy = load_model(source, dtype="float32", device=str(device))
    policy.config.use_cache = False
    if rl.gradient_checkpointing:
        policy.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    return policy, TokenScorer(policy, precision, rl.logprob_chunk_tokens)


def build_reference(cfg, model_path, ckpt: Path | None, device) -> tuple[torch.nn.Module | None, TokenScorer | None]:
    """The frozen anchor (pi_ref for grpo with beta > 0, the initial sampler for rft) at `rl.reference`.

    It never trains, so it is stored in the compute dtype (bf16: half the memory) and built the same
    way on a fresh and a resumed run (the initial policy, then the checkpoint's copy if there is one).
    """
    from seekmath.models import load_model

    rl = cfg.rl
    if not needs_anchor(rl):
        return None, None
    place = "cpu" if rl.reference == "cpu" else str(device)
    precision = compute_precision(cfg.model.dtype)
    anchor = load_model(model_path, dtype=cfg.model.dtype, device=place)
    anchor.config.use_cache = False
    if ckpt is not None and (ckpt / "ref.pt").is_file():
        anchor.load_state_dict(torch.load(ckpt / "ref.pt", map_location=place))
    anchor.requires_grad_(False).eval()
    return anchor, TokenScorer(anchor, precision, rl.logprob_chunk_tokens)


def build_optimizer(params, rl):
    """AdamW on the (fp32) trainable parameters + linear warmup to a constant lr."""
    opt = torch.optim.AdamW(params, lr=rl.lr, weight_decay=rl.weight_decay)
    warm = max(0, rl.warmup_steps)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) if warm else 1.0)
    return opt, sched


class AutocastEngine:
    """The hf engine generating from fp32 master weights in the compute precision (the training forward's numerics)."""

    def __init__(self, engine, precision: str, device):
        self.engine, self.precision, self.device = engine, precision, torch.device(device)

    def generate(self, *args, **kwargs):
        from seekmath.train.trainer import autocast_context

        with autocast_context(self.precision, self.device):
            return self.engine.generate(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.engine, name)


def build_engine(cfg, model, tok, max_prompt_tokens: int = 0):
    """The rollout engine over `model`: hf (the live module, under autocast) or vllm (rl.vllm.* settings)."""
    from seekmath.generate import make_engine

    rl = cfg.rl
    if rl.engine == "vllm":
        kw = dataclasses.asdict(rl.vllm)
        if not kw["max_model_len"]:
            kw["max_model_len"] = max_prompt_tokens + rl.max_new_tokens
        return make_engine("vllm", model, tok, batch_size=rl.generation_batch_size, dtype=cfg.model.dtype, **kw)
    engine = make_engine(rl.engine, model, tok, batch_size=rl.generation_batch_size)
    precision = compute_precision(cfg.model.dtype)
    return AutocastEngine(engine, precision, next(model.parameters()).device) if precision != "fp32" else engine


def as_scorer(model, rl=None):
    """A TokenScorer (maybe DDP/FSDP-wrapped) as is; a bare HF model as an fp32 scorer."""
    if model is None or isinstance(getattr(model, "module", model), TokenScorer):
        return model
    return TokenScorer(model, "fp32", rl.logprob_chunk_tokens if rl is not None else 0)


# ----------------------------------------------------------------------------------------------
# Evaluation inside the loop (greedy, held-out problems, the grader)


def greedy_accuracy(engine, problems, rule, max_new_tokens: int, fmt: str = "auto") -> float:
    if not problems:
        return float("nan")
    outs = engine.generate([policy_prompt(p.question, engine.tokenizer, fmt) for p in problems], n=1, temperature=0.0, max_new_tokens=max_new_tokens, seed=0)
    r = rule([o[0].text for o in outs], [p.answer for p in problems])
    return float(r.mean())


# ----------------------------------------------------------------------------------------------
# One GRPO step's training part (pure w.r.t. its inputs; used by run_rl and the TRL bench)


def train_on_batch(scorer, opt, rollout: GroupedRollout, advantages: torch.Tensor, *, ref_logp, rl, algorithm: str = "grpo",
                   weights: torch.Tensor | None = None, dist=None, local_scorer=None) -> dict:
    """mu optimiser steps of eq. 3 on one sampled batch; returns diagnostics.

    ``scorer``: the policy's TokenScorer (maybe DDP/FSDP-wrapped; a bare HF model is scored in fp32).
    ``advantages``: [N] (outcome) or [N, T] (process). For rft/online_rft they are I(o) and beta = 0.
    Micro-batches are `rl.micro_batch_size` consecutive outputs (a group may be split); the aggregation
    weights come from the whole batch, so the update does not depend on the micro-batch size (tested).
    ``weights`` ([N, >=T]): aggregation weights computed on a larger batch this one was cut from
    (rl.zero_variance = skip, or the whole batch when this process holds a share of it).
    ``dist`` (seekmath.distributed.Dist): several processes, each holding a share of the batch; the
    scorer is then DDP/FSDP2-wrapped, losses are scaled by the world size (the wrappers average), the
    gradient is reduced once per optimiser step and the diagnostics are summed over processes.
    ``local_scorer``: the same weights without collectives (FSDP2: the rollout copy) for no-grad passes.
    """
    from seekmath.distributed import Dist, clip_grad_norm, gradient_sync
    from seekmath.rl.distributed import batch_totals, idle_micro_batch

    dist = dist or Dist.one_process()
    scorer = as_scorer(scorer, rl)
    mask = rollout.completion_mask()
    if weights is None:
        totals = batch_totals(mask, dist) if dist.world > 1 else None
        weights = aggregation_weights(mask, rl.aggregation, max_len=rl.max_new_tokens, totals=totals)
    weights = weights[:, : mask.shape[1]]
    beta = rl.beta if algorithm == "grpo" else 0.0
    slices = rollout.output_slices(rl.micro_batch_size)
    # every process runs as many forwards as the busiest one (FSDP2 gathers weights inside each)
    n_passes = int(dist.all_reduce([len(slices)], op="max")[0]) if dist.world > 1 else len(slices)
    old_logp = None
    if rl.mu > 1:  # the sampling policy's log-probs, once, before the first update
        old_logp = scorer_logprobs_nograd(local_scorer or scorer, rollout, rl.micro_batch_size, rl.temperature)
    scorer.train()
    out = {"kl": 0.0, "clip_fraction": 0.0, "entropy": 0.0, "surrogate_loss": 0.0, "grad_norm": 0.0}
    n_tok = max(1, int(dist.sum(float(mask.sum()))))
    # sampler-vs-trainer check: before the first update pi_theta is the policy that sampled (rft samples
    # from the frozen initial policy instead, so there is nothing to compare)
    check_gap = rollout.sampler_logprobs is not None and algorithm != "rft"
    gap_sum, gap_max = 0.0, 0.0
    for it in range(rl.mu):
        opt.zero_grad(set_to_none=True)
        total_loss = kl_sum = clip_sum = ent_sum = 0.0
        for k in range(n_passes):
            with gradient_sync(scorer, enabled=k == n_passes - 1):  # one gradient reduction per optimiser step
                if k >= len(slices):
                    idle_micro_batch(scorer, rollout.pad_id)
                    continue
                sl = slices[k]
                logp, ent, m = score_outputs(scorer, rollout, sl, rl.temperature, with_entropy=(it == 0))
                T, dev = logp.shape[1], logp.device
                if it == 0 and check_gap:
                    gap = (logp.detach().float().cpu() - rollout.sampler_logprob_tensor(sl, T)).abs()[m.cpu()]
                    if gap.numel():
                        gap_sum += float(gap.sum())
                        gap_max = max(gap_max, float(gap.max()))
                adv = advantages[sl]
                if adv.dim() == 2:
                    adv = adv[:, :T]
                if old_logp is None or algorithm == "rft":
                    old = logp.detach()  # mu = 1: pi_old = pi_theta (no recomputation); rft: plain grad log pi
                else:
                    old = old_logp[sl, :T].to(dev)
                ref = ref_logp[sl, :T].to(dev) if ref_logp is not None else None
                loss, st = grpo_loss(logp, old, ref, adv.to(dev), m, clip_eps=rl.clip_eps, beta=beta,
                                     aggregation=rl.aggregation, max_len=rl.max_new_tokens, weights=weights[sl, :T].to(dev),
                                     clip_eps_high=rl.clip_eps_high or None, ratio_level=rl.ratio_level,
                                     kl_estimator=rl.kl_estimator)
                (loss * dist.world).backward()  # DDP/FSDP2 average over processes; the weights already sum to the batch's
                total_loss += float(loss.detach())
                kl_sum += st.kl_mean * st.tokens
                clip_sum += st.clip_fraction * st.tokens
                if ent is not None:
                    ent_sum += float((ent * m).sum())
        if dist.world > 1:  # the whole batch's diagnostics
            total_loss, kl_sum, clip_sum, ent_sum = dist.all_reduce([total_loss, kl_sum, clip_sum, ent_sum]).tolist()
            if it == 0 and check_gap:
                gap_sum = float(dist.all_reduce([gap_sum])[0])
                gap_max = float(dist.all_reduce([gap_max], op="max")[0])
        gn = clip_grad_norm(scorer, rl.max_grad_norm)  # pre-clip norm of every parameter (listed after the backward)
        opt.step()
        if it == 0:
            out.update(kl=kl_sum / n_tok, clip_fraction=clip_sum / n_tok, entropy=ent_sum / n_tok,
                       surrogate_loss=total_loss, grad_norm=float(gn))
            if check_gap:
                out.update(logprob_gap_mean=gap_sum / n_tok, logprob_gap_max=gap_max)
        elif it == rl.mu - 1:
            out["clip_fraction_last_update"] = clip_sum / n_tok
    return out


# ----------------------------------------------------------------------------------------------


def run_rl(cfg, model_path, out_dir, *, resume: bool = False, stop_after: int | None = None, progress: bool = True,
           gpu_memory_gb: float | None = None) -> Path:
    """Run the RL stage; returns `out_dir/final` (HF policy). See the module docstring.

    stop_after: stop (checkpointed, no final/) once this many global steps are done — used to test
    resume and to time-box; `resume=True` then continues exactly where it stopped.
    gpu_memory_gb: check the memory plan against this budget (default: the CUDA device's, none on CPU).

    Under torchrun (WORLD_SIZE > 1) every process runs this: the policy's scorer is wrapped with
    rl.distributed (ddp | fsdp, seekmath.distributed.wrap_distributed, the trainer's wrapping) and
    each process samples and trains its share of the groups (seekmath.rl.distributed); rank 0
    writes the metrics, checkpoints and final/.
    """
    from seekmath.distributed import Dist

    dist = Dist(cfg.model.device)
    try:
        return _run_rl(cfg, model_path, out_dir, dist, resume=resume, stop_after=stop_after, progress=progress,
                       gpu_memory_gb=gpu_memory_gb)
    finally:
        dist.close()


class _NoMetrics:
    """What ranks other than 0 log to."""

    def log(self, *args, **kwargs) -> None:
        pass

    def close(self) -> None:
        pass


def _run_rl(cfg, model_path, out_dir, dist, *, resume, stop_after, progress, gpu_memory_gb) -> Path:
    from seekmath.distributed import copy_full_weights, full_model_state, load_sharded, wrap_distributed
    from seekmath.lora import AdapterOffEngine, apply_lora, check_target_modules, reference_scorer, rollout_weights, save_final
    from seekmath.models import load_tokenizer, pick_device, pick_dtype, save_pretrained
    from seekmath.rl.distributed import generation_unit, rank_groups
    from seekmath.rl.memory_plan import check_fits
    from seekmath.rl.questions import load_rl_questions
    from seekmath.rl.rewards import RuleReward
    from seekmath.runs import MetricsLogger, atomic_dir, atomic_write_json, prepare_stage_dir, set_threads

    rl = cfg.rl
    validate(rl)
    compute_precision(cfg.model.dtype)
    set_threads(rl.threads)
    model_path = Path(model_path)
    device = dist.device if dist.world > 1 else pick_device(cfg.model.device)
    if dist.world > 1:
        if (why := one_process_only(rl)) is not None:
            raise ValueError(why)
        if rl.lora.enabled and rl.distributed == "fsdp":
            raise ValueError("rl.lora.enabled under torchrun: use rl.distributed=ddp (FSDP2 with LoRA adapters is not supported)")
        per_rank = rank_groups(rl.prompts_per_step, dist.world, dist.rank)
        unit = generation_unit(rl.group_size, rl.generation_batch_size)
        if len(per_rank) % unit and dist.main:
            log.warning("rl: %d groups per process is not a multiple of the %d groups generated per call: the samples "
                        "differ from a one-process run's (same distribution)", len(per_rank), unit)
    check_fits(cfg, model_path, device, gpu_memory_gb)  # refuses with the plan table before anything heavy
    check_target_modules(rl.lora, model_path, "rl")
    problems, eval_set = load_rl_questions(cfg)  # a missing data source fails here, before the model loads
    stream = QuestionStream(len(problems), rl)  # which questions each step draws (a bad curriculum fails here too)
    out = prepare_stage_dir(out_dir, cfg) if dist.main else Path(out_dir)
    dist.barrier()
    total_steps = rl.iterations * rl.steps

    ckpt = _latest_checkpoint(out) if resume else None
    if resume and ckpt is None:
        if (out / "final" / "config.json").is_file():
            log.info("rl: %s/final exists; nothing to resume", out)
            return out / "final"
        log.info("rl: no checkpoint in %s; starting fresh", out)
    if not resume and (out / "checkpoints").exists() and dist.main:
        shutil.rmtree(out / "checkpoints")
    dist.barrier()

    tok = load_tokenizer(model_path)
    policy, scorer = build_policy(cfg, ckpt / "policy" if ckpt and not rl.lora.enabled else model_path, device)
    # LoRA: adapters injected into `policy` in place (the scorer and the engine run them); the PeftModel
    # switches them off for pi_ref and saves/merges them
    peft_policy = apply_lora(policy, rl.lora, ckpt / ADAPTER_DIR if ckpt else None, seed=rl.seed) if rl.lora.enabled else None
    # local_policy/local_scorer: the full current weights this process can run alone (no collectives):
    # the rollout engine's model, the no-grad passes, the reference reset and the saved policy
    local_policy, local_scorer, fsdp = policy, scorer, False
    if dist.world > 1 or torch.distributed.is_initialized():
        scorer, fsdp = wrap_distributed(scorer, rl.distributed, dist, precision=compute_precision(cfg.model.dtype))
        if fsdp:  # the policy is sharded in place: a full copy in the compute dtype, re-synced after every update
            local_policy, local_scorer = build_policy(cfg, ckpt / "policy" if ckpt else model_path, device)
            local_policy.requires_grad_(False).to(pick_dtype(cfg.model.dtype))
    if peft_policy is None:
        anchor, anchor_scorer = build_reference(cfg, model_path, ckpt, device)
    else:  # pi_ref = the base weights: the policy with its adapter off (no copy; rl.reference is not used)
        anchor, anchor_scorer = None, reference_scorer(peft_policy, local_scorer) if needs_anchor(rl) else None
    opt, sched = build_optimizer([p for p in scorer.parameters() if p.requires_grad], rl)
    state = TrainState()
    if ckpt is not None:
        o = torch.load(ckpt / "optimizer.pt", map_location=device, weights_only=False)
        if o["optimizer"] is None:  # FSDP2: optimizer shards
            load_sharded(ckpt / "dcp", scorer, opt)
        else:
            opt.load_state_dict(o["optimizer"])
        sched.load_state_dict(o["scheduler"])
        r = torch.load(ckpt / "rng.pt", weights_only=False)
        torch.set_rng_state(r["torch"])
        random.setstate(r["python"])
        s = json.loads((ckpt / "state.json").read_text())
        state = TrainState(step=s["step"], rm_rounds=s["rm_rounds"], history=s.get("history", {}),
                           cpu_seconds=float(s.get("cpu_seconds", 0.0)))
        log.info("rl: resuming from %s (step %d)", ckpt, state.step)

    if ckpt is not None:  # a checkpoint without questions.json predates the stream: its order is a function of the step
        saved = ckpt / "questions.json"
        stream.load_state_dict(json.loads(saved.read_text()) if saved.is_file() else {"cursor": state.step * rl.prompts_per_step})
    rule = RuleReward(mode=rl.rule_mode, truncation_reward=rl.truncation_reward)
    longest_prompt = max(len(ids) for ids in tok([policy_prompt(p.question, tok, cfg.model.prompt_format) for p in problems + eval_set])["input_ids"]) if rl.engine == "vllm" else 0
    lora_vllm = peft_policy is not None and rl.engine == "vllm"  # vLLM loads the base checkpoint, then merged weights
    engine = build_engine(cfg, str(model_path) if lora_vllm else local_policy, tok, longest_prompt)
    if lora_vllm:
        engine.update_weights(rollout_weights(peft_policy, rl.engine))
    sampler_engine = engine
    if rl.algorithm == "rft":
        sampler_engine = AdapterOffEngine(engine, peft_policy) if peft_policy is not None else build_engine(cfg, anchor, tok, longest_prompt)

    rm_source = None
    if rl.reward in ("orm", "prm"):
        rm_source = RewardModelSource(cfg, tok, out, rule, model_path, device=str(device))
        if ckpt is not None and (ckpt / "reward_model.json").is_file():
            rm_source.load_state_dict(json.loads((ckpt / "reward_model.json").read_text()))
        if state.rm_rounds > 0:
            rm_source.load_round(state.rm_rounds - 1)
        elif rl.reward_model:
            rm_source.load(Path(rl.reward_model))

    def gathered_policy() -> dict | None:
        """FSDP2: the fp32 master weights, gathered on rank 0 (every process calls this), for saving."""
        if not fsdp:
            return None
        return {k.removeprefix("policy."): v for k, v in full_model_state(scorer, fsdp).items()}

    def checkpoint():
        state.cpu_seconds = cpu_seconds()  # every process is here (a collective under torchrun)
        save_checkpoint(out, state, local_policy, tok, anchor, opt, sched, rm_source, dist=dist, sharded=scorer if fsdp else None,
                        policy_state=gathered_policy(), stream=stream, adapter=peft_policy)

    def evaluate() -> float:  # greedy accuracy; each process decodes a share of the problems
        if dist.world == 1:
            return greedy_accuracy(engine, eval_set, rule, rl.max_new_tokens, cfg.model.prompt_format)
        share = eval_set[dist.rank :: dist.world]
        hits = greedy_accuracy(engine, share, rule, rl.max_new_tokens, cfg.model.prompt_format) * len(share) if share else 0.0
        return dist.sum(hits) / len(eval_set)

    # rows are logged at the completed-step count
    metrics = MetricsLogger(out, resume_from_step=state.step + 1 if ckpt is not None else None) if dist.main else _NoMetrics()
    from tqdm.auto import tqdm

    bar = tqdm(total=total_steps, initial=state.step, desc=f"rl {rl.algorithm}/{rl.reward}", unit="step",
               disable=not progress or not dist.main)
    t_run = time.time()
    cpu0, cpu_before = time.process_time(), state.cpu_seconds

    def cpu_seconds() -> float:
        """This stage's CPU seconds, summed over processes and over the runs before a resume (a collective under
        torchrun: every process calls it). A resumed run redoes the steps after its checkpoint, so it spends
        what an uninterrupted run would have: the budget stops both at the same point."""
        used = time.process_time() - cpu0
        return cpu_before + (float(dist.all_reduce([used])[0]) if dist.world > 1 else used)

    try:
        if state.step == 0 and "0" not in state.history and eval_set:
            acc = evaluate()
            state.history["0"] = acc
            metrics.log(0, eval_greedy_acc=acc)
            log.info("rl: held-out greedy accuracy before RL: %.3f", acc)
        while state.step < total_steps:
            if stop_after is not None and state.step >= stop_after:
                checkpoint()
                log.info("rl: stopped after step %d (checkpointed; resume with --resume)", state.step)
                return out / "checkpoints"
            iteration, step_in_iter = divmod(state.step, rl.steps)
            row: dict = {"iteration": iteration}
            if step_in_iter == 0:
                # Algorithm 1: pi_ref <- pi_theta at the start of every outer iteration
                # (idempotent, so a resume landing on an iteration boundary does the same)
                if anchor is not None and rl.algorithm == "grpo":
                    anchor.load_state_dict(local_policy.state_dict())
                # reward model: initial training (iteration 0, none given) / continual training (later iterations)
                if rm_source is not None and state.rm_rounds <= iteration and (iteration > 0 or not rm_source.ready()):
                    rm_probs = [problems[i] for i in prompt_indices(len(problems), rl.rm_train_prompts, state.rm_rounds, rl.seed + 17)]
                    row.update(rm_source.train(engine, rm_probs, step_seed(rl.seed, state.rm_rounds, salt=3), state.rm_rounds))
                    state.rm_rounds += 1
            row.update(grpo_step(state.step, scorer, opt, sched, tok, problems, rule, rm_source, engine if rl.algorithm != "rft" else sampler_engine,
                                 anchor_scorer if rl.algorithm == "grpo" else None, rl, device, dist=dist, local_scorer=local_scorer,
                                 fmt=cfg.model.prompt_format, stream=stream))
            if fsdp:  # gather the updated shards into the full copy
                copy_full_weights(scorer, local_scorer)
            if rl.algorithm != "rft":
                # hf: no-op (live module); vllm: push the new policy weights (LoRA: merged, base names)
                engine.update_weights(local_policy if peft_policy is None else rollout_weights(peft_policy, rl.engine))
            state.step += 1
            if rl.eval_every and state.step % rl.eval_every == 0 and state.step < total_steps and eval_set:
                row["eval_greedy_acc"] = evaluate()
                state.history[str(state.step)] = row["eval_greedy_acc"]
            if state.step == total_steps and eval_set:
                row["eval_greedy_acc"] = evaluate()
                state.history[str(state.step)] = row["eval_greedy_acc"]
            metrics.log(state.step, **row)
            bar.update(1)
            bar.set_postfix(reward=f"{row['reward_mean']:.2f}", kl=f"{row.get('kl', 0):.3f}")
            if rl.save_every and state.step % rl.save_every == 0 and state.step < total_steps:
                checkpoint()
            # the budget is the CPU time of all processes together (every process stops at the same step)
            spent = rl.time_budget_s and cpu_seconds() >= rl.time_budget_s
            if spent and state.step < total_steps:
                log.info("rl: CPU budget of %.0f s used after %d steps (%d process(es)); finishing", rl.time_budget_s,
                         state.step, dist.world)
                if eval_set:
                    acc = evaluate()
                    state.history[str(state.step)] = acc
                    metrics.log(state.step, eval_greedy_acc=acc)
                break
        final = out / "final"
        final_state = gathered_policy()
        cpu_total = cpu_seconds()
        if dist.main:
            if peft_policy is not None:  # rl.lora.save: merged (a normal HF folder) | adapter
                with atomic_dir(final) as tmp:
                    save_final(peft_policy, tok, tmp, rl.lora.save)
            elif final_state:
                with atomic_dir(final) as tmp:
                    local_policy.save_pretrained(tmp, safe_serialization=True, state_dict=final_state)
                    tok.save_pretrained(tmp)
            else:
                save_pretrained(local_policy, tok, final)
            atomic_write_json(out / "summary.json", {"steps": state.step, "eval_greedy_acc": state.history, "processes": dist.world,
                                                     "seconds": round(time.time() - t_run, 1), "cpu_seconds": round(cpu_total, 1),
                                                     "algorithm": rl.algorithm, "reward": rl.reward})
            shutil.rmtree(out / "checkpoints", ignore_errors=True)
        dist.barrier()
    finally:
        bar.close()
        metrics.close()
    if not dist.main:
        return final
    try:
        from seekmath.rl.plots import plot_metrics

        plot_metrics(out / "metrics.jsonl", out / "curves.png")
    except Exception as e:  # plotting must never fail a run
        log.warning("rl: plotting failed: %s", e)
    return final


def _sample_groups(engine, tok, rule, rm_source, rl, fmt, indices: list[int], problems: list, groups: range, base_seed: int) -> Round:
    """G outputs for each of `problems` (the questions `indices[groups]`: this process's share of a round),
    rewarded: rule (with the truncation reward) | orm | prm, plus the soft overlong penalty."""
    from seekmath.rl.distributed import call_seed, generation_calls, generation_unit

    t0, G = time.time(), rl.group_size
    prompts = [policy_prompt(p.question, tok, fmt) for p in problems]
    outs = []  # generation calls of whole groups, seeded by their first group: the same samples on any number of processes
    for call in generation_calls(groups, generation_unit(G, rl.generation_batch_size)):
        outs += engine.generate(prompts[call.start - groups.start : call.stop - groups.start], n=G, temperature=rl.temperature,
                                top_p=rl.top_p, max_new_tokens=rl.max_new_tokens, seed=call_seed(base_seed, call.start))
    flat = [c for group in outs for c in group]
    texts = [c.text for c in flat]
    golds = [p.answer for p in problems for _ in range(G)]
    flat_prompts = [q for q in prompts for _ in range(G)]
    t_gen = time.time()
    extra = {"outs": outs}
    correct = rule(texts, golds).float()
    if rl.reward == "rule":  # a completion cut at the token limit gets rl.truncation_reward (RuleReward)
        truncate = getattr(rule, "apply_truncation", None)
        rewards = truncate(correct, [c.finish_reason for c in flat]) if truncate else correct
    elif rl.reward == "orm":
        rewards = rm_source.outcome_scores(flat_prompts, texts)
    else:
        extra["step_scores"], extra["step_ends"] = rm_source.step_scores(flat_prompts, texts, [c.prompt_ids for c in flat],
                                                                         [c.token_ids for c in flat])
        rewards = torch.tensor([sum(s) / max(1, len(s)) for s in extra["step_scores"]])  # for logging only
    if rl.overlong == "soft" and rl.reward != "prm":
        cache = rl.overlong_cache or rl.max_new_tokens // 4
        rewards = rewards.float() + soft_overlong_penalty(torch.tensor([len(c.token_ids) for c in flat]), rl.max_new_tokens, cache)
    extra.update(seconds_generation=t_gen - t0, seconds_reward=time.time() - t_gen)
    return Round(list(indices), rewards.float(), correct, extra)


def _kept(rounds: list[Round], keep: list[list[int]], G: int) -> Round:
    """The groups `keep[r]` of each round r, as one batch (in round order)."""
    def rows(ks):
        return torch.tensor([u * G + j for u in ks for j in range(G)], dtype=torch.long)

    def pick(name):
        return torch.cat([getattr(r, name)[rows(ks)] for r, ks in zip(rounds, keep)]) if rounds else torch.zeros(0)

    return Round([r.indices[u] for r, ks in zip(rounds, keep) for u in ks], pick("rewards"), pick("correct"),
                 {"outs": [r.extra["outs"][u] for r, ks in zip(rounds, keep) for u in ks],
                  **{k: sum(r.extra[k] for r in rounds) for k in ("seconds_generation", "seconds_reward")}})


def grpo_step(step: int, policy, opt, sched, tok, problems, rule, rm_source, engine, ref_model, rl, device, dist=None,
              local_scorer=None, fmt: str = "auto", stream: QuestionStream | None = None) -> dict:
    """Sample -> reward -> advantages -> mu updates for global step `step`. Returns metrics.

    policy / ref_model: TokenScorers (maybe DDP/FSDP-wrapped) or bare HF models (scored in fp32).
    With rl.vllm.sleep_mode the engine releases its GPU memory between the rollout and the update.
    dist: several processes (seekmath.rl.distributed): this one samples, rewards and trains its share
    of the groups; the loss uses the whole batch's denominators and the metrics are the whole batch's.
    stream: the run's QuestionStream (order, curriculum; default: the order of a run at `step`).
    rl.dynamic_sampling: rounds of new questions until the batch has rl.prompts_per_step informative
    groups (rl/dynamic_sampling.py); the step's reward/accuracy/length metrics are over every output sampled.
    """
    from seekmath.distributed import Dist
    from seekmath.rl.distributed import batch_totals, rank_groups

    dist = dist or Dist.one_process()
    policy, ref_model = as_scorer(policy, rl), as_scorer(ref_model, rl)
    stream = stream or QuestionStream(len(problems), rl, start_step=step)
    t0 = time.time()
    G = rl.group_size
    drawn: list[int] = []

    def sample_round(r: int, k: int) -> Round:
        idx = stream.draw(step, r, k, exclude=drawn)
        drawn.extend(idx)
        mine = rank_groups(len(idx), dist.world, dist.rank) if idx else range(0)
        base = step_seed(rl.seed, step) if r == 0 else step_seed(rl.seed, step, salt=20 + r)
        return _sample_groups(engine, tok, rule, rm_source, rl, fmt, idx, [problems[idx[u]] for u in mine], mine, base)

    ds_row: dict = {}
    if rl.dynamic_sampling:
        rounds, keep, ds_row = fill_batch(sample_round, rl.prompts_per_step, rl.max_generation_rounds, G)
        batch, sampled = _kept(rounds, keep, G), _kept(rounds, [list(range(len(r.indices))) for r in rounds], G)
    else:
        batch = sampled = sample_round(0, rl.prompts_per_step)
    outs, rewards, correct = batch.extra["outs"], batch.rewards, batch.correct
    flat = [c for group in outs for c in group]
    t_gen = t0 + sampled.extra["seconds_generation"]
    sampler_lp = [c.logprobs for c in flat] if all(c.logprobs is not None for c in flat) else None
    rollout = GroupedRollout([group[0].prompt_ids for group in outs], [c.token_ids for c in flat],
                             [u for u in range(len(outs)) for _ in range(G)], tok.pad_token_id, sampler_lp)
    kl_in_reward = None
    if rl.kl_in == "reward" and rl.beta > 0 and flat:  # KL folded into the reward (no gradient through it), none in the loss
        mask = rollout.completion_mask()
        ref_lp = scorer_logprobs_nograd(ref_model, rollout, rl.micro_batch_size, rl.temperature)
        cur_lp = scorer_logprobs_nograd(local_scorer or policy, rollout, rl.micro_batch_size, rl.temperature)
        rewards = kl_penalised_rewards(rewards, cur_lp, ref_lp, mask, rl.beta, rl.kl_estimator)
        kl_sum, kl_tokens = float((kl_estimate(cur_lp, ref_lp, rl.kl_estimator) * mask).sum()), float(mask.sum())
        if dist.world > 1:
            kl_sum, kl_tokens = dist.all_reduce([kl_sum, kl_tokens]).tolist()
        kl_in_reward = kl_sum / max(1.0, kl_tokens)
    zero_var = None
    if rl.algorithm in ("online_rft", "rft"):
        adv_values = indicator_advantages(rewards)
        zero_var = outcome_advantages(correct, G).zero_variance_share
    elif rl.reward == "prm":
        adv = process_advantages(batch.extra["step_scores"], batch.extra["step_ends"], [len(c.token_ids) for c in flat], G, rl.normalise_std)
        adv_values, zero_var = adv.values, adv.zero_variance_share
    else:
        adv = outcome_advantages_by(rl.advantage_estimator, rewards, G, rl.normalise_std)
        adv_values, zero_var = adv.values, adv.zero_variance_share
    if rl.dynamic_sampling:  # the share of every group sampled in the step's rounds
        zero_var = float((~varied_groups(sampled.rewards, G)).float().mean()) if sampled.indices else None
    t_rew = t_gen + sampled.extra["seconds_reward"]

    weights = None
    if rl.overlong == "filter":  # truncated outputs leave the loss and its denominators (DAPO's overlong filtering)
        cut = torch.tensor([c.finish_reason == "length" for c in flat])
        mask = rollout.completion_mask() & ~cut[:, None]
        weights = aggregation_weights(mask, rl.aggregation, max_len=rl.max_new_tokens,
                                      totals=batch_totals(mask, dist) if dist.world > 1 else None)
    elif dist.world > 1:  # this process's rows, the whole batch's denominators
        mask = rollout.completion_mask()
        weights = aggregation_weights(mask, rl.aggregation, max_len=rl.max_new_tokens, totals=batch_totals(mask, dist))
    groups_trained = len(outs)
    if rl.zero_variance == "skip" and outs:  # leave groups without policy-gradient signal out of every pass
        keep = informative_groups(adv_values, G).tolist()
        groups_trained = sum(keep)
        if groups_trained < len(outs):
            if weights is None:
                weights = aggregation_weights(rollout.completion_mask(), rl.aggregation, max_len=rl.max_new_tokens)  # whole-batch denominators
            rows = [i for i in range(len(flat)) if keep[i // G]]
            kept = [u for u in range(len(outs)) if keep[u]]
            rollout = GroupedRollout([rollout.prompts[u] for u in kept], [rollout.completions[i] for i in rows],
                                     [k for k in range(len(kept)) for _ in range(G)], tok.pad_token_id,
                                     [sampler_lp[i] for i in rows] if sampler_lp is not None else None)
            adv_values, weights = adv_values[rows], weights[rows]
    stats = {"kl": 0.0, "entropy": 0.0, "clip_fraction": 0.0, "grad_norm": 0.0, "surrogate_loss": 0.0}
    sleep = rl.engine == "vllm" and rl.vllm.sleep_mode and getattr(engine, "sleep", None) is not None
    if sleep:
        engine.sleep()
    groups_trained = int(dist.sum(groups_trained))  # a process whose groups were all skipped still joins the update
    try:
        if groups_trained:
            ref_logp = None
            if ref_model is not None and rl.beta > 0 and rl.kl_in == "loss":  # one no-grad pass over the batch
                ref_logp = scorer_logprobs_nograd(ref_model, rollout, rl.micro_batch_size, rl.temperature)
            stats = train_on_batch(policy, opt, rollout, adv_values, ref_logp=ref_logp, rl=rl if rl.kl_in == "loss" else dataclasses.replace(rl, beta=0.0),
                                   algorithm=rl.algorithm, weights=weights, dist=dist, local_scorer=local_scorer)
    finally:
        if sleep:
            engine.wake_up()
    with warnings.catch_warnings():  # the schedule counts steps, not updates: a first step with no update is no misuse
        warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`")
        sched.step()
    t_train = time.time()
    if kl_in_reward is not None:
        stats["kl"] = kl_in_reward  # the KL that went into the rewards (per token, before the update)

    # the metrics: every output sampled in the step (before any KL in the reward)
    rewards, correct = sampled.rewards, sampled.correct
    every = [c for group in sampled.extra["outs"] for c in group]
    lengths = torch.tensor([len(c.token_ids) for c in every], dtype=torch.float32)
    truncated = torch.tensor([float(c.finish_reason == "length") for c in every])
    if dist.world > 1:  # the whole batch's metrics, exactly as one process computes them
        rewards, correct, lengths, truncated = (torch.cat(part) for part in zip(*dist.gather((rewards.float(), correct, lengths, truncated))))
        if zero_var is not None:
            zero_var = dist.sum(zero_var * len(outs)) / rl.prompts_per_step
    per_group = correct.view(-1, G)
    stream.observe(sampled.indices, per_group.mean(1))  # the curriculum's running accuracies (same on every process)
    gap = stats.get("logprob_gap_mean")
    if gap is not None and gap > LOGPROB_GAP_WARN:
        log.warning("rl step %d: sampler and trainer disagree on the sampled tokens' log-probs by %.3f nats/token on average "
                    "(max %.3f): the rollouts may come from stale weights", step, gap, stats["logprob_gap_max"])
    row = {
        "reward_mean": float(rewards.mean()),
        "reward_std": float(rewards.std()) if rewards.numel() > 1 else 0.0,
        "accuracy": float(correct.mean()),
        "pass_group": float((per_group.max(1).values > 0).float().mean()),
        "kl": stats["kl"],
        "entropy": stats["entropy"],
        "response_length": float(lengths.mean()),
        "truncation_rate": float(truncated.mean()),
        "clip_fraction": stats["clip_fraction"],
        "zero_variance_groups": zero_var,
        "groups_trained": groups_trained / rl.prompts_per_step,  # < 1 with rl.zero_variance = skip or a dynamic-sampling step at its bound
        "grad_norm": stats["grad_norm"],
        # |log pi_trainer - log pi_sampler| per sampled token before the update: ~1e-5 is float noise,
        # a large gap means the rollouts came from other weights (a stale vLLM copy) or other numerics
        "logprob_gap_mean": stats.get("logprob_gap_mean"),
        "logprob_gap_max": stats.get("logprob_gap_max"),
        "lr": sched.get_last_lr()[0],
        "surrogate_loss": stats["surrogate_loss"],  # ~0 by construction at mu=1; NOT a progress signal
        "seconds_generation": round(t_gen - t0, 3),
        "seconds_reward": round(t_rew - t_gen, 3),
        "seconds_training": round(t_train - t_rew, 3),
        "seconds_step": round(t_train - t0, 3),
        **ds_row,  # dynamic sampling: generation_rounds, informative_groups, questions_drawn
        **stream.stats(),  # curriculum: questions seen / solved / unsolved, weight share of the extremes
    }
    return {k: v for k, v in row.items() if v is not None}
