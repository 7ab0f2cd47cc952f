"""Problems and tests. No torch, no processes.

    from rlef.data import load_problems
    problems = load_problems(cfg.data, "test")   # cfg.data: one of conf/data/*.yaml
"""
from __future__ import annotations

from pathlib import Path

from rlef.data.problem import SPLITS, Problem, Test

SHIPPED_MINI = Path(__file__).parent / "rlef_mini.jsonl.gz"

__all__ = ["SPLITS", "Problem", "Test", "load_problems"]


def load_problems(data_cfg, split: str) -> list[Problem]:
    """The problems of one split for the `data:` config group (rlef_mini, code_contests,
    humaneval, jsonl). Malformed rows are skipped and reported by the loaders."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    name = data_cfg.name
    if name == "rlef_mini":
        from rlef.data.jsonl import load_jsonl
        return load_jsonl(data_cfg.path or SHIPPED_MINI, split)[0]
    if name == "jsonl":
        from rlef.data.jsonl import load_jsonl
        return load_jsonl(data_cfg.path, split)[0]
    if name == "code_contests":
        from rlef.data.code_contests import load_split
        return load_split(split, data_cfg.hub_name, data_cfg.local_path, data_cfg.check_paper_counts)
    if name == "humaneval":
        from rlef.data.humaneval import load_humaneval
        if split != "test":
            raise ValueError("HumanEval has only a test split (it is used for transfer evaluation)")
        return load_humaneval(data_cfg.path)[0]
    raise ValueError(f"unknown data.name {name!r}: rlef_mini, code_contests, humaneval or jsonl")
