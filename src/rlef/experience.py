"""Episodes -> PPO training tensors, and the loss of one micro-batch (paper 2.2).

One row per episode: the whole dialogue is a single sequence, so one forward pass gives the
log-probs of every turn's response and the critic's value at every turn's context (contexts
are prefixes of the dialogue). Each response token carries its own turn's advantage.
Infra-error episodes only enter as filler batches of weight 0 (the harness failed; they are
not the policy's). An episode whose last prompt outgrew the model's context (Turn.overflow) enters up
to its last answered turn: the overflowed turn has no reply to train, and its prompt may already run
past the positions the model has. The episode's failure is then the reward of the turn before it, as
if the turn limit had ended the episode there.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

import torch
from torch import Tensor

from rlef import ppo
from rlef.rollout import Episode


@dataclass
class EpisodeBatch:
    tokens: Tensor  # (B, T) long, whole dialogue, right-padded
    attention: Tensor  # (B, T) long, 1 on real tokens
    response_mask: Tensor  # (B, T) bool, True only on tokens the policy generated
    turn_of_token: Tensor  # (B, T) long, turn index of each response token, 0 elsewhere (use with the mask)
    value_index: Tensor  # (B, K) long, last prompt token of turn k: the critic reads V(c_k) here
    turn_mask: Tensor  # (B, K) bool, True for turns that happened
    rewards: Tensor  # (B, K) float, r_t (paper 2.2), 0 on absent turns
    behaviour_logp: Tensor  # (B, T) float, sampler log-prob on response tokens, 0 elsewhere
    # Filled by `score` (under the policy the iteration started from, no grad):
    old_logp: Tensor | None = None  # (B, T) float
    old_values: Tensor | None = None  # (B, K) float, V(c_k)
    returns: Tensor | None = None  # (B, K) float, sum_{i>=k} R_i
    advantages: Tensor | None = None  # (B, K) float, normalised over the iteration's turns
    kl: Tensor | None = None  # (B, K) float, mean token log-ratio log pi - log rho of response k
    # 0: a filler batch that only keeps ranks in step (the same number of forwards and backwards
    # on every rank, which ZeRO-3 and DDP need); it adds nothing to the loss or the statistics.
    weight: float = 1.0

    def to(self, device) -> EpisodeBatch:
        return replace(self, **{f.name: getattr(self, f.name).to(device) for f in fields(self)
                                if isinstance(getattr(self, f.name), Tensor)})


def trained_length(episode: Episode) -> int:
    """Tokens of the dialogue PPO trains: up to the end of the last answered turn's reply (all of it
    unless the last turn overflowed). An episode with no answered turn is left out of training
    (iteration.ppo_update); as a weight-0 filler row it keeps one token, whose position always exists."""
    answered = episode.answered_turns
    return answered[-1].context_len + len(answered[-1].response) if answered else 1


def collate(episodes: Sequence[Episode], pad_id: int) -> EpisodeBatch:
    lengths = [trained_length(e) for e in episodes]
    width = max(lengths)
    turns = max(1, *(len(e.answered_turns) for e in episodes))  # >= 1: per_turn_kl stacks over turns
    b = len(episodes)
    batch = EpisodeBatch(
        tokens=torch.full((b, width), pad_id, dtype=torch.long),
        attention=torch.zeros(b, width, dtype=torch.long),
        response_mask=torch.zeros(b, width, dtype=torch.bool),
        turn_of_token=torch.zeros(b, width, dtype=torch.long),
        value_index=torch.zeros(b, turns, dtype=torch.long),
        turn_mask=torch.zeros(b, turns, dtype=torch.bool),
        rewards=torch.zeros(b, turns),
        behaviour_logp=torch.zeros(b, width))
    for row, (episode, n) in enumerate(zip(episodes, lengths)):
        batch.tokens[row, :n] = torch.tensor(episode.tokens[:n])
        batch.attention[row, :n] = 1
        batch.response_mask[row, :n] = torch.tensor(episode.policy_mask[:n])
        for k, turn in enumerate(episode.answered_turns):
            start, end = turn.context_len, turn.context_len + len(turn.response)
            batch.turn_of_token[row, start:end] = k
            batch.behaviour_logp[row, start:end] = torch.tensor(turn.logprobs)
            batch.value_index[row, k] = turn.context_len - 1
            batch.turn_mask[row, k] = True
        if (rewards := episode_rewards(episode)) is not None:
            batch.rewards[row, : len(rewards)] = rewards
    return batch


def episode_rewards(episode: Episode) -> Tensor | None:
    """(K,) ppo.turn_rewards of the episode's answered turns (an overflowed last turn has no reply to
    reward); None when no turn was answered, as for an episode collate leaves out."""
    has_code = [t.code is not None for t in episode.answered_turns]
    return ppo.turn_rewards(episode.solved, has_code) if has_code else None


def per_turn_kl(logp: Tensor, ref_logp: Tensor, batch: EpisodeBatch) -> Tensor:
    """(B, T) log-probs -> (B, K): ppo.kl_penalty (mean token log-ratio, paper 2.2) of each
    turn's response; 0 for absent turns."""
    turns = range(batch.turn_mask.shape[1])
    kl = torch.stack([ppo.kl_penalty(logp, ref_logp, batch.response_mask & (batch.turn_of_token == k))
                      for k in turns], dim=1)
    return kl * batch.turn_mask


@torch.no_grad()
def score(model, batch: EpisodeBatch) -> EpisodeBatch:
    """Old log-probs, reference log-probs and old values for one micro-batch; per-turn KL."""
    logp, _, values = model(batch.tokens, batch.attention, batch.response_mask)
    ref_logp = model.reference_logprobs(batch.tokens, batch.attention, batch.response_mask)
    kl = per_turn_kl(logp, ref_logp, batch)
    return replace(batch, old_logp=logp, old_values=values.gather(1, batch.value_index) * batch.turn_mask, kl=kl)


def assign_advantages(batches: list[EpisodeBatch], kl_beta: float, gamma: float,
                      all_reduce=None) -> list[EpisodeBatch]:
    """R_t = r_t - beta * KL_t; returns-to-go per episode; A_t = G_t - V(c_t), normalised over
    every turn of the iteration (not per micro-batch; over all ranks with `all_reduce`, see
    ppo.normalize). Filler batches (weight 0) are left out of the statistics."""
    done = []
    for batch in batches:
        shaped = (batch.rewards - kl_beta * batch.kl) * batch.turn_mask
        g = torch.stack([ppo.returns(row, gamma) for row in shaped]) * batch.turn_mask
        done.append(replace(batch, returns=g, advantages=(g - batch.old_values) * batch.turn_mask))
    real = [b for b in done if b.weight]
    empty = done[0].advantages.new_zeros(0) if done else torch.zeros(0)
    flat = ppo.normalize(torch.cat([b.advantages[b.turn_mask] for b in real]) if real else empty,
                         all_reduce=all_reduce)
    out, start = [], 0
    for b in done:
        advantages = torch.zeros_like(b.advantages)
        if b.weight:
            n = int(b.turn_mask.sum())
            advantages[b.turn_mask] = flat[start:start + n]
            start += n
        out.append(replace(b, advantages=advantages))
    return out


def micro_batch_loss(model, batch: EpisodeBatch, clip: float, value_clip: float,
                     value_coef: float) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """(policy loss, value loss, stats) of one scored micro-batch, each a mean over its own
    response tokens / turns; the caller weights micro-batches into a minibatch."""
    logp, entropy, values = model(batch.tokens, batch.attention, batch.response_mask)
    token_adv = batch.advantages.gather(1, batch.turn_of_token)
    p_loss, stats = ppo.policy_loss(logp, batch.old_logp, batch.behaviour_logp, token_adv,
                                    batch.response_mask, clip)
    turn_values = values.gather(1, batch.value_index)[batch.turn_mask]
    v_loss = ppo.value_loss(turn_values, batch.old_values[batch.turn_mask], batch.returns[batch.turn_mask],
                            value_clip)
    mask = batch.response_mask.float()
    stats["losses/entropy"] = (entropy * mask).sum() / mask.sum().clamp(min=1.0)
    stats["losses/policy"], stats["losses/value"] = p_loss.detach(), v_loss.detach()
    return p_loss, value_coef * v_loss, stats
