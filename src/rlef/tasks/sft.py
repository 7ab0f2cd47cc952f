"""task=sft: supervised fine-tuning on reference solutions (rlef/sft.py), loss on the (last) response only.

At CPU scale this is the warm start that stands in for "an Instruct model that already
writes stdin/stdout programs" (paper 3.1 starts from Llama 3.1 Instruct; the embedded
SmolLM2-135M-Instruct solves 0/16 of "print a + b" as is). Deviation from the paper,
documented in experiments/. The same code path is the paper's SFT baseline at scale.

With sft.trajectories (a task=mine trajectories.jsonl), the examples are the model's own successful
multi-turn episodes instead, the loss on the last reply only: paper Table 3's SFT baseline.

With sft.repair_share > 0, that share of the examples are multi-turn repair dialogues
(rlef.repair: a wrong first reply, the executor's real feedback, then the reference), with the
loss on the final reply only, as the paper's SFT baseline (Table 3) trains on trajectories.

The target reply is the reference solution in the paper's answer format (a ```python
block), followed by the stop token. Writes the fine-tuned model (save_pretrained, with the
tokenizer) to <run dir>/model and the loss curve to <run dir>/sft_loss.csv; evaluate it with
`model.kind=hf model.name_or_path=<run dir>/model`.
"""
from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from rlef.data import BUNDLED, Problem, load_problems
from rlef.errors import BadInput
from rlef.execution.executor import Executor
from rlef.execution.types import Limits
from rlef.models import load_model, load_tokenizer
from rlef.provenance import record_run
from rlef.repair import repair_dialogues
from rlef.rollout import ChatFormat
from rlef.sft import (
    learning_rate_factor,
    repair_count,
    repair_example,
    sft_example,
    train_sft,
    trajectory_example,
)

log = logging.getLogger(__name__)


def check_repair_settings(sft_cfg: DictConfig) -> None:
    repair_count(1, sft_cfg.repair_share)
    name = sft_cfg.repair_benchmark
    if name is not None and name not in BUNDLED:
        raise BadInput(f"sft.repair_benchmark must be null or one of {', '.join(BUNDLED)}, got {name!r}")


def repair_problems(cfg: DictConfig, problems: list[Problem]) -> list[Problem]:
    """The problems the repair dialogues are built from: the SFT problems, or the same split of
    the bundled benchmark `sft.repair_benchmark` (e.g. only the hidden-spec families)."""
    name = cfg.sft.repair_benchmark
    if name is None:
        return problems
    return [p for p in load_problems(OmegaConf.create({"name": name}), cfg.sft.split) if p.reference_solution]


def mined_examples(path: Path, chat: ChatFormat, tokenizer) -> list:
    """Paper Table 3's SFT data: the successful multi-turn episodes task=mine kept."""
    with path.open() as f:
        records = [json.loads(line) for line in f if line.strip()]
    if not records:
        raise BadInput(f"sft.trajectories={path} holds no trajectory: mining kept no solved multi-turn episode")
    return [trajectory_example(r, chat, tokenizer) for r in records]


def build_examples(cfg: DictConfig, problems: list[Problem], chat: ChatFormat, tokenizer) -> list:
    if cfg.sft.trajectories:
        return mined_examples(Path(cfg.sft.trajectories), chat, tokenizer)
    examples = [sft_example(p, chat, tokenizer) for p in problems]
    count = repair_count(len(examples), cfg.sft.repair_share)
    if count:
        sources = repair_problems(cfg, problems)
        with Executor(cfg.execution.workers, cfg.execution.isolation) as executor:
            dialogues = repair_dialogues(sources, count, executor, Limits.from_config(cfg.execution), cfg.seed)
        log.info("sft: %d repair dialogues (asked for %d, share %.2f)", len(dialogues), count, cfg.sft.repair_share)
        examples += [repair_example(d, chat, tokenizer) for d in dialogues]
    return examples


def main(cfg: DictConfig) -> dict:
    out = Path(HydraConfig.get().runtime.output_dir)
    record_run(out, cfg)
    torch.manual_seed(cfg.seed)
    check_repair_settings(cfg.sft)  # before the model loads
    learning_rate_factor(cfg.sft.schedule, 0, 1)
    if cfg.sft.trajectories and cfg.sft.repair_share:
        raise BadInput("sft.trajectories (mined episodes) and sft.repair_share (synthetic dialogues) are two "
                       "data sets; set one of them")
    if cfg.sft.trajectories and not Path(cfg.sft.trajectories).is_file():
        raise BadInput(f"sft.trajectories={cfg.sft.trajectories} does not exist: run task=mine first "
                       "(experiment=table3_mine)")
    tokenizer = load_tokenizer(cfg.model)
    model = load_model(cfg.model, tokenizer)
    problems = [p for p in load_problems(cfg.data, cfg.sft.split) if p.reference_solution]
    problems = problems[: cfg.sft.max_problems or None]
    chat = ChatFormat(tokenizer)
    examples = build_examples(cfg, problems, chat, tokenizer)
    log.info("sft on %d %s problems (%d tokens)", len(examples), cfg.sft.split, sum(len(e[0]) for e in examples))
    history = train_sft(model, examples, cfg.sft.epochs, cfg.sft.batch_size, cfg.sft.lr, cfg.sft.weight_decay,
                        tokenizer.pad_token_id, cfg.seed, cfg.sft.group_by_length, cfg.sft.schedule)
    model.save_pretrained(out / "model")
    tokenizer.save_pretrained(out / "model")
    with (out / "sft_loss.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["step", "epoch", "loss", "lr"])
        writer.writeheader()
        writer.writerows(history)
    log.info("wrote %s", out / "model")
    return {"final_loss": history[-1]["loss"] if history else None, "model_dir": str(out / "model")}
