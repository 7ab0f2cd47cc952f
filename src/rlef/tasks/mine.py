"""task=mine: the data of paper Table 3's SFT baseline. Multi-turn episodes of the model on train
problems, each batch sampled at a temperature drawn from U(mine.temperature_low, mine.temperature_high)
(paper: T ~ U(0.1, 1)); the episodes that end solved after more than one turn are kept, so the SFT
model (task=sft sft.trajectories=<run dir>/trajectories.jsonl) learns from its own repairs, with
the loss on the last reply only.

    python src/run.py experiment=table3_mine          # paper scale, outputs/mine/table3_mine/

Writes trajectories.jsonl (the kept episodes, samples.jsonl's schema plus the temperature) and
mine.csv (episodes, solved, solved after turn 1 = kept, per temperature bin) to the run directory.
One temperature per batch of rollout.max_batch episodes, not per episode: the backend samples a
batch at one temperature. The work is shuffled first, so a batch mixes problems and each
problem's episodes spread over temperatures.
"""
from __future__ import annotations

import json
import logging
import random
from dataclasses import replace
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from rlef.data import load_problems
from rlef.errors import BadInput
from rlef.execution.executor import Executor
from rlef.execution.types import Limits
from rlef.generation import SamplingParams
from rlef.models import load_model, load_tokenizer
from rlef.provenance import record_run, write_csv
from rlef.rollout import EpisodeRunner, RolloutConfig, episode_record, hf_backend

log = logging.getLogger(__name__)


def kept(episode) -> bool:
    """A successful multi-turn trajectory: solved, after at least one failed turn."""
    return episode.solved and len(episode.turns) > 1 and not episode.infra_error


def check_settings(mine_cfg) -> None:
    if not 0 <= mine_cfg.temperature_low <= mine_cfg.temperature_high:
        raise BadInput(f"mine.temperature_low ({mine_cfg.temperature_low}) must be in [0, mine.temperature_high "
                       f"({mine_cfg.temperature_high})]")
    if mine_cfg.rollouts_per_problem < 1:
        raise BadInput(f"mine.rollouts_per_problem must be >= 1, got {mine_cfg.rollouts_per_problem}")


def main(cfg: DictConfig) -> dict:
    out = Path(HydraConfig.get().runtime.output_dir)
    record_run(out, cfg)
    check_settings(cfg.mine)
    problems = load_problems(cfg.data, cfg.mine.split)[: cfg.mine.max_problems or None]
    rng = random.Random(f"{cfg.seed}:mine")
    work = [p for p in problems for _ in range(cfg.mine.rollouts_per_problem)]
    rng.shuffle(work)
    tokenizer = load_tokenizer(cfg.model)
    backend = hf_backend(load_model(cfg.model, tokenizer).eval(), tokenizer, cfg.rollout.max_batch,
                         cfg.rollout.stop_after_code, cfg.seed)
    base = RolloutConfig.from_config(cfg.rollout, 1.0, cfg.mine.top_p)
    rows, count = [], 0
    with Executor(cfg.execution.workers, cfg.execution.isolation) as executor, \
            (out / "trajectories.jsonl").open("w") as f:
        for start in range(0, len(work), cfg.rollout.max_batch):
            temperature = rng.uniform(cfg.mine.temperature_low, cfg.mine.temperature_high)
            rollout = replace(base, sampling=SamplingParams(temperature, cfg.mine.top_p, base.sampling.max_new_tokens))
            runner = EpisodeRunner(backend, tokenizer, executor, rollout, Limits.from_config(cfg.execution),
                                   cfg.seed + start)
            episodes = runner.run(work[start:start + cfg.rollout.max_batch])
            good = [e for e in episodes if kept(e)]
            f.writelines(json.dumps({**episode_record(e), "temperature": round(temperature, 4)}) + "\n" for e in good)
            count += len(good)
            rows.append({"batch": len(rows), "temperature": round(temperature, 4), "episodes": len(episodes),
                         "solved": sum(e.solved for e in episodes), "kept": len(good),
                         "infra_errors": sum(e.infra_error for e in episodes)})
            log.info("mine: batch %d at T=%.2f: %d of %d episodes kept (%d so far)", len(rows), temperature,
                     len(good), len(episodes), count)
    write_csv(rows, out / "mine.csv", ["batch", "temperature", "episodes", "solved", "kept", "infra_errors"])
    log.info("wrote %s: %d successful multi-turn trajectories from %d episodes", out / "trajectories.jsonl",
             count, len(work))
    return {"trajectories": count, "episodes": len(work)}
