"""Settings of the RL stage (`rl:` section). Owned by the rl package.

Defaults are the paper's where it gives one (spec §3.5: lr 1e-6, beta 0.04, G 64, max 1024 tokens,
mu 1); the rest are this implementation's documented choices (spec §8 lists them as unspecified).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from seekmath.lora import LoRAConfig
from seekmath.rl.rm_settings import RewardModelConfig


@dataclass
class VLLMConfig:
    """`rl.vllm.*`: passed as is to the vLLM engine (`make_engine("vllm", ..., **asdict(rl.vllm))`)."""

    gpu_memory_utilization: float = 0.5  # share of each GPU's memory vLLM takes (weights + KV cache)
    cpu_kv_cache_gb: float = 4.0  # the CPU backend's KV cache (VLLM_CPU_KVCACHE_SPACE)
    sleep_mode: bool = False  # free the engine's GPU memory during the policy update (engine.sleep() / wake_up())
    tensor_parallel_size: int = 1
    max_model_len: int = 0  # 0 = the longest prompt + rl.max_new_tokens
    enforce_eager: bool = False  # no CUDA graphs (less memory, slower decoding)


@dataclass
class RLConfig:
    # --- what is optimised
    algorithm: str = "grpo"  # grpo | online_rft (GC = I(o), no KL) | rft (offline samples of the initial policy, GC = I(o))
    reward: str = "rule"  # rule (grader) | orm (outcome reward model) | prm (process reward model -> process supervision)
    reward_model: str = ""  # folder of a trained reward model for orm/prm; "" = train one from the initial policy's samples
    rule_mode: str = "strict"  # the grader's mode for the rule reward and RM labels
    truncation_reward: float = 0.0  # rule reward of a completion cut at max_new_tokens (finish_reason "length")
    # --- eq. 3
    lr: float = 1e-6
    beta: float = 0.04  # k3 KL coefficient (eq. 3-4), inside the loss
    clip_eps: float = 0.2  # unspecified in the paper; the usual PPO value (inactive when mu = 1)
    aggregation: str = "seq_mean_token_mean"  # paper | token_mean (DAPO) | constant_normaliser (Dr. GRPO, / max_new_tokens)
    normalise_std: bool = True  # divide group-centred rewards by the group std (False = Dr. GRPO)
    # keep: every group is in the update (eq. 3 exactly) | skip: groups whose advantages are all 0 are
    # left out of the forward/backward and the reference pass (their policy-gradient term is 0; only
    # their KL term is dropped, nothing when beta = 0); the loss keeps the whole batch's denominators
    zero_variance: str = "keep"
    # --- GRPO's family (each a rule in losses.py / advantages.py / reward_shaping.py; the defaults are eq. 3)
    clip_eps_high: float = 0.0  # upper clip 1 + eps_high (DAPO clip-higher, e.g. 0.28); 0 = clip_eps (symmetric)
    ratio_level: str = "token"  # token (eq. 3) | sequence (GSPO: length-normalised sequence ratio)
    kl_estimator: str = "k3"  # k3 (eq. 4) | k1 | k2 for the beta term in the loss
    advantage_estimator: str = "grpo"  # grpo (Dr. GRPO with normalise_std=false) | rloo | reinforce_pp | reinforce_pp_baseline
    # none | filter (DAPO: outputs cut at max_new_tokens leave the loss and its denominators) |
    # soft (DAPO eq. 13: a length penalty over the last overlong_cache tokens, added to the reward)
    overlong: str = "none"
    overlong_cache: int = 0  # soft: the punishment interval in tokens; 0 = max_new_tokens // 4
    kl_in: str = "loss"  # loss (eq. 3: beta * rl.kl_estimator in the loss) | reward (r - beta * sum_t KL_t per output, PPO/REINFORCE++)
    # --- which questions (rl/question_stream.py, rl/dynamic_sampling.py); state in the RL checkpoint
    # DAPO dynamic sampling: after the first round, draw NEW questions until prompts_per_step groups have
    # reward variance > 0; at the bound the step trains on the informative groups it found (none: no update)
    dynamic_sampling: bool = False
    max_generation_rounds: int = 4  # sampling rounds per step at most (dynamic_sampling)
    curriculum: str = "none"  # none (epoch permutations) | difficulty (questions at 0% / 100% running accuracy drawn less)
    curriculum_extreme_weight: float = 0.1  # difficulty: sampling weight of a question at 0% or 100% (others 1)
    curriculum_rate: float = 0.5  # difficulty: running accuracy <- (1 - rate) * acc + rate * group accuracy
    # --- sampling (Algorithm 1)
    group_size: int = 64  # G outputs per question
    prompts_per_step: int = 16  # questions per GRPO step (16 x 64 = the paper's batch of 1024 outputs)
    max_new_tokens: int = 1024
    temperature: float = 1.0  # "naive nucleus sampling" (§5.2.3); T / top-p unspecified
    top_p: float = 1.0
    mu: int = 1  # policy updates per exploration stage
    iterations: int = 1  # I: outer iterations; each resets pi_ref <- pi_theta (and retrains the RM)
    steps: int = 100  # M: GRPO steps per iteration
    # --- optimiser (unspecified in the paper: AdamW, constant lr after warmup, grad-norm clip 1)
    weight_decay: float = 0.0
    warmup_steps: int = 0
    max_grad_norm: float = 1.0
    micro_batch_size: int = 64  # outputs per forward/backward, any number (memory only: the update is invariant to it)
    # --- memory (the update is the same whatever these are; `seekmath rl --plan` prints what they cost)
    logprob_chunk_tokens: int = 1024  # LM head + log-softmax over this many tokens at a time (0 = a micro-batch at once)
    gradient_checkpointing: bool = False  # recompute each decoder layer in the backward pass
    reference: str = "same_device"  # where pi_ref lives: same_device | cpu | none (only when beta = 0)
    # under torchrun: fsdp (FSDP2, sharded weights/grads/optimizer + a full rollout copy) | ddp (replicas)
    distributed: str = "fsdp"
    vllm: VLLMConfig = field(default_factory=VLLMConfig)
    # LoRA adapters on the policy (seekmath.lora); pi_ref is then the base weights (adapter off), not a copy
    lora: LoRAConfig = field(default_factory=LoRAConfig)
    generation_batch_size: int = 64  # rows per generation batch
    engine: str = "hf"  # generation engine: hf | vllm
    # --- questions: SOURCE or SOURCE@W items as sft.data takes them (synthetic, gsm8k_train, math_train,
    # a jsonl/parquet of question + answer, an HF dataset name); @W = W times the source's questions
    data: list[str] = field(default_factory=lambda: ["synthetic"])
    eval_data: str = ""  # held-out greedy accuracy: "" = the synthetic test split (synthetic data) or questions held out of rl.data
    # --- reward models (orm / prm) and iterative RL
    step_rule: str = "lines"  # step segmentation for process supervision / Math-Shepherd labels
    rm_train_prompts: int = 64  # questions sampled per (re)training round of the reward model
    rm_samples_per_prompt: int = 4
    rm_rollouts_per_step: int = 4  # Math-Shepherd completions per step prefix (prm labels)
    rm_replay_ratio: float = 0.1  # iterative RL: share of historical data mixed into RM continual training
    rm_lr: float = 2e-5  # spec §2.3
    rm_epochs: int = 1
    rm: RewardModelConfig = field(default_factory=RewardModelConfig)  # the rest of the RM settings (rlfamily: batch, max length, estimation, ...)
    # --- evaluation, checkpoints
    eval_every: int = 0  # greedy accuracy on held-out problems every N steps (0 = only at start/end)
    eval_problems: int = 200
    save_every: int = 10  # checkpoint every N steps (and always at the end / on stop)
    train_problems: int = 0  # questions to draw prompts from (0 = all of rl.data; synthetic: tasks.num_train)
    threads: int = 0  # torch threads (0 = leave as is)
    time_budget_s: float = 0.0  # stop early (final/ written) once the stage has used this many CPU seconds, all its processes together (0 = off)
    seed: int = 0
