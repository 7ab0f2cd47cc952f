"""RLEF's objective (paper 2.2, A.1) as pure tensor functions. No models, no loops over data.

Episode of turns t = 1..T, response a_t in context c_t:
  r_t  = +1 / -1 at the last turn (all private tests pass or not); -0.2 at an intermediate
         turn whose response has no valid code (multi-turn only); 0 otherwise.
  R_t  = r_t - beta * log( pi(a_t|c_t) / rho(a_t|c_t) ),   beta = 0.05
         where pi(a|c) is the GEOMETRIC MEAN of token probabilities, i.e. the KL term is the
         mean token log-ratio (long responses are not penalised for their length).
  A_t  = sum_{i>=t} gamma^(i-t) R_i - V(c_t),   gamma = 1; V read by the turn-level critic at
         the last token of c_t; A_t is shared by every token of a_t, then normalised.
  Policy: PPO clipped surrogate (eps 0.2) per token, times stopgrad(min(pi_theta / pi_b, 1))
          to correct for the behaviour policy pi_b that sampled the rollouts.
  Value:  clipped value loss (0.2) on V(c_t) against the returns.
"""
from __future__ import annotations

import torch
from torch import Tensor

PASS_REWARD, FAIL_REWARD, INVALID_CODE_PENALTY = 1.0, -1.0, -0.2  # paper 2.2


def turn_rewards(solved: bool, has_code: list[bool]) -> Tensor:
    """r_t for one episode, shape (T,). The last turn gets +-1 whether or not it has code, so
    a reply without code never scores better than wrong code (both -1 at the end). Earlier
    turns without code get the invalid-code penalty (a single-turn episode has none)."""
    rewards = torch.zeros(len(has_code))
    for t, valid in enumerate(has_code[:-1]):
        if not valid:
            rewards[t] = INVALID_CODE_PENALTY
    rewards[-1] = PASS_REWARD if solved else FAIL_REWARD
    return rewards


def kl_penalty(logp: Tensor, ref_logp: Tensor, mask: Tensor) -> Tensor:
    """Per-response KL estimate, shape (B,): the mean token log-ratio log pi - log rho over the
    response (paper 2.2: geometric mean of token probabilities).
    logp, ref_logp: (B, L) float; mask: (B, L) bool, True on response tokens."""
    mask = mask.float()
    return ((logp - ref_logp) * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)


def returns(rewards: Tensor, gamma: float = 1.0) -> Tensor:
    """Rewards-to-go of one episode, shape (T,): sum_{i>=t} gamma^(i-t) R_i."""
    out = torch.zeros_like(rewards)
    running = torch.zeros(())
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def normalize(advantages: Tensor, eps: float = 1e-8, all_reduce=None) -> Tensor:
    """Zero mean, unit variance over the batch of turns (one advantage per turn). all_reduce,
    if given, sums a tensor over ranks: the statistics are then those of the whole iteration,
    not of one rank's share of it."""
    stats = torch.stack([torch.tensor(float(advantages.numel()), device=advantages.device),
                         advantages.sum(), (advantages ** 2).sum()])
    n, total, squares = all_reduce(stats) if all_reduce is not None else stats
    mean = total / n.clamp(min=1)
    if n < 2:
        return advantages - mean
    std = ((squares - n * mean ** 2).clamp(min=0) / (n - 1)).sqrt()  # unbiased, as torch.std
    return (advantages - mean) / (std + eps)


def policy_loss(logp: Tensor, old_logp: Tensor, behaviour_logp: Tensor, advantages: Tensor, mask: Tensor,
                clip: float = 0.2) -> tuple[Tensor, dict[str, Tensor]]:
    """Clipped PPO surrogate with the off-policy correction, averaged over response tokens.
    logp: (B, L) under the current policy (with grad); old_logp: (B, L) under the policy the
    update started from; behaviour_logp: (B, L) under the sampler; advantages: (B,) one per
    response, broadcast to its tokens, or (B, L) when a row holds several turns (each token
    carries its own turn's advantage); mask: (B, L) bool, True on response tokens."""
    mask = mask.float()
    ratio = torch.exp(logp - old_logp)
    adv = advantages if advantages.dim() == 2 else advantages[:, None]
    surrogate = torch.min(ratio * adv, ratio.clamp(1 - clip, 1 + clip) * adv)
    correction = torch.exp(logp - behaviour_logp).clamp(max=1.0).detach()
    tokens = mask.sum().clamp(min=1.0)
    loss = -(correction * surrogate * mask).sum() / tokens
    with torch.no_grad():
        stats = {"losses/clipfrac": (((ratio - 1).abs() > clip).float() * mask).sum() / tokens,
                 "losses/approx_kl": (((ratio - 1) - (logp - old_logp)) * mask).sum() / tokens,
                 "losses/offpolicy_weight": (correction * mask).sum() / tokens}
    return loss, stats


def value_loss(values: Tensor, old_values: Tensor, target: Tensor, clip: float = 0.2) -> Tensor:
    """Clipped value loss (PPO), per turn: values, old_values, target are (B,)."""
    clipped = old_values + (values - old_values).clamp(-clip, clip)
    return 0.5 * torch.max((values - target) ** 2, (clipped - target) ** 2).mean()


def explained_variance(values: Tensor, target: Tensor) -> Tensor:
    """1 - Var[target - V] / Var[target]: 1 is a perfect critic, <= 0 is no better than a constant."""
    var = target.var()
    return torch.tensor(float("nan")) if var == 0 else 1 - (target - values).var() / var
