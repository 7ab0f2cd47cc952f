"""The jobs of a sweep, printed instead of launched: a dry run of `python src/run.py -m ...` that
needs no cluster, no GPU and no model.

    python -m rlef.sweep_plan experiment=table2 launcher=slurm       # from the repo root

Hydra has no dry run for its launchers (`--cfg job` prints one config, not the jobs). This
expands the sweep as Hydra's basic sweeper does (the experiment's hydra.sweeper.params first, the
command line's overrides replacing the same keys; BasicSweeper.split_arguments) and composes
every job's config as the launcher would (load_sweep_config), so a job whose config cannot
compose fails here instead of in the queue. Printed: the launcher's resources once, then one line
per job with the overrides that differ between jobs and the values that make the job what it is.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from hydra import initialize_config_dir
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

# What decides a job's result, whichever task it runs (keys a config lacks are left out).
SHOWN = ("task", "model.name_or_path", "data.name", "data.path", "data.local_path", "eval.split", "eval.submissions",
         "eval.sample_budget", "eval.temperature", "eval.single_turn_baseline", "rollout.max_turns",
         "rollout.feedback", "rollout.feedback_tests", "rollout.max_failures_shown", "algo.mode",
         "eval.few_shot_repairs", "eval.repair_model", "sft.trajectories", "sft.lr", "sft.epochs")


def sweep_jobs(overrides: list[str], config_dir: Path) -> tuple[DictConfig, list[list[str]], list[DictConfig]]:
    """(the sweep's own config, each job's overrides, each job's composed config), in job order."""
    with initialize_config_dir(str(Path(config_dir).resolve()), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        primary = loader.load_configuration("config", list(overrides), run_mode=RunMode.MULTIRUN)
        sweeper = primary.hydra.sweeper
        if not sweeper._target_.endswith(".BasicSweeper"):
            raise ValueError(f"only Hydra's basic sweeper is expanded here, not {sweeper._target_}")
        params = [f"{key}={value}" for key, value in (sweeper.params or {}).items()]
        parsed = OverridesParser.create().parse_overrides(params + list(overrides))
        (jobs,) = BasicSweeper.split_arguments(parsed, None)
        configs = [loader.load_sweep_config(primary, job) for job in jobs]
    return primary, jobs, configs


def _resolved(cfg: DictConfig, keys) -> str:
    """key=value for each of `keys` that cfg has and that is set, resolved."""
    hydra_config = HydraConfig.instance()
    before = hydra_config.cfg
    hydra_config.set_config(cfg)  # for ${hydra:runtime.cwd} in model paths; put back below
    try:
        values = {key: OmegaConf.select(cfg, key, default=None) for key in keys}
    finally:
        hydra_config.cfg = before
    return " ".join(f"{k}={v}" for k, v in values.items() if v is not None and not OmegaConf.is_config(v))


def plan(overrides: list[str], config_dir: Path) -> str:
    primary, jobs, configs = sweep_jobs(overrides, config_dir)
    launcher = primary.hydra.launcher
    resources = _resolved(primary, [f"hydra.launcher.{k}" for k in launcher if k != "_target_"])
    lines = [f"{len(jobs)} jobs, launcher {launcher._target_.rsplit('.', 1)[-1]}",
             "  " + resources.replace("hydra.launcher.", "")]
    varying = [i for i in range(len(jobs[0])) if len({job[i] for job in jobs}) > 1]
    for num, (job, cfg) in enumerate(zip(jobs, configs)):
        lines.append(f"#{num} " + " ".join(job[i] for i in varying))
        lines.append("    " + _resolved(cfg, SHOWN))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", help="what follows `python src/run.py -m`")
    parser.add_argument("--config-dir", type=Path, default=Path("conf"), help="default: conf (the repo root's)")
    args = parser.parse_args(argv)
    print(plan(args.overrides, args.config_dir))


if __name__ == "__main__":
    main()
