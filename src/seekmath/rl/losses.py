"""The GRPO objective (DeepSeekMath eq. 3) and the k3 KL estimator (eq. 4), as pure tensor functions.

Shapes: every per-token tensor is `[N, T]` — N sampled outputs (all groups of a batch, flattened),
T completion positions — with `mask[N, T]` marking real (non-padding) completion tokens.

    per-token objective   J_t = min(rho_t * A_t, clip(rho_t, 1-eps, 1+eps) * A_t) - beta * KL_t
    rho_t = pi_theta(o_t) / pi_old(o_t)          (ratio against the SAMPLING policy)
    KL_t  = pi_ref/pi_theta - log(pi_ref/pi_theta) - 1     (k3, eq. 4, against the REFERENCE policy)

and the loss is minus the aggregate of J_t. Aggregations (`aggregation=`):

- ``seq_mean_token_mean`` — the paper: (1/G) sum_i (1/|o_i|) sum_t J_t, i.e. mean over an output's
  tokens, then mean over outputs (with equal group sizes, mean over the group then over prompts).
- ``token_mean`` — DAPO: sum over all tokens of the batch / number of tokens of the batch.
- ``constant_normaliser`` — Dr. GRPO: sum over all tokens / (number of outputs x a fixed max length).

Variants of the per-token objective, each a keyword of `grpo_loss` (eq. 3 is the default of every one):

- ``clip_eps_high`` — DAPO's clip-higher (Yu et al. 2025, eq. 8): clip(rho, 1 - eps_low, 1 + eps_high)
  with eps_high > eps_low lets unlikely tokens' probabilities grow further (entropy collapse).
- ``ratio_level="sequence"`` — GSPO (Zheng et al. 2025, eqs. 5-7): every token of output i uses the
  sequence-level ratio s_i = (pi_theta(o_i)/pi_old(o_i))^(1/|o_i|) = exp(mean_t log rho_t), clipped at
  the sequence level; with the paper's aggregation the loss is exactly -(1/G) sum_i min(s_i A_i, clip(s_i) A_i).
- ``kl_estimator`` — Schulman's k1 (log pi_theta/pi_ref), k2 ((log x)^2 / 2) or k3 (eq. 4) in the loss.

The aggregation is expressed as per-token weights computed ONCE on the whole batch
(`aggregation_weights`) and the loss is sum(weight * J). So cutting a batch into micro-batches and
summing their losses gives exactly the full-batch loss and gradient — whatever the micro-batch size,
the gradient-accumulation steps or the number of processes (the bug class of TRL #5619/PR #6024).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

AGGREGATIONS = ("seq_mean_token_mean", "token_mean", "constant_normaliser")
RATIO_LEVELS = ("token", "sequence")
KL_ESTIMATORS = ("k1", "k2", "k3")

# exp() of a log-ratio beyond this overflows float32's useful range; 20 is far outside any sane
# policy/reference gap (pi_ref/pi_theta = e^20) and keeps the loss finite if a token was near-impossible.
_LOG_RATIO_CLAMP = 20.0


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Schulman's k3 estimator of KL[pi_theta || pi_ref] per sampled token (eq. 4).

    `logp` = log pi_theta(o_t), `ref_logp` = log pi_ref(o_t). With x = pi_ref/pi_theta the value is
    x - log x - 1 >= 0; its gradient w.r.t. logp is (1 - x), which gives eq. 21's beta*(x - 1) term
    in the gradient of J. The log-ratio is clamped to +-20 (values only matter far outside RL's regime).
    """
    log_x = (ref_logp - logp).clamp(-_LOG_RATIO_CLAMP, _LOG_RATIO_CLAMP)
    return torch.exp(log_x) - log_x - 1.0


def kl_estimate(logp: torch.Tensor, ref_logp: torch.Tensor, estimator: str = "k3") -> torch.Tensor:
    """Per-token estimate of KL[pi_theta || pi_ref] from sampled tokens (Schulman, "Approximating KL").

    With log x = log pi_ref - log pi_theta: k1 = -log x (unbiased, can be negative), k2 = (log x)^2 / 2
    (biased, low variance; its gradient is the true reverse-KL gradient), k3 = x - log x - 1 (eq. 4).
    """
    if estimator == "k3":
        return k3_kl(logp, ref_logp)
    log_x = (ref_logp - logp).clamp(-_LOG_RATIO_CLAMP, _LOG_RATIO_CLAMP)
    if estimator == "k1":
        return -log_x
    if estimator == "k2":
        return 0.5 * log_x * log_x
    raise ValueError(f"rl.kl_estimator: unknown {estimator!r}; expected one of {', '.join(KL_ESTIMATORS)}")


def sequence_log_ratio(logp: torch.Tensor, old_logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """GSPO's log s_i = (1/|o_i|) sum_t (log pi_theta - log pi_old), broadcast to every token, [N, T].

    An output with no tokens gets 0 (s_i = 1); padding positions carry the row's value (their weight is 0).
    """
    m = mask.to(logp.dtype)
    per_seq = ((logp - old_logp) * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
    return per_seq[:, None].expand_as(logp)


def aggregation_weights(mask: torch.Tensor, aggregation: str = "seq_mean_token_mean", max_len: int | None = None,
                        totals: tuple[int, float] | None = None) -> torch.Tensor:
    """Per-token weights w[N, T] (zero on padding) such that loss = -sum(w * J) is the chosen aggregate.

    Compute these on the WHOLE batch (all groups of one GRPO step), then slice rows for micro-batches.
    An output with no tokens (empty completion) gets weight 0 and still counts in the 1/N of the
    per-output mean, like any output. `totals` = (outputs, tokens) of the whole batch when `mask` holds
    only this process's share of it (several processes): the denominators are the batch's, not the share's.
    """
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"rl.aggregation: unknown aggregation {aggregation!r}; expected one of {', '.join(AGGREGATIONS)}")
    m = mask.to(torch.float64)
    n_outputs, n_tokens = totals if totals is not None else (m.shape[0], float(m.sum()))
    if m.shape[0] == 0:
        return m
    if aggregation == "seq_mean_token_mean":
        lengths = m.sum(dim=1, keepdim=True)
        w = m / lengths.clamp(min=1.0) / n_outputs
    elif aggregation == "token_mean":
        w = m / max(n_tokens, 1.0)
    else:
        if not max_len or max_len <= 0:
            raise ValueError("constant_normaliser aggregation needs max_len > 0 (the fixed generation budget)")
        w = m / (n_outputs * float(max_len))
    return w.to(mask.device, torch.float32)


@dataclass
class LossStats:
    """Diagnostics of one loss evaluation (token means over real tokens; weights = the aggregation's)."""

    kl_mean: float
    clip_fraction: float  # share of tokens where the clipped branch of min() was the active one
    ratio_mean: float
    ratio_max: float
    advantage_mean: float
    tokens: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def grpo_loss(
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    ref_logp: torch.Tensor | None,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    *,
    clip_eps: float = 0.2,
    beta: float = 0.04,
    aggregation: str = "seq_mean_token_mean",
    max_len: int | None = None,
    weights: torch.Tensor | None = None,
    clip_eps_high: float | None = None,
    ratio_level: str = "token",
    kl_estimator: str = "k3",
) -> tuple[torch.Tensor, LossStats]:
    """Minus J_GRPO of eq. 3 for one (micro-)batch; returns (loss, stats).

    Args:
        logp: log pi_theta(o_t | q, o_<t), [N, T], differentiable.
        old_logp: log pi_old of the same tokens (the policy that SAMPLED them), [N, T], no grad.
            With mu = 1 pass ``logp.detach()``: rho = 1 in value while its gradient is grad log pi.
        ref_logp: log pi_ref, [N, T]; ignored (may be None) when beta == 0.
        advantages: A_hat, [N, T] (token-level, process supervision) or [N] (one per output).
        mask: 1 for real completion tokens, [N, T].
        weights: precomputed `aggregation_weights` of the full batch (rows of this micro-batch);
            None = compute them from `mask` (the micro-batch IS the batch).
        clip_eps_high: upper clip 1 + clip_eps_high (DAPO clip-higher); None = clip_eps (symmetric, eq. 3).
        ratio_level: "token" (eq. 3) or "sequence" (GSPO's length-normalised sequence ratio).
        kl_estimator: "k3" (eq. 4), "k1" or "k2" for the beta term.
    """
    if ratio_level not in RATIO_LEVELS:
        raise ValueError(f"rl.ratio_level: unknown {ratio_level!r}; expected one of {', '.join(RATIO_LEVELS)}")
    eps_high = clip_eps if clip_eps_high is None else clip_eps_high
    if advantages.dim() == 1:
        advantages = advantages[:, None].expand_as(logp)
    if logp.shape != old_logp.shape or logp.shape != mask.shape or advantages.shape != logp.shape:
        raise ValueError(
            f"grpo_loss: shape mismatch logp {tuple(logp.shape)}, old_logp {tuple(old_logp.shape)}, "
            f"advantages {tuple(advantages.shape)}, mask {tuple(mask.shape)}"
        )
    maskf = mask.to(logp.dtype)
    if weights is None:
        weights = aggregation_weights(mask, aggregation, max_len)
    weights = weights.to(logp.dtype)

    log_ratio = logp - old_logp if ratio_level == "token" else sequence_log_ratio(logp, old_logp, mask)
    ratio = torch.exp(log_ratio.clamp(-_LOG_RATIO_CLAMP, _LOG_RATIO_CLAMP))
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1.0 - clip_eps, 1.0 + eps_high) * advantages
    surrogate = torch.minimum(unclipped, clipped)
    objective = surrogate
    if beta != 0.0:
        if ref_logp is None:
            raise ValueError("grpo_loss: beta > 0 needs ref_logp")
        kl = kl_estimate(logp, ref_logp, kl_estimator)
        objective = surrogate - beta * kl
    else:
        kl = kl_estimate(logp, ref_logp, kl_estimator) if ref_logp is not None else torch.zeros_like(logp)
    loss = -(weights * objective).sum()

    with torch.no_grad():
        n_tok = maskf.sum().clamp(min=1.0)
        clip_active = (clipped < unclipped) & mask.bool()  # min() picked the clipped branch
        ratio_d = ratio.detach()
        stats = LossStats(
            kl_mean=float((kl.detach() * maskf).sum() / n_tok),
            clip_fraction=float(clip_active.sum() / n_tok),
            ratio_mean=float((ratio_d * maskf).sum() / n_tok),
            ratio_max=float(ratio_d.masked_fill(~mask.bool(), 0.0).max()) if mask.any() else 1.0,
            advantage_mean=float((advantages * maskf).sum() / n_tok),
            tokens=int(maskf.sum()),
        )
    return loss, stats


def grpo_gradient_coefficient(advantages: torch.Tensor, logp: torch.Tensor, ref_logp: torch.Tensor, beta: float) -> torch.Tensor:
    """eq. 21's per-token gradient coefficient A_hat + beta * (pi_ref/pi_theta - 1) (for mu = 1)."""
    if advantages.dim() == 1:
        advantages = advantages[:, None].expand_as(logp)
    return advantages + beta * (torch.exp(ref_logp - logp) - 1.0)


def sequence_logprobs_entropy(logits: torch.Tensor, tokens: torch.Tensor, with_entropy: bool = False):
    """log p(token) for each position from logits [N, T, V] and tokens [N, T] (float32 softmax).

    Returns (logp [N, T], entropy [N, T] or None). Entropy is computed without grad (a diagnostic).
    """
    logits = logits.float()
    logz = torch.logsumexp(logits, dim=-1)
    logp = logits.gather(-1, tokens.unsqueeze(-1)).squeeze(-1) - logz
    entropy = None
    if with_entropy:
        with torch.no_grad():
            probs = torch.softmax(logits, dim=-1)
            entropy = logz - (probs * logits).sum(-1)
    return logp, entropy
