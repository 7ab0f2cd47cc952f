"""Entry point: `python src/run.py task=<task> ...`. Dispatches on cfg.task; nothing else."""
from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from rlef.errors import BadInput, ServiceError
from rlef.tasks import build_mini, evaluate, judge, mine, probe, sft, train

TASKS = {
    "judge": judge.main,  # submissions through the sandbox: verdicts and feedback text
    "build_mini": build_mini.main,  # regenerate the bundled benchmarks from their families
    "eval": evaluate.main,  # n@k of a model, multi- and single-turn (paper 3.1-3.2)
    "sft": sft.main,  # supervised warm start / SFT baseline
    "train": train.main,  # RLEF (paper 2.2, A.1)
    "probe": probe.main,  # feedback-use probe of a checkpoint
    "mine": mine.main,  # successful multi-turn episodes for the SFT baseline (paper Table 3)
}


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    if cfg.task not in TASKS:
        raise SystemExit(f"unknown task {cfg.task!r}; choose one of {sorted(TASKS)}")
    try:
        TASKS[cfg.task](cfg)
    except BadInput as e:  # a config value or problem file the run cannot use: one line, no traceback
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except ServiceError as e:  # a model server failed after its retries: one line, the run resumes
        print(f"error: {e}", file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
