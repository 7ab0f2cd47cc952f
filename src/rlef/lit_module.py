"""The only Lightning import: rollouts -> PPO updates -> logging -> checkpoints (paper 2.2, A.1).

One Lightning epoch is one RLEF iteration: sample `rollouts_per_iteration` episodes with the
current policy (rollout.py), score them under the policy, the reference and the critic
(experience.py), then minibatch PPO updates (manual optimisation; ONE optimizer holding a
policy and a critic parameter group, as Lightning's DeepSpeed strategy requires).

Resuming: a checkpoint is written at the end of every `checkpoint_every_iterations`-th
iteration. Each iteration draws its problems from a stream that is a pure function of the
iteration (rlef.data.problems_for_iteration) and reseeds every RNG from (seed, iteration,
rank), so `kill -9` followed by the same command continues exactly where the last checkpoint
left off: no completed iteration is repeated or lost, and logs past it are trimmed.
"""
from __future__ import annotations

import json
import logging
import math
import random
import shutil
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import lightning.pytorch as L
import numpy as np
import torch
from hydra.utils import instantiate
from lightning.fabric.utilities.seed import reset_seed
from lightning.pytorch.callbacks import ModelCheckpoint, RichProgressBar
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.strategies import DDPStrategy, DeepSpeedStrategy
from lightning.pytorch.utilities.exceptions import SIGTERMException  # noqa: F401 - train_task's stop path
from omegaconf import DictConfig
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from torch.utils.data import DataLoader

from rlef import experience
from rlef.data import problems_for_iteration
from rlef.errors import BadInput
from rlef.execution.types import Limits
from rlef.lockstep import Lockstep
from rlef.ppo import explained_variance
from rlef.rollout import EpisodeRunner, RolloutConfig, episode_record, hf_backend
from rlef.train_metrics import append_iteration, rollout_metrics, trim_metrics

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


class RLEFModule(L.LightningModule):
    def __init__(self, model, tokenizer, executor, train_problems, valid_problems, cfg: DictConfig, run_dir: Path):
        """model: a rlef.models.PolicyCritic, or a zero-argument function building one, which
        configure_model calls (how train_task passes it: sharded at creation under ZeRO-3)."""
        super().__init__()
        self.model = model if isinstance(model, torch.nn.Module) else None
        self._build_model = None if self.model is not None else model
        self.automatic_optimization = False
        self.tokenizer, self.executor, self.cfg, self.algo = tokenizer, executor, cfg, cfg.algo
        self.train_problems, self.valid_problems, self.run_dir = train_problems, valid_problems, Path(run_dir)
        self.best_val = float("-inf")

    def configure_model(self) -> None:
        """Lightning calls this inside strategy.model_sharded_context(): under ZeRO-3 that is
        deepspeed.zero.Init, so every weight of the policy, the critic and the reference is
        sharded over the ranks as it is created, and HfDeepSpeedConfig makes from_pretrained
        load each checkpoint shard straight into those partitions: no rank ever holds a whole
        70B model. Elsewhere it simply builds the module (once: resume calls it again)."""
        if self.model is not None:
            return
        if self._is_zero3():
            from transformers.integrations import HfDeepSpeedConfig

            self._hf_zero3 = HfDeepSpeedConfig(self.trainer.strategy.config)  # transformers holds a weak ref
        self.model = self._build_model()
        tensors = list(self.model.parameters())
        sharded = f", {sum(hasattr(t, 'ds_id') for t in tensors)} sharded at creation" if self._is_zero3() else ""
        log.info("built policy, critic and reference: %d tensors%s", len(tensors), sharded)

    # ---- optimisation -------------------------------------------------------------------
    def _is_deepspeed(self) -> bool:
        return "deepspeed" in type(self.trainer.strategy).__name__.lower()

    def _is_zero3(self) -> bool:
        return self._is_deepspeed() and self.trainer.strategy.zero_stage_3

    def on_fit_start(self) -> None:
        if self._is_zero3() and self.algo.lora.enabled:
            raise RuntimeError("algo.lora.enabled=true is not supported with DeepSpeed ZeRO-3 (the adapters could "
                               "not be merged into sharded weights): use trainer=ddp or full fine-tuning")

    def _begin_micro_batch(self) -> None:
        """What DeepSpeed's engine.forward does before each micro-batch: move ZeRO's micro-step
        counter, without which every backward OVERWRITES the gradient partitions instead of adding
        to them (measured: only the last micro-batch survived). Our micro-batches call the module
        directly; Lightning runs engine.forward once per training_step, i.e. once per iteration."""
        if self._is_deepspeed():
            self.trainer.strategy.deepspeed_engine.optimizer.clear_backward_seen_flag()

    def configure_optimizers(self):
        a = self.algo
        groups = self.model.param_groups(a.lr, a.critic_lr, a.weight_decay)
        if self._is_deepspeed() and self.trainer.strategy.config["zero_optimization"].get("offload_optimizer"):
            from deepspeed.ops.adam import DeepSpeedCPUAdam  # ZeRO refuses torch AdamW with offload

            optimizer = DeepSpeedCPUAdam(groups, adamw_mode=True)
        else:
            optimizer = torch.optim.AdamW(groups)
        warmup = max(1, a.warmup_steps)  # A.1: linear warm-up, then constant
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / warmup))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def train_dataloader(self):
        return DataLoader([0], batch_size=1)  # one batch per epoch; the iteration is current_epoch

    def training_step(self, batch, batch_idx):
        iteration = self.current_epoch
        self._reseed(iteration)
        start = time.time()
        episodes = self._rollouts(iteration)
        rollout_s = time.time() - start
        stats = self._update(episodes)
        metrics = {**rollout_metrics(episodes, rollout_s), **stats, "iteration": float(iteration),
                   "time/update_s": time.time() - start - rollout_s}
        metrics.update(self._maybe_validate(iteration))
        self.log_dict(metrics, on_step=True, on_epoch=False, sync_dist=False)
        if self.trainer.is_global_zero:
            append_iteration(self.run_dir / "iterations.csv", metrics)
        log.info("iteration %d: reward %.3f solved %.3f kl %.4f value loss %.4f (%.0f s)", iteration,
                 metrics["rollout/reward"], metrics["rollout/solve_rate"], metrics.get("kl/ref", float("nan")),
                 metrics.get("losses/value", float("nan")), time.time() - start)
        self._write_rollouts(iteration, episodes)

    def _reseed(self, iteration: int) -> None:
        seed = (self.cfg.seed * 1_000_003 + iteration * 101 + self.global_rank) % 2**31
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        self._iteration_seed = seed

    def _rollouts(self, iteration: int, problems=None, sampling=None) -> list:
        rank, world = self.global_rank, self.trainer.world_size
        if problems is None:
            problems = problems_for_iteration(self.train_problems, self.algo.rollouts_per_iteration, self.cfg.seed,
                                              iteration, self.algo.rollouts_per_problem)[rank::world]
        config = sampling or rollout_config(self.cfg, self.algo.temperature, self.algo.top_p)
        policy = self.model.policy
        policy.eval()
        lockstep = Lockstep(policy, self.device) if self._is_zero3() and self.trainer.world_size > 1 else None
        backend = hf_backend(policy, self.tokenizer, self.cfg.rollout.max_batch, self.cfg.rollout.stop_after_code,
                             self._iteration_seed, lockstep)
        runner = EpisodeRunner(backend, self.tokenizer, self.executor, config, Limits.from_config(self.cfg.execution),
                               self._iteration_seed, every_turn=lockstep is not None)
        with _bar() as bar:
            task = bar.add_task(f"rollouts ({len(problems)} episodes)", total=config.max_turns, status="")

            def on_turn(turn: int, live: int) -> None:
                bar.update(task, advance=1, status=f"turn {turn + 1} done, {live} continue")
                log.info("  turn %d done: %d episodes continue", turn + 1, live)

            episodes = runner.run(problems, on_turn=on_turn)
        policy.train()
        return episodes

    def _sum_over_ranks(self, value: torch.Tensor) -> torch.Tensor:
        return self.trainer.strategy.reduce(value.to(self.device), reduce_op="sum")

    def _micro_batches(self, episodes: list, filler: list) -> list[experience.EpisodeBatch]:
        """Micro-batches of episodes of similar length (little padding: dialogues range from
        one short turn to three long ones); _update shuffles them into minibatches. Every rank
        gets the same number: ranks short of the largest count add filler batches of weight 0
        (copies of a real batch, or of `filler` episodes), since each micro-batch's forward and
        backward is a collective under ZeRO-3 (backward under DDP)."""
        order = sorted(range(len(episodes)), key=lambda i: (len(episodes[i].tokens), random.random()))
        size, pad = self.algo.micro_batch_size, self.tokenizer.pad_token_id
        batches = [experience.collate([episodes[i] for i in order[s:s + size]], pad).to(self.device)
                   for s in range(0, len(order), size)]
        most = self.trainer.strategy.reduce(torch.tensor(float(len(batches)), device=self.device), reduce_op="max")
        missing = int(most.item()) - len(batches)
        if missing:
            template = batches[0] if batches else \
                experience.collate(filler[:size], pad).to(self.device)
            batches += [replace(template, weight=0.0) for _ in range(missing)]
        self.model.eval()  # no dropout while scoring the old policy
        scored = [experience.score(self.model, b) for b in batches]
        self.model.train()
        return experience.assign_advantages(scored, self.algo.kl_beta, self.algo.gamma, self._sum_over_ranks)

    def _update(self, episodes: list) -> dict[str, float]:
        usable = [e for e in episodes if not e.infra_error]
        if not self._sum_over_ranks(torch.tensor(float(len(usable)))).item():
            log.warning("no scorable episode this iteration (all infra errors): no update")
            return {}
        batches = self._micro_batches(usable, filler=episodes)
        # updates_per_iteration's minibatches, as equal as the micro-batches allow, so the update count
        # is the configured one whatever the minibatch, micro-batch and rank sizes (every rank has as
        # many micro-batches, so every rank steps as often)
        groups = min(updates_per_iteration(self.algo) // self.algo.ppo_epochs, len(batches))
        totals: dict[str, float] = {}
        steps = 0
        with _bar() as bar:
            task = bar.add_task("PPO updates", total=self.algo.ppo_epochs * groups, status="")
            for _ in range(self.algo.ppo_epochs):
                order = list(range(len(batches)))
                random.shuffle(order)
                for g in range(groups):
                    chunk = order[g * len(order) // groups:(g + 1) * len(order) // groups]
                    for key, value in self._step([batches[i] for i in chunk]).items():
                        totals[key] = totals.get(key, 0.0) + value
                    steps += 1
                    bar.update(task, advance=1, status=f"value loss {totals.get('losses/value', 0) / steps:.3f}")
        stats = {k: v / steps for k, v in totals.items()}
        real = [b for b in batches if b.weight] or batches[:1]  # (a rank with fillers only logs its fillers)
        returns = torch.cat([b.returns[b.turn_mask] for b in real])
        old_values = torch.cat([b.old_values[b.turn_mask] for b in real])
        kl = torch.cat([b.kl[b.turn_mask] for b in real])
        stats.update({"losses/explained_variance": explained_variance(old_values, returns).item(),
                      "kl/ref": kl.mean().item(), "returns/mean": returns.mean().item(),
                      "values/mean": old_values.mean().item(), "updates": float(steps)})
        return stats

    def _step(self, group: list[experience.EpisodeBatch]) -> dict[str, float]:
        """One optimizer update on a minibatch, accumulated over its micro-batches."""
        optimizer, scheduler = self.optimizers(), self.lr_schedulers()
        tokens = max(1, sum(b.weight * b.response_mask.sum().item() for b in group))
        turns = max(1, sum(b.weight * b.turn_mask.sum().item() for b in group))
        optimizer.zero_grad()
        stats: dict[str, float] = {}
        for batch in group:
            self._begin_micro_batch()
            p_loss, v_loss, parts = experience.micro_batch_loss(self.model, batch, self.algo.clip,
                                                                self.algo.value_clip, self.algo.value_coef)
            w_tok = batch.weight * batch.response_mask.sum().item() / tokens
            w_turn = batch.weight * batch.turn_mask.sum().item() / turns
            self.manual_backward(p_loss * w_tok + v_loss * w_turn)
            for key, value in parts.items():
                weight = w_turn if key == "losses/value" else w_tok
                stats[key] = stats.get(key, 0.0) + weight * value.item()
        if self.algo.grad_clip and not self._is_deepspeed():  # DeepSpeed clips inside its step
            self.clip_gradients(optimizer, gradient_clip_val=self.algo.grad_clip, gradient_clip_algorithm="norm")
        optimizer.step()
        scheduler.step()
        stats["lr/policy"] = optimizer.param_groups[0]["lr"]
        return stats

    # ---- checkpoint selection on valid (A.1: every 800 updates) ---------------------------
    def _maybe_validate(self, iteration: int) -> dict[str, float]:
        every, step = self.algo.val_every_updates, self.global_step
        last = iteration + 1 >= self.trainer.max_epochs
        crossed = every and step // every > (step - updates_per_iteration(self.algo)) // every
        if not self.valid_problems or not (crossed or last):
            return {}
        rank, world = self.global_rank, self.trainer.world_size
        problems = [p for p in self.valid_problems for _ in range(self.algo.val_rollouts_per_problem)][rank::world]
        sampling = rollout_config(self.cfg, self.cfg.eval.temperature, self.cfg.eval.top_p)
        with torch.no_grad():
            episodes = self._rollouts(iteration, problems, sampling)
        solved = torch.tensor([float(sum(e.solved for e in episodes)), float(len(episodes))], device=self.device)
        solved = self.trainer.strategy.reduce(solved, reduce_op="sum")
        rate = (solved[0] / solved[1].clamp(min=1)).item()
        if rate > self.best_val:
            self.best_val = rate
            self.export_policy(self.run_dir / "policy_best")  # every rank: ZeRO-3 gathers the shards
            if self.trainer.is_global_zero:
                (self.run_dir / "policy_best" / "selection.json").write_text(
                    json.dumps({"iteration": iteration, "updates": step, "val_solve_rate": rate}) + "\n")
        log.info("valid at %d updates: solve rate %.3f (best %.3f)", step, rate, self.best_val)
        return {"val/solve_rate": rate, "val/best": self.best_val}

    def export_policy(self, path: Path) -> None:
        """The policy as a plain Hugging Face model (LoRA merged) that task=eval loads with
        model.kind=hf model.name_or_path=<path>. Every rank calls it: at ZeRO-3 the weights are
        sharded and gathered one tensor at a time into rank 0's host memory; rank 0 writes."""
        policy = self.model.policy
        state = _gathered_state_dict(policy, self.trainer.is_global_zero) if self._is_zero3() else None
        if not self.trainer.is_global_zero:
            return
        if hasattr(policy, "merge_and_unload"):
            import copy

            policy = copy.deepcopy(policy).merge_and_unload()
        policy.save_pretrained(path, state_dict=state)
        self.tokenizer.save_pretrained(path)

    def _write_rollouts(self, iteration: int, episodes: list) -> None:
        """Every episode of every iteration, traceable (rank-suffixed; rewritten on a repeat)."""
        folder = self.run_dir / "rollouts"
        folder.mkdir(exist_ok=True)
        with (folder / f"iter{iteration:06d}_rank{self.global_rank}.jsonl").open("w") as f:
            f.writelines(json.dumps(episode_record(e)) + "\n" for e in episodes)

    # ---- resumable state -----------------------------------------------------------------
    def on_train_epoch_end(self) -> None:
        """After the checkpoint callback: drop older checkpoints (a resumed run's callback does
        not know the files of the run before it)."""
        if self.trainer.is_global_zero:
            found = sorted((self.run_dir / "checkpoints").glob("iter[0-9]*.ckpt"))
            for old in found[:-1]:  # a DeepSpeed checkpoint is a folder of shards
                shutil.rmtree(old) if old.is_dir() else old.unlink(missing_ok=True)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # The frozen reference is rebuilt from the initial weights at start-up: not stored. (Under
        # DeepSpeed the engine writes the weights itself, in shards, and there is no state_dict.)
        if "state_dict" in checkpoint:
            checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items()
                                        if not k.startswith("model.reference.")}
        checkpoint["rlef"] = {"iteration": self.current_epoch, "best_val": self.best_val,
                              "rng": {"python": random.getstate(), "numpy": _numpy_state(),
                                      "torch": torch.get_rng_state()}}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        state = checkpoint.get("state_dict")  # None under DeepSpeed: its engine restores the shards
        for key, value in self.state_dict().items() if state is not None else ():
            if key.startswith("model.reference."):
                state[key] = value
        extra = checkpoint.get("rlef", {})
        self.best_val = extra.get("best_val", self.best_val)
        if "rng" in extra:
            random.setstate(extra["rng"]["python"])
            name, keys, pos, has_gauss, gauss = extra["rng"]["numpy"]
            np.random.set_state((name, keys.numpy(), pos, has_gauss, gauss))
            torch.set_rng_state(extra["rng"]["torch"])
        resumed = extra.get("iteration", -1) + 1
        log.info("resuming at iteration %d from the checkpoint", resumed)
        if self.trainer.is_global_zero:
            trim_metrics(self.run_dir / "iterations.csv", resumed)


def _gathered_state_dict(module: torch.nn.Module, keep: bool) -> dict | None:
    """ZeRO-3 shards every parameter over the ranks: all ranks gather them one at a time (no
    whole 70B model on any GPU) and the rank with `keep` copies each to host memory."""
    import deepspeed

    state = {}
    for name, param in module.named_parameters():
        with deepspeed.zero.GatheredParameters([param]):
            if keep:
                state[name] = param.detach().to("cpu", copy=True)
    return state if keep else None


def _bar() -> Progress:
    """Rich progress bars in a terminal; silent in batch jobs (log lines carry the progress)."""
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                    TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=Console(stderr=True),
                    disable=not sys.stderr.isatty())


def _numpy_state() -> tuple:
    """numpy's RNG state with its key array as a tensor: checkpoints stay loadable with
    torch.load(weights_only=True), which refuses numpy arrays."""
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    return name, torch.from_numpy(keys.copy()), int(pos), int(has_gauss), float(gauss)


class CPUDeepSpeedStrategy(DeepSpeedStrategy):
    """Lightning's DeepSpeed strategy on CPU processes (gloo). Lightning refuses any accelerator
    but CUDA; DeepSpeed itself runs ZeRO on CPU. trainer=deepspeed_z3_cpu runs the paper-scale
    code path (sharded init, ZeRO-3 accumulation, sharded checkpoints, export) without a GPU."""

    def setup_environment(self) -> None:
        DDPStrategy.setup_environment(self)  # DeepSpeedStrategy's only addition is the CUDA check

    def setup_distributed(self) -> None:
        reset_seed()  # as DeepSpeedStrategy, minus its check of CUDA device indices
        self.set_world_ranks()
        self._init_deepspeed_distributed()

    @property
    def root_device(self) -> torch.device:
        return torch.device("cpu", 0)  # DeepSpeed's engine reads the device index


def _quiet_known_lightning_warnings() -> None:
    """Two warnings every run printed that say nothing about it: the frozen reference (and the
    policy, which from_pretrained returns in eval mode; Llama has no dropout) are in eval mode on
    purpose, and Lightning's own pytree helper uses an API torch deprecates."""
    warnings.filterwarnings("ignore", message=r"Found \d+ module\(s\) in eval mode at the start of training")
    warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated")


def build_trainer(cfg: DictConfig, run_dir: Path, iterations: int) -> L.Trainer:
    _quiet_known_lightning_warnings()
    t = cfg.trainer
    strategy = instantiate(t.strategy) if isinstance(t.strategy, DictConfig) else t.strategy
    if isinstance(getattr(strategy, "config", None), dict):
        strategy.config["gradient_clipping"] = cfg.algo.grad_clip  # DeepSpeed: Lightning would write 0
    # iterNNNNNN.ckpt, NNNNNN = the last completed iteration. The new file is written (atomically,
    # via an fsspec transaction) before the previous one is removed: a kill never leaves none.
    checkpoints = ModelCheckpoint(dirpath=run_dir / "checkpoints", filename="iter{epoch:06d}",
                                  auto_insert_metric_name=False, save_top_k=1, enable_version_counter=False,
                                  every_n_epochs=cfg.algo.checkpoint_every_iterations, save_on_train_epoch_end=True)
    loggers = [CSVLogger(run_dir, name="logs", flush_logs_every_n_steps=1)]
    if cfg.logger.wandb:
        from lightning.pytorch.loggers import WandbLogger

        loggers.append(WandbLogger(project=cfg.logger.project, name=cfg.run_name, save_dir=str(run_dir),
                                   offline=cfg.logger.offline, id=cfg.run_name.replace("/", "_"), resume="allow"))
    callbacks = [checkpoints]
    if sys.stderr.isatty():  # a bar over iterations in a terminal; log lines in batch jobs
        callbacks.append(RichProgressBar())
    return L.Trainer(accelerator=t.accelerator, devices=t.devices, num_nodes=t.num_nodes, precision=t.precision,
                     strategy=strategy, max_epochs=iterations, logger=loggers, callbacks=callbacks,
                     log_every_n_steps=1, num_sanity_val_steps=0, limit_val_batches=0, enable_model_summary=False,
                     enable_progress_bar=len(callbacks) > 1, default_root_dir=run_dir, use_distributed_sampler=False)
