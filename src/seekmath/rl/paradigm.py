"""The unified paradigm of DeepSeekMath §5.2 (Table 10, eq. 5, App. A.1) as pure loss functions.

Every method's gradient has the form (eq. 5)

    grad J_A(theta) = E_{(q,o) ~ D} [ (1/|o|) sum_t GC_A(q, o, t, pi_rf) * grad log pi_theta(o_t | q, o_<t) ]

with three components: the data source D (which questions, whose samples, offline or online), the
reward function pi_rf (none, the rule, or a model) and the algorithm A, which turns data and reward
into the per-token gradient coefficient GC. `METHODS` lists the table; the losses below are written so
that -d loss / d logp_t, times |o| and the number of outputs N (the (1/|o|) and 1/N of the
aggregation), is exactly the table's coefficient — `measured_gradient_coefficient` measures that with
autograd and tests/rl/test_paradigm.py checks it against the `gc_*` formulas:

| method      | data source                                  | reward | GC                                        |
|-------------|----------------------------------------------|--------|-------------------------------------------|
| SFT         | q, o ~ P_sft(Q, O)                           | -      | 1                                         |
| RFT         | q ~ P_sft(Q), o ~ pi_sft(O|q)   (offline)    | rule   | I(o)                                      |
| Online RFT  | q ~ P_sft(Q), o ~ pi_theta(O|q) (online)     | rule   | I(o)                                      |
| DPO         | q ~ P_sft(Q), o+, o- ~ pi_sft(O|q) (offline) | rule   | +-sigma(beta*Dr(o-) - beta*Dr(o+)) (x beta)|
| PPO         | q ~ P_sft(Q), o ~ pi_theta(O|q) (online)     | model  | A_t (GAE over r_t with the KL in r_t)     |
| GRPO        | q ~ P_sft(Q), {o_i} ~ pi_theta(O|q) (online) | model  | A_i,t + beta (pi_ref/pi_theta - 1)        |

Shapes: per-token tensors are [N, T] with mask [N, T] (1 = real completion token). Losses are to be
MINIMISED (loss = -J). The PPO and GRPO analyses assume one update per exploration stage (old = theta,
so the clip is inactive; App. A.1.5-6): pass `old_logp = logp.detach()` to get that regime.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class Method:
    """One row of Table 10: where the data comes from, what rewards it, and its gradient coefficient."""

    name: str
    data_source: str
    online: bool
    reward: str  # "none" | "rule" | "model"
    gradient_coefficient: str


METHODS: dict[str, Method] = {
    "sft": Method("SFT", "q, o ~ P_sft(Q, O)", False, "none", "1"),
    "rft": Method("RFT", "q ~ P_sft(Q), o ~ pi_sft(O|q)", False, "rule", "I(o)"),
    "online_rft": Method("Online RFT", "q ~ P_sft(Q), o ~ pi_theta(O|q)", True, "rule", "I(o)"),
    "dpo": Method("DPO", "q ~ P_sft(Q), o+, o- ~ pi_sft(O|q)", False, "rule",
                  "sigma(beta log-ratio(o-) - beta log-ratio(o+)), + on o+ tokens, - on o- tokens"),
    "ppo": Method("PPO", "q ~ P_sft(Q), o ~ pi_theta(O|q)", True, "model", "A_t (GAE)"),
    "grpo": Method("GRPO", "q ~ P_sft(Q), {o_i} ~ pi_theta(O|q)", True, "model", "A_i,t + beta (pi_ref/pi_theta - 1)"),
}


# ----------------------------------------------------------------------------------------------
# Aggregation shared by all methods: (1/N) sum_i (1/|o_i|) sum_t x_i,t   (eq. 5's E and 1/|o|)


def seq_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over outputs of each output's token mean; an output without tokens contributes 0."""
    m = mask.to(x.dtype)
    per_output = (x * m).sum(-1) / m.sum(-1).clamp(min=1.0)
    return per_output.mean() if per_output.numel() else x.sum() * 0.0


def token_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.to(x.dtype)
    return (x * m).sum() / m.sum().clamp(min=1.0)


def _check(name: str, mask: torch.Tensor, **tensors: torch.Tensor) -> None:
    for k, t in tensors.items():
        if t is not None and t.shape != mask.shape:
            raise ValueError(f"{name}: {k} has shape {tuple(t.shape)} but mask has {tuple(mask.shape)}")


# ----------------------------------------------------------------------------------------------
# SFT, RFT, online RFT  (eq. 6-10)


def sft_loss(logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """-(1/N) sum_i (1/|o_i|) sum_t log pi(o_t): maximum likelihood on SFT data (eq. 6-7); GC = 1."""
    _check("sft_loss", mask, logp=logp)
    return -seq_mean(logp, mask)


def rft_loss(logp: torch.Tensor, mask: torch.Tensor, correct: torch.Tensor) -> torch.Tensor:
    """Rejection-sampling fine-tuning (eq. 8-10): likelihood of the sampled outputs weighted by I(o).

    `correct[N]` is the rule reward (1 = correct answer). Wrong outputs stay in the batch with weight 0,
    so the expectation of eq. 5 runs over ALL sampled outputs, as in the paper. The same loss is online
    RFT when the outputs are sampled from the current policy (the data source is the only difference).
    """
    _check("rft_loss", mask, logp=logp)
    if correct.shape != logp.shape[:1]:
        raise ValueError(f"rft_loss: correct has shape {tuple(correct.shape)}, expected ({logp.shape[0]},)")
    indicator = (correct > 0.5).to(logp.dtype)
    return -seq_mean(indicator[:, None] * logp, mask)


online_rft_loss = rft_loss


# ----------------------------------------------------------------------------------------------
# DPO as the paper writes it (eq. 12-14): token-averaged log-ratios


def mean_log_ratio(logp: torch.Tensor, ref_logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(1/|o|) sum_t log(pi_theta/pi_ref)(o_t) per output, [N]."""
    m = mask.to(logp.dtype)
    return ((logp - ref_logp) * m).sum(-1) / m.sum(-1).clamp(min=1.0)


def dpo_loss(
    logp_pos: torch.Tensor, ref_pos: torch.Tensor, mask_pos: torch.Tensor,
    logp_neg: torch.Tensor, ref_neg: torch.Tensor, mask_neg: torch.Tensor,
    beta: float = 0.1,
) -> torch.Tensor:
    """-(1/N) sum_pairs log sigma(beta*Dr(o+) - beta*Dr(o-)), Dr = token-averaged log-ratio (eq. 12).

    Note the 1/|o| inside Dr: the paper's DPO averages over tokens (the original DPO sums), which
    makes its gradient fit eq. 5's (1/|o|) sum_t form. Rows i of the + and - tensors form pair i.
    """
    _check("dpo_loss(+)", mask_pos, logp=logp_pos, ref=ref_pos)
    _check("dpo_loss(-)", mask_neg, logp=logp_neg, ref=ref_neg)
    if logp_pos.shape[0] != logp_neg.shape[0]:
        raise ValueError(f"dpo_loss: {logp_pos.shape[0]} chosen but {logp_neg.shape[0]} rejected outputs")
    margin = beta * (mean_log_ratio(logp_pos, ref_pos, mask_pos) - mean_log_ratio(logp_neg, ref_neg, mask_neg))
    return -F.logsigmoid(margin).mean()


# ----------------------------------------------------------------------------------------------
# PPO (eq. 1-2): KL in the per-token reward, GAE, clipped surrogate, value loss


class ValueHead(nn.Module):
    """V_psi: a scalar per position from the backbone's last hidden states ([N, T, H] -> [N, T])."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.proj = nn.Linear(hidden_size, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.proj(hidden.to(self.proj.weight.dtype)).squeeze(-1)


def ppo_token_rewards(
    scores: torch.Tensor, logp: torch.Tensor, ref_logp: torch.Tensor, mask: torch.Tensor, beta: float
) -> torch.Tensor:
    """r_t = r_phi(q, o_<=t) - beta * log(pi_theta/pi_ref)(o_t)   (eq. 2).

    `scores` is [N] (an outcome reward, given at each output's last real token) or [N, T] (a reward
    per token, e.g. a process reward at step ends, zero elsewhere). No gradient flows through r_t.
    """
    _check("ppo_token_rewards", mask, logp=logp, ref_logp=ref_logp)
    m = mask.to(logp.dtype)
    kl = (logp - ref_logp).detach()
    r = -beta * kl * m
    if scores.dim() == 1:
        if scores.shape[0] != logp.shape[0]:
            raise ValueError(f"ppo_token_rewards: {scores.shape[0]} scores for {logp.shape[0]} outputs")
        last = last_token_index(mask)
        has = m.sum(-1) > 0
        rows = torch.arange(logp.shape[0], device=logp.device)[has]
        r = r.clone()
        r[rows, last[has]] += scores[has].to(r.dtype)
    else:
        _check("ppo_token_rewards", mask, scores=scores)
        r = r + scores.to(r.dtype) * m
    return r


def last_token_index(mask: torch.Tensor) -> torch.Tensor:
    """Index of the last real token of each row (0 for an all-padding row); works for left or right padding."""
    T = mask.shape[-1]
    pos = torch.arange(T, device=mask.device).expand_as(mask)
    return torch.where(mask.bool(), pos, torch.zeros_like(pos)).max(-1).values


def gae(rewards: torch.Tensor, values: torch.Tensor, gamma: float = 1.0, lam: float = 0.95,
        mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation (Schulman et al. 2016), as PPO uses it in §4.1.

        delta_t = r_t + gamma * V_{t+1} - V_t          (V after the last real token = 0: terminal)
        A_t     = delta_t + gamma * lam * A_{t+1}
        returns_t = A_t + V_t                           (the value target)

    rewards, values: [T] or [N, T]; mask (same shape, optional) marks real tokens — the episode ends
    at each row's last real token and padding gets A = 0. Returns (advantages, returns), no grad.
    """
    squeeze = rewards.dim() == 1
    if squeeze:
        rewards, values = rewards[None], values[None]
        mask = mask[None] if mask is not None else None
    if rewards.shape != values.shape:
        raise ValueError(f"gae: rewards {tuple(rewards.shape)} and values {tuple(values.shape)} differ in shape")
    rewards, values = rewards.detach(), values.detach()
    m = torch.ones_like(rewards) if mask is None else mask.to(rewards.dtype)
    N, T = rewards.shape
    adv = torch.zeros_like(rewards)
    next_value = torch.zeros(N, dtype=rewards.dtype, device=rewards.device)
    next_adv = torch.zeros_like(next_value)
    for t in range(T - 1, -1, -1):
        mt = m[:, t]
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        a = (delta + gamma * lam * next_adv) * mt
        adv[:, t] = a
        next_value = values[:, t] * mt
        next_adv = a
    returns = (adv + values) * m
    if squeeze:
        return adv[0], returns[0]
    return adv, returns


def ppo_loss(
    logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor,
    values: torch.Tensor | None = None, returns: torch.Tensor | None = None, *,
    clip_eps: float = 0.2, vf_coef: float = 0.5, old_values: torch.Tensor | None = None,
    value_clip: float | None = None,
) -> tuple[torch.Tensor, dict]:
    """PPO (eq. 1): -(1/N) sum_i (1/|o_i|) sum_t min(rho_t A_t, clip(rho_t, 1-eps, 1+eps) A_t) + vf_coef * value loss.

    value loss = (1/N) sum_i (1/|o_i|) sum_t 0.5 (V_t - R_t)^2 (optionally clipped around old_values).
    Advantages and returns come from `gae` (no grad). Returns (loss, stats).
    """
    _check("ppo_loss", mask, logp=logp, old_logp=old_logp, advantages=advantages, values=values, returns=returns)
    adv = advantages.detach()
    ratio = torch.exp((logp - old_logp.detach()).clamp(-20.0, 20.0))
    unclipped = ratio * adv
    clipped = ratio.clamp(1.0 - clip_eps, 1.0 + clip_eps) * adv
    policy_loss = -seq_mean(torch.minimum(unclipped, clipped), mask)
    stats = {
        "policy_loss": float(policy_loss.detach()),
        "clip_fraction": float(token_mean(((clipped < unclipped) & mask.bool()).float(), mask)),
    }
    loss = policy_loss
    if values is not None:
        if returns is None:
            raise ValueError("ppo_loss: values given without returns")
        v_err = (values - returns.detach()) ** 2
        if value_clip is not None and old_values is not None:
            v_clipped = old_values.detach() + (values - old_values.detach()).clamp(-value_clip, value_clip)
            v_err = torch.maximum(v_err, (v_clipped - returns.detach()) ** 2)
        value_loss = 0.5 * seq_mean(v_err, mask)
        stats["value_loss"] = float(value_loss.detach())
        loss = loss + vf_coef * value_loss
    return loss, stats


# ----------------------------------------------------------------------------------------------
# GRPO (eq. 3): helper "grpo"'s implementation, the single source of truth


def grpo_paradigm_loss(
    logp: torch.Tensor, ref_logp: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor, *,
    old_logp: torch.Tensor | None = None, beta: float = 0.04, clip_eps: float = 0.2,
) -> torch.Tensor:
    """GRPO's loss as in `seekmath.rl.losses.grpo_loss` (paper aggregation); old = theta when not given."""
    from seekmath.rl.losses import grpo_loss

    old = logp.detach() if old_logp is None else old_logp
    loss, _ = grpo_loss(logp, old, ref_logp, advantages, mask, clip_eps=clip_eps, beta=beta,
                        aggregation="seq_mean_token_mean")
    return loss


# ----------------------------------------------------------------------------------------------
# Table 10's gradient coefficients as formulas, and their measurement with autograd


def gc_sft(mask: torch.Tensor) -> torch.Tensor:
    return mask.to(torch.float32)


def gc_rft(correct: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (correct > 0.5).to(torch.float32)[:, None] * mask.to(torch.float32)


def gc_dpo(logp_pos, ref_pos, mask_pos, logp_neg, ref_neg, mask_neg, beta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(GC on o+ tokens, GC on o- tokens) = (+s, -s), s = sigma(beta*Dr(o-) - beta*Dr(o+)) (eq. 14).

    The paper writes the coefficient without the constant factor beta that the chain rule also gives
    (d/dlogp of beta*Dr is beta/|o|); it is a positive constant absorbed into the learning rate, so this
    returns the table's value and `measured_gradient_coefficient` of `dpo_loss` equals beta times it.
    """
    with torch.no_grad():
        s = torch.sigmoid(beta * mean_log_ratio(logp_neg, ref_neg, mask_neg) - beta * mean_log_ratio(logp_pos, ref_pos, mask_pos))
    return s[:, None] * mask_pos.to(s.dtype), -s[:, None] * mask_neg.to(s.dtype)


def gc_ppo(advantages: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return advantages * mask.to(advantages.dtype)


def gc_grpo(advantages: torch.Tensor, logp: torch.Tensor, ref_logp: torch.Tensor, mask: torch.Tensor, beta: float) -> torch.Tensor:
    """A_i,t + beta (pi_ref/pi_theta - 1) (eq. 21)."""
    if advantages.dim() == 1:
        advantages = advantages[:, None].expand_as(logp)
    return (advantages + beta * (torch.exp(ref_logp - logp) - 1.0)) * mask.to(logp.dtype)


def measured_gradient_coefficient(loss: torch.Tensor, logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """GC_t measured with autograd: -N * |o_i| * d loss / d logp_i,t (undoing eq. 5's 1/N and 1/|o|).

    `logp` must be a tensor the loss was computed from (a leaf, or retain_grad'ed). Padding gets 0.
    """
    (grad,) = torch.autograd.grad(loss, logp, retain_graph=True)
    m = mask.to(grad.dtype)
    lengths = m.sum(-1, keepdim=True)
    return -grad * logp.shape[0] * lengths * m


LOSSES: dict[str, Callable] = {
    "sft": sft_loss,
    "rft": rft_loss,
    "online_rft": online_rft_loss,
    "dpo": dpo_loss,
    "ppo": ppo_loss,
    "grpo": grpo_paradigm_loss,
}
