"""task=train: RLEF training (paper 2.2, A.1). Builds the policy + critic module, the sandboxed
executor and the Lightning trainer, then fits; the same command resumes a killed run from
<run dir>/checkpoints/iterNNNNNN.ckpt (training configs set a fixed run_name, hence a fixed run dir).

Writes to the run dir: config.yaml + run_info.json (record_run), iterations.csv (one row per
iteration; Lightning's CSVLogger also writes logs/version_N/),
rollouts/ (every episode), checkpoints/iterNNNNNN.ckpt, policy_best/ (selected on valid, A.1) and
policy/ (the final policy), both loadable by task=eval with model.kind=hf model.name_or_path=<dir>.
"""
from __future__ import annotations

import logging
import math
import signal
from pathlib import Path

import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from rlef.data import load_problems
from rlef.errors import BadInput
from rlef.execution.executor import Executor
from rlef.iteration import MODES, updates_per_iteration
from rlef.lightning.module import RLEFModule
from rlef.lightning.trainer import SIGTERMException, build_trainer
from rlef.models import PolicyCritic, load_model, load_tokenizer
from rlef.provenance import record_run
from rlef.rollout import check_engine

log = logging.getLogger(__name__)


# algo values whose wrong sign or range would silently change the method: (key, test, what it must be)
_ALGO_RANGES = (
    ("kl_beta", lambda v: v >= 0, ">= 0 (2.2: a penalty; negative rewards drifting from rho)"),
    ("gamma", lambda v: 0 <= v <= 1, "in [0, 1]"),
    ("clip", lambda v: 0 < v < 1, "in (0, 1)"),
    ("value_clip", lambda v: v > 0, "> 0"),
    ("value_coef", lambda v: v >= 0, ">= 0"),
    ("lr", lambda v: v > 0, "> 0"),
    ("critic_lr", lambda v: v > 0, "> 0"),
    ("weight_decay", lambda v: v >= 0, ">= 0"),
    ("warmup_steps", lambda v: v >= 0, ">= 0"),
    ("grad_clip", lambda v: v > 0, "> 0"),
)


def check_algo(algo) -> None:
    """One clear message for a bad value, before any model is loaded."""
    for key in ("rollouts_per_iteration", "rollouts_per_problem", "minibatch_size", "micro_batch_size", "ppo_epochs",
                "max_updates"):
        if int(algo[key]) < 1:
            raise BadInput(f"algo.{key} must be >= 1, got {algo[key]}")
    if algo.minibatch_size > algo.rollouts_per_iteration:
        raise BadInput(f"algo.minibatch_size ({algo.minibatch_size}) exceeds algo.rollouts_per_iteration "
                         f"({algo.rollouts_per_iteration})")
    if algo.rollouts_per_iteration % algo.rollouts_per_problem:
        raise BadInput(f"algo.rollouts_per_iteration ({algo.rollouts_per_iteration}) must be a multiple of "
                       f"algo.rollouts_per_problem ({algo.rollouts_per_problem})")
    if algo.mode not in MODES:
        raise BadInput(f"algo.mode must be one of {MODES}, got {algo.mode!r} (no feedback: rollout.feedback=none)")
    for key, ok, must in _ALGO_RANGES:
        if not ok(algo[key]):
            raise BadInput(f"algo.{key} must be {must}, got {algo[key]}")
    if algo.temperature != 1 or algo.top_p != 1:
        # The update scores tokens under the untempered, untruncated policy: other sampling settings
        # would bias the PPO ratio against pi_b and the KL to rho.
        raise BadInput(f"algo.temperature and algo.top_p must be 1 (paper A.1), got {algo.temperature} and "
                         f"{algo.top_p}: training log-probs are those of the untempered policy")


def check_engine_for_training(cfg) -> None:
    """rollout.engine=vllm in training: what the colocated layout does not cover yet, in one line."""
    if cfg.rollout.engine == "vllm":
        _check_colocated(cfg)
    check_engine(cfg.rollout, cfg.model.kind)


def _check_colocated(cfg) -> None:
    if cfg.algo.lora.enabled:
        raise BadInput("rollout.engine=vllm syncs full weights (Hugging Face names); with algo.lora.enabled=true "
                       "the adapters would have to be merged first: use rollout.engine=hf")
    sharded = "deepspeed" in str(OmegaConf.select(cfg, "trainer.strategy._target_", default="")).lower()
    if sharded or int(cfg.trainer.devices) * int(cfg.trainer.num_nodes) > 1:
        raise BadInput("rollout.engine=vllm runs one in-process engine beside one unsharded training process; "
                       "several ranks (DDP) or ZeRO-3 shards need vLLM's external launcher and a gathered sync, not "
                       "done: use rollout.engine=hf, or the split layout of slurm/README.md")


STOPPED_EXIT = 128 + signal.SIGTERM  # the shell's code for "terminated by SIGTERM"


class Stopped(BaseException):
    """SIGTERM arrived: the iteration in progress is abandoned, the last completed one is on disk.
    A BaseException, as KeyboardInterrupt is, so that no library's `except Exception` (logging's
    emit, for one) swallows it."""


def _stop(signum, _frame) -> None:
    raise Stopped(f"signal {signum}")


def latest_checkpoint(folder: Path) -> Path | None:
    """The checkpoint of the highest completed iteration (iterNNNNNN.ckpt), if any."""
    found = sorted(folder.glob("iter[0-9]*.ckpt"))
    return found[-1] if found else None


def main(cfg: DictConfig) -> dict:
    check_algo(cfg.algo)
    check_engine_for_training(cfg)
    out = Path(HydraConfig.get().runtime.output_dir)
    record_run(out, cfg)
    torch.manual_seed(cfg.seed)
    tokenizer = load_tokenizer(cfg.model)

    def build_model() -> PolicyCritic:  # called by RLEFModule.configure_model (sharded under ZeRO-3)
        def load():  # Lightning moves the module to the accelerator
            return load_model(cfg.model, tokenizer, device="cpu")

        return PolicyCritic(load(), cfg.algo.critic, cfg.algo.reference, cfg.algo.lora, fresh_copy=load,
                            checkpointing=cfg.algo.gradient_checkpointing)

    train = load_problems(cfg.data, "train")
    valid = load_problems(cfg.data, cfg.train.valid_split)[: cfg.algo.val_problems or None]
    iterations = math.ceil(cfg.algo.max_updates / updates_per_iteration(cfg.algo))
    log.info("training on %d problems (%d valid): %d iterations x %d rollouts, %d updates each", len(train),
             len(valid), iterations, cfg.algo.rollouts_per_iteration, updates_per_iteration(cfg.algo))
    last = latest_checkpoint(out / "checkpoints")
    with Executor(cfg.execution.workers, cfg.execution.isolation) as executor:
        module = RLEFModule(build_model, tokenizer, executor, train, valid, cfg, out)
        trainer = build_trainer(cfg, out, iterations)
        if last:
            log.info("resuming from %s", last)
        # SLURM sends SIGTERM, then SIGKILL after a grace period; Lightning alone would finish the
        # iteration (minutes). Checkpoints are written atomically, so any point is a safe one.
        signal.signal(signal.SIGTERM, _stop)
        try:
            trainer.fit(module, ckpt_path=last)
        except (Stopped, SIGTERMException):  # Lightning's own, at an epoch end, if ours was swallowed
            log.warning("stopped by SIGTERM; the same command resumes from %s",
                        latest_checkpoint(out / "checkpoints") or "the start")
            raise SystemExit(STOPPED_EXIT) from None
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # export and cleanup: the default, no Stopped
            module.close_engine()
        module.export_policy(out / "policy")
    log.info("view the episodes: python -m rlef.viewer %s", out)
    return {"iterations": iterations, "run_dir": str(out)}
