"""Entry point: `python src/run.py task=<task> ...`. Dispatches on cfg.task; nothing else."""
from __future__ import annotations

import importlib
import sys

import hydra
from omegaconf import DictConfig

from rlef.errors import BadInput

TASKS = {
    "judge": "rlef.judge:main",
    "build_mini": "rlef.build_mini:main",
    "eval": "rlef.eval_task:main",
    "sft": "rlef.sft:main",
    "train": "rlef.train_task:main",
    "probe": "rlef.probe_task:main",
}


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    if cfg.task not in TASKS:
        raise SystemExit(f"unknown task {cfg.task!r}; choose one of {sorted(TASKS)}")
    module, _, function = TASKS[cfg.task].partition(":")
    try:
        getattr(importlib.import_module(module), function)(cfg)
    except BadInput as e:  # a config value or problem file the run cannot use: one line, no traceback
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
