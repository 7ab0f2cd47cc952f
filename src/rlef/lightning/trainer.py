"""The Lightning Trainer of task=train: strategy, precision, checkpoints, loggers."""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import lightning.pytorch as L
from hydra.utils import instantiate
from lightning.pytorch.callbacks import ModelCheckpoint, RichProgressBar
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.utilities.exceptions import SIGTERMException  # noqa: F401 - rlef.tasks.train's stop path
from omegaconf import DictConfig


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
