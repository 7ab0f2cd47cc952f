"""task=sft: supervised fine-tuning on reference solutions (rlef/sft.py), loss on the (last) response only.

At CPU scale this is the warm start that stands in for "an Instruct model that already
writes stdin/stdout programs" (paper 3.1 starts from Llama 3.1 Instruct; the embedded
SmolLM2-135M-Instruct solves 0/16 of "print a + b" as is). Deviation from the paper,
documented in experiments/. The same code path is the paper's SFT baseline at scale.

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
from rlef.sft import repair_count, repair_example, sft_example, train_sft

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


def build_examples(cfg: DictConfig, problems: list[Problem], chat: ChatFormat, tokenizer) -> list:
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
    tokenizer = load_tokenizer(cfg.model)
    model = load_model(cfg.model, tokenizer)
    problems = [p for p in load_problems(cfg.data, cfg.sft.split) if p.reference_solution]
    problems = problems[: cfg.sft.max_problems or None]
    chat = ChatFormat(tokenizer)
    examples = build_examples(cfg, problems, chat, tokenizer)
    log.info("sft on %d %s problems (%d tokens)", len(examples), cfg.sft.split, sum(len(e[0]) for e in examples))
    history = train_sft(model, examples, cfg.sft.epochs, cfg.sft.batch_size, cfg.sft.lr, cfg.sft.weight_decay,
                        tokenizer.pad_token_id, cfg.seed, cfg.sft.group_by_length)
    model.save_pretrained(out / "model")
    tokenizer.save_pretrained(out / "model")
    with (out / "sft_loss.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["step", "epoch", "loss"])
        writer.writeheader()
        writer.writerows(history)
    log.info("wrote %s", out / "model")
    return {"final_loss": history[-1]["loss"] if history else None, "model_dir": str(out / "model")}
