"""RLEFModule: the Lightning shell around one RLEF iteration (rlef.iteration; paper 2.2, A.1).

One Lightning epoch is one iteration, run by manual optimisation on a one-batch DataLoader. The
shell owns what depends on the strategy: building (and, under ZeRO-3, sharding) the model, the
optimizer, backward and step (LightningOptimization), the reduce across ranks, checkpoint
selection on valid, the policy export and the checkpointed RNG state.

Resuming: a checkpoint is written at the end of every `checkpoint_every_iterations`-th
iteration. Each iteration draws its problems from a stream that is a pure function of the
iteration (rlef.data.problems_for_iteration) and reseeds every RNG from (seed, iteration,
rank), so `kill -9` followed by the same command continues exactly where the last checkpoint
left off: no completed iteration is repeated or lost, and logs past it are trimmed.
"""
from __future__ import annotations

import functools
import json
import logging
import random
import shutil
import time
from pathlib import Path

import lightning.pytorch as L
import numpy as np
import torch
from omegaconf import DictConfig
from torch.utils.data import DataLoader

from rlef.execution.types import Limits
from rlef.iteration import (
    Ranks,
    collect,
    iteration_problems,
    optimizer_and_schedule,
    ppo_update,
    reseed,
    rollout_config,
    solve_rate,
    updates_per_iteration,
    write_rollouts,
)
from rlef.lightning.lockstep import Lockstep
from rlef.models import attention_settings, engine_model_dir
from rlef.rollout import vllm_backend
from rlef.train_metrics import append_iteration, rollout_metrics, trim_metrics

log = logging.getLogger(__name__)


class LightningOptimization:
    """rlef.iteration.Optimization through Lightning's manual optimisation: its backward
    (precision plugin, DeepSpeed engine) and its wrapped optimizer and scheduler."""

    def __init__(self, module: RLEFModule):
        self.module = module

    def zero_grad(self) -> None:
        self.module.optimizers().zero_grad()

    def begin_micro_batch(self) -> None:
        """What DeepSpeed's engine.forward does before each micro-batch: move ZeRO's micro-step
        counter, without which every backward OVERWRITES the gradient partitions instead of adding
        to them (measured: only the last micro-batch survived). Our micro-batches call the module
        directly; Lightning runs engine.forward once per training_step, i.e. once per iteration."""
        if self.module.is_deepspeed():
            self.module.trainer.strategy.deepspeed_engine.optimizer.clear_backward_seen_flag()

    def backward(self, loss: torch.Tensor) -> None:
        self.module.manual_backward(loss)

    def step(self) -> float:
        optimizer, module = self.module.optimizers(), self.module
        if module.algo.grad_clip and not module.is_deepspeed():  # DeepSpeed clips inside its step
            module.clip_gradients(optimizer, gradient_clip_val=module.algo.grad_clip, gradient_clip_algorithm="norm")
        optimizer.step()
        module.lr_schedulers().step()
        return optimizer.param_groups[0]["lr"]


class RLEFModule(L.LightningModule):
    def __init__(self, model, tokenizer, executor, train_problems, valid_problems, cfg: DictConfig, run_dir: Path):
        """model: a rlef.models.PolicyCritic, or a zero-argument function building one, which
        configure_model calls (how rlef.tasks.train passes it: sharded at creation under ZeRO-3)."""
        super().__init__()
        self.model = model if isinstance(model, torch.nn.Module) else None
        self._build_model = None if self.model is not None else model
        self.automatic_optimization = False
        self.tokenizer, self.executor, self.cfg, self.algo = tokenizer, executor, cfg, cfg.algo
        self.train_problems, self.valid_problems, self.run_dir = train_problems, valid_problems, Path(run_dir)
        self.best_val = float("-inf")
        self.engine = None  # rollout.engine=vllm: the VLLMBackend, built at the first rollout (rollout_engine)

    def configure_model(self) -> None:
        """Lightning calls this inside strategy.model_sharded_context(): under ZeRO-3 that is
        deepspeed.zero.Init, so every weight of the policy, the critic and the reference is
        sharded over the ranks as it is created, and HfDeepSpeedConfig makes from_pretrained
        load each checkpoint shard straight into those partitions: no rank ever holds a whole
        70B model. Elsewhere it simply builds the module (once: resume calls it again)."""
        if self.model is not None:
            return
        if self.is_zero3():
            from transformers.integrations import HfDeepSpeedConfig

            self._hf_zero3 = HfDeepSpeedConfig(self.trainer.strategy.config)  # transformers holds a weak ref
        self.model = self._build_model()
        tensors = list(self.model.parameters())
        sharded = f", {sum(hasattr(t, 'ds_id') for t in tensors)} sharded at creation" if self.is_zero3() else ""
        log.info("built policy, critic and reference: %d tensors%s", len(tensors), sharded)

    def is_deepspeed(self) -> bool:
        return "deepspeed" in type(self.trainer.strategy).__name__.lower()

    def is_zero3(self) -> bool:
        return self.is_deepspeed() and self.trainer.strategy.zero_stage_3

    def ranks(self) -> Ranks:
        return Ranks(self.global_rank, self.trainer.world_size, self.device,
                     lambda value, op: self.trainer.strategy.reduce(value, reduce_op=op))

    def on_fit_start(self) -> None:
        if self.is_zero3() and self.algo.lora.enabled:
            raise RuntimeError("algo.lora.enabled=true is not supported with DeepSpeed ZeRO-3 (the adapters could "
                               "not be merged into sharded weights): use trainer=ddp or full fine-tuning")

    def configure_optimizers(self):
        optimizer_class = torch.optim.AdamW
        if self.is_deepspeed() and self.trainer.strategy.config["zero_optimization"].get("offload_optimizer"):
            from deepspeed.ops.adam import DeepSpeedCPUAdam  # ZeRO refuses torch AdamW with offload

            optimizer_class = functools.partial(DeepSpeedCPUAdam, adamw_mode=True)
        optimizer, scheduler = optimizer_and_schedule(self.model, self.algo, optimizer_class)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def train_dataloader(self):
        return DataLoader([0], batch_size=1)  # one batch per epoch; the iteration is current_epoch

    def training_step(self, batch, batch_idx):
        iteration, ranks = self.current_epoch, self.ranks()
        self._iteration_seed = reseed(self.cfg.seed, iteration, self.global_rank)
        start = time.time()
        problems = iteration_problems(self.train_problems, self.algo, self.cfg.seed, iteration, ranks)
        episodes = self._sample(problems, rollout_config(self.cfg, self.algo.temperature, self.algo.top_p))
        rollout_s = time.time() - start
        stats = ppo_update(self.model, episodes, self.algo, LightningOptimization(self), ranks,
                           self.tokenizer.pad_token_id)
        metrics = {**rollout_metrics(episodes, rollout_s), **stats, "iteration": float(iteration),
                   "time/update_s": time.time() - start - rollout_s}
        if self.engine is not None:  # part of the rollout time
            metrics["time/weight_sync_s"] = self.engine.last_sync_s
        metrics.update(self._maybe_validate(iteration))
        self.log_dict(metrics, on_step=True, on_epoch=False, sync_dist=False)
        if self.trainer.is_global_zero:
            append_iteration(self.run_dir / "iterations.csv", metrics)
        log.info("iteration %d: reward %.3f solved %.3f kl %.4f value loss %.4f (%.0f s)", iteration,
                 metrics["rollout/reward"], metrics["rollout/solve_rate"], metrics.get("kl/ref", float("nan")),
                 metrics.get("losses/value", float("nan")), time.time() - start)
        write_rollouts(self.run_dir, iteration, self.global_rank, episodes)

    def _sample(self, problems, config) -> list:
        policy = self.model.policy
        lockstep = Lockstep(policy, self.device) if self.is_zero3() and self.trainer.world_size > 1 else None
        return collect(policy, self.tokenizer, self.executor, problems, config, self.cfg.rollout,
                       Limits.from_config(self.cfg.execution), self._iteration_seed, lockstep,
                       self.rollout_engine(), self.global_step)

    def rollout_engine(self):
        """rollout.engine=vllm: one engine for the whole run (start-up takes minutes), built from the
        model's files at the first rollout; collect() syncs the policy's weights into it."""
        if self.cfg.rollout.engine != "vllm" or self.engine is not None:
            return self.engine
        policy = self.model.policy
        model_dir = engine_model_dir(self.cfg.model, self.tokenizer, self.run_dir / "vllm_model", policy)
        dtype = attention_settings(self.cfg.model.dtype, self.cfg.model.attn)[0]
        self.engine = vllm_backend(model_dir, dtype, policy.generation_config, self.tokenizer, self.cfg.rollout,
                                   self.cfg.seed)
        return self.engine

    def teardown(self, stage: str) -> None:
        self.close_engine()

    def close_engine(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None

    # ---- checkpoint selection on valid (A.1: every 800 updates) ---------------------------
    def _maybe_validate(self, iteration: int) -> dict[str, float]:
        every, step = self.algo.val_every_updates, self.global_step
        last = iteration + 1 >= self.trainer.max_epochs
        crossed = every and step // every > (step - updates_per_iteration(self.algo)) // every
        if not self.valid_problems or not (crossed or last):
            return {}
        ranks = self.ranks()
        problems = [p for p in self.valid_problems for _ in range(self.algo.val_rollouts_per_problem)]
        with torch.no_grad():
            episodes = self._sample(problems[ranks.rank::ranks.world],
                                    rollout_config(self.cfg, self.cfg.eval.temperature, self.cfg.eval.top_p))
        rate = solve_rate(episodes, ranks)
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
        state = _gathered_state_dict(policy, self.trainer.is_global_zero) if self.is_zero3() else None
        if not self.trainer.is_global_zero:
            return
        if hasattr(policy, "merge_and_unload"):
            import copy

            policy = copy.deepcopy(policy).merge_and_unload()
        policy.save_pretrained(path, state_dict=state)
        self.tokenizer.save_pretrained(path)

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


def _numpy_state() -> tuple:
    """numpy's RNG state with its key array as a tensor: checkpoints stay loadable with
    torch.load(weights_only=True), which refuses numpy arrays."""
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    return name, torch.from_numpy(keys.copy()), int(pos), int(has_gauss), float(gauss)
