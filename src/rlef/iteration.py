"""One RLEF iteration as plain code (paper 2.2, A.1): sample episodes with the current policy
(rollout.py), score them under the policy, the reference and the critic (experience.py), then
minibatch PPO updates (ppo.py). No Lightning here: the trainer shell (rlef/lightning/) passes in the
two things that depend on the strategy, `Ranks` (this rank, and a reduce across ranks) and an
`Optimization` (backward and optimizer step: DeepSpeed's engine, Lightning's precision plugin,
or plain torch as in `TorchOptimization`). verl, OpenRLHF and cleanrl keep the same split
between the experience maker and the trainer.

Every function is deterministic given the RNGs `reseed` sets, so a resumed run replays an
iteration exactly (rlef.data.problems_for_iteration makes the problems a pure function of it).
"""
from __future__ import annotations

import json
import logging
import math
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from omegaconf import DictConfig
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from rlef import experience
from rlef.data import Problem, problems_for_iteration
from rlef.errors import BadInput
from rlef.ppo import explained_variance
from rlef.rollout import Episode, EpisodeRunner, RolloutConfig, episode_record, hf_backend
from rlef.vllm_backend import VLLMBackend

log = logging.getLogger(__name__)
MODES = ("multi_turn", "single_turn")


def updates_per_iteration(algo) -> int:
    return algo.ppo_epochs * math.ceil(algo.rollouts_per_iteration / algo.minibatch_size)


def rollout_config(cfg: DictConfig, temperature: float, top_p: float) -> RolloutConfig:
    """Training modes: multi_turn (RLEF), single_turn (paper Table 4). Turns without execution
    feedback (the user turn only asks for another try) are rollout.feedback=none, random
    feedback (C.2) rollout.feedback=random: the one feedback setting, in training as in evaluation."""
    mode = cfg.algo.mode
    if mode not in MODES:
        raise BadInput(f"algo.mode must be one of {MODES}, got {mode!r} (no feedback: rollout.feedback=none)")
    return RolloutConfig.from_config(cfg.rollout, temperature, top_p, max_turns=1 if mode == "single_turn" else None)


def reseed(seed: int, iteration: int, rank: int) -> int:
    """Seed python, numpy and torch from (seed, iteration, rank); returns the seed (sampling's too)."""
    value = (seed * 1_000_003 + iteration * 101 + rank) % 2**31
    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)
    return value


@dataclass
class Ranks:
    """This process's place among the training ranks, and a reduce over all of them
    (`reduce(tensor, "sum" | "max")`; the identity on a single process)."""

    rank: int = 0
    world: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    reduce: Callable[[torch.Tensor, str], torch.Tensor] = lambda value, op: value

    def sum(self, value: torch.Tensor) -> torch.Tensor:
        return self.reduce(value.to(self.device), "sum")

    def max(self, value: torch.Tensor) -> torch.Tensor:
        return self.reduce(value.to(self.device), "max")


class Optimization(Protocol):
    """How one minibatch's losses become one optimizer update under the trainer's strategy."""

    def zero_grad(self) -> None: ...

    def begin_micro_batch(self) -> None: ...

    def backward(self, loss: torch.Tensor) -> None: ...

    def step(self) -> float:
        """Clip, step the optimizer and the schedule; returns the policy's learning rate."""


class TorchOptimization:
    """Plain torch: backward, optional norm clipping, optimizer and schedule step."""

    def __init__(self, model: torch.nn.Module, optimizer, scheduler=None, grad_clip: float = 0.0):
        self.model, self.optimizer, self.scheduler, self.grad_clip = model, optimizer, scheduler, grad_clip

    def zero_grad(self) -> None:
        self.optimizer.zero_grad()

    def begin_micro_batch(self) -> None:
        pass

    def backward(self, loss: torch.Tensor) -> None:
        loss.backward()

    def step(self) -> float:
        if self.grad_clip:
            torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad], self.grad_clip)
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        return self.optimizer.param_groups[0]["lr"]


def optimizer_and_schedule(model, algo, optimizer_class=torch.optim.AdamW):
    """ONE optimizer over a policy and a critic parameter group (Lightning's DeepSpeed strategy
    needs one), with A.1's linear warm-up, then a constant rate."""
    optimizer = optimizer_class(model.param_groups(algo.lr, algo.critic_lr, algo.weight_decay))
    warmup = max(1, algo.warmup_steps)
    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / warmup))


def iteration_problems(train: Sequence[Problem], algo, seed: int, iteration: int, ranks: Ranks) -> list[Problem]:
    """This rank's share of the iteration's episodes (one problem per episode)."""
    problems = problems_for_iteration(train, algo.rollouts_per_iteration, seed, iteration, algo.rollouts_per_problem)
    return problems[ranks.rank::ranks.world]


def collect(policy, tokenizer, executor, problems: Sequence[Problem], config: RolloutConfig, rollout_cfg,
            limits, seed: int, lockstep=None, engine: VLLMBackend | None = None, version: int = 0) -> list[Episode]:
    """The episodes of `problems` (one each) under `config`, sampled with `policy` in eval mode.
    `lockstep` (rlef.lightning.lockstep): ranks of a ZeRO-3-sharded policy run every forward together.
    `engine` (rollout.engine=vllm): samples instead of our HF decoder, once it holds the weights after
    `version` updates (engine_ready)."""
    policy.eval()
    if engine is None:
        backend = hf_backend(policy, tokenizer, rollout_cfg.max_batch, rollout_cfg.stop_after_code, seed, lockstep)
    else:
        backend = engine_ready(engine, policy, version, seed)
    runner = EpisodeRunner(backend, tokenizer, executor, config, limits, seed, every_turn=lockstep is not None)
    with progress_bar() as bar:
        task = bar.add_task(f"rollouts ({len(problems)} episodes)", total=config.max_turns, status="")

        def on_turn(turn: int, live: int) -> None:
            bar.update(task, advance=1, status=f"turn {turn + 1} done, {live} continue")
            log.info("  turn %d done: %d episodes continue", turn + 1, live)

        episodes = runner.run(list(problems), on_turn=on_turn)
    if engine is not None:
        engine.sleep()  # the update needs the memory (GPUs; a no-op on CPU)
    policy.train()
    return episodes


def engine_ready(engine: VLLMBackend, policy, version: int, seed: int) -> VLLMBackend:
    """The colocated layout's weight sync: wake the engine and, if its weights are older than the
    policy's (`version`: optimizer updates so far), load the policy's into it; that is after each PPO
    update, and once at start or resume (the engine starts from the model's files). Reseeded per
    iteration, as our HF decoder is."""
    engine.wake_up()
    if engine.weights_version != version:
        engine.sync_weights(policy.state_dict().items(), version)
    else:
        engine.last_sync_s = 0.0
    engine.reseed(seed)
    return engine


def scored_micro_batches(model, episodes: Sequence[Episode], filler: Sequence[Episode], algo, pad_id: int,
                         ranks: Ranks) -> list[experience.EpisodeBatch]:
    """Micro-batches of episodes of similar length (little padding: dialogues range from one
    short turn to three long ones), scored under the old policy, the reference and the critic,
    with their advantages. Every rank gets the same number: ranks short of the largest count add
    filler batches of weight 0 (copies of a real batch, or of `filler` episodes), since each
    micro-batch's forward and backward is a collective under ZeRO-3 (backward under DDP)."""
    order = sorted(range(len(episodes)), key=lambda i: (experience.trained_length(episodes[i]), random.random()))
    size = algo.micro_batch_size
    batches = [experience.collate([episodes[i] for i in order[s:s + size]], pad_id).to(ranks.device)
               for s in range(0, len(order), size)]
    missing = int(ranks.max(torch.tensor(float(len(batches)))).item()) - len(batches)
    if missing:
        template = batches[0] if batches else experience.collate(list(filler[:size]), pad_id).to(ranks.device)
        batches += [replace(template, weight=0.0) for _ in range(missing)]
    model.eval()  # no dropout while scoring the old policy
    scored = [experience.score(model, b) for b in batches]
    model.train()
    return experience.assign_advantages(scored, algo.kl_beta, algo.gamma, ranks.sum)


def ppo_update(model, episodes: Sequence[Episode], algo, optimization: Optimization, ranks: Ranks,
               pad_id: int) -> dict[str, float]:
    """updates_per_iteration(algo) PPO updates on the iteration's episodes: ppo_epochs passes,
    each over the same number of minibatches, as equal as the micro-batches allow (every rank has
    as many micro-batches, so every rank steps as often). Returns the mean of each loss term."""
    # Not the policy's doing: the harness failed, or the first prompt alone overflowed the context.
    usable = [e for e in episodes if not e.infra_error and e.answered_turns]
    if not ranks.sum(torch.tensor(float(len(usable)))).item():
        log.warning("no scorable episode this iteration (infra errors, or first prompts over the model's "
                    "context length): no update")
        return {}
    batches = scored_micro_batches(model, usable, episodes, algo, pad_id, ranks)
    groups = min(updates_per_iteration(algo) // algo.ppo_epochs, len(batches))
    totals: dict[str, float] = {}
    steps = 0
    with progress_bar() as bar:
        task = bar.add_task("PPO updates", total=algo.ppo_epochs * groups, status="")
        for _ in range(algo.ppo_epochs):
            order = list(range(len(batches)))
            random.shuffle(order)
            for g in range(groups):
                chunk = order[g * len(order) // groups:(g + 1) * len(order) // groups]
                for key, value in ppo_step(model, [batches[i] for i in chunk], algo, optimization).items():
                    totals[key] = totals.get(key, 0.0) + value
                steps += 1
                bar.update(task, advance=1, status=f"value loss {totals.get('losses/value', 0) / steps:.3f}")
    return {**{k: v / steps for k, v in totals.items()}, **_targets(batches), "updates": float(steps)}


def ppo_step(model, group: Sequence[experience.EpisodeBatch], algo, optimization: Optimization) -> dict[str, float]:
    """One optimizer update on a minibatch, accumulated over its micro-batches: the policy loss
    weighted per response token, the value loss per turn, over the whole minibatch."""
    tokens = max(1, sum(b.weight * b.response_mask.sum().item() for b in group))
    turns = max(1, sum(b.weight * b.turn_mask.sum().item() for b in group))
    optimization.zero_grad()
    stats: dict[str, float] = {}
    for batch in group:
        optimization.begin_micro_batch()
        p_loss, v_loss, parts = experience.micro_batch_loss(model, batch, algo.clip, algo.value_clip, algo.value_coef)
        w_tok = batch.weight * batch.response_mask.sum().item() / tokens
        w_turn = batch.weight * batch.turn_mask.sum().item() / turns
        optimization.backward(p_loss * w_tok + v_loss * w_turn)
        for key, value in parts.items():
            weight = w_turn if key == "losses/value" else w_tok
            stats[key] = stats.get(key, 0.0) + weight * value.item()
    stats["lr/policy"] = optimization.step()
    return stats


def _targets(batches: Sequence[experience.EpisodeBatch]) -> dict[str, float]:
    """How well the old values predicted the returns, and the KL to the reference, per turn."""
    real = [b for b in batches if b.weight] or list(batches[:1])  # (a rank with fillers only logs its fillers)
    returns = torch.cat([b.returns[b.turn_mask] for b in real])
    old_values = torch.cat([b.old_values[b.turn_mask] for b in real])
    kl = torch.cat([b.kl[b.turn_mask] for b in real])
    return {"losses/explained_variance": explained_variance(old_values, returns).item(), "kl/ref": kl.mean().item(),
            "returns/mean": returns.mean().item(), "values/mean": old_values.mean().item()}


def solve_rate(episodes: Sequence[Episode], ranks: Ranks) -> float:
    """The share of episodes solved, over all ranks."""
    solved = ranks.sum(torch.tensor([float(sum(e.solved for e in episodes)), float(len(episodes))]))
    return (solved[0] / solved[1].clamp(min=1)).item()


def write_rollouts(run_dir: Path, iteration: int, rank: int, episodes: Sequence[Episode]) -> None:
    """Every episode of every iteration, traceable (rank-suffixed; rewritten on a repeat)."""
    folder = Path(run_dir) / "rollouts"
    folder.mkdir(exist_ok=True)
    with (folder / f"iter{iteration:06d}_rank{rank}.jsonl").open("w") as f:
        f.writelines(json.dumps(episode_record(e)) + "\n" for e in episodes)


def progress_bar() -> Progress:
    """Rich progress bars in a terminal; silent in batch jobs (log lines carry the progress)."""
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                    TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=Console(stderr=True),
                    disable=not sys.stderr.isatty())
