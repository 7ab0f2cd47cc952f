"""What the benchmarks share: the model under test, real first-turn prompts, the CSV writer.
Imported by the scripts beside it (`python bench/<script>.py` puts this folder on sys.path)."""
from __future__ import annotations

import csv
from pathlib import Path

from omegaconf import OmegaConf

from rlef.data import load_problems
from rlef.feedback import first_prompt
from rlef.models import load_model, load_tokenizer
from rlef.rollout import ChatFormat


def load_bench_model(name: str):
    """(tokenizer, model) for conf/model/<name>.yaml, on the GPU when there is one."""
    model_cfg = OmegaConf.load(Path(__file__).parents[1] / "conf" / "model" / f"{name}.yaml")
    tokenizer = load_tokenizer(model_cfg)
    return tokenizer, load_model(model_cfg, tokenizer)


def first_turn_contexts(tokenizer, count: int) -> tuple[ChatFormat, list[list[int]]]:
    """The chat format and the first-turn prompt ids of the first `count` rlef_mini train problems."""
    chat = ChatFormat(tokenizer)
    problems = load_problems(OmegaConf.create({"name": "rlef_mini", "path": None}), "train")
    return chat, [chat.first(first_prompt(p)) for p in problems[:count]]


def write_csv(rows: list[dict], path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
