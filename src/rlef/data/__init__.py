"""Problems and tests. No torch, no processes.

    from rlef.data import load_problems
    problems = load_problems(cfg.data, "test")   # cfg.data: one of conf/data/*.yaml
"""
from __future__ import annotations

from pathlib import Path

from rlef.data.problem import SPLITS, Problem, Test
from rlef.errors import BadInput

SHIPPED_MINI = Path(__file__).parent / "rlef_mini.jsonl.gz"
SHIPPED_HIDDEN = Path(__file__).parent / "rlef_hidden.jsonl.gz"  # hidden-spec families
SHIPPED_COPY = Path(__file__).parent / "rlef_copy.jsonl.gz"  # copy families (train kinds, fresh literals)
SHIPPED_STATED = Path(__file__).parent / "rlef_stated.jsonl.gz"  # stated families (held-out computations, SFT)
SHIPPED_INFERRED = Path(__file__).parent / "rlef_inferred.jsonl.gz"  # drill families (inferred kinds, dialogues)
# data.name -> the bundled files it reads (rlef_mix: both, e.g. to train on both train splits)
BUNDLED = {"rlef_mini": (SHIPPED_MINI,), "rlef_hidden": (SHIPPED_HIDDEN,), "rlef_mix": (SHIPPED_MINI, SHIPPED_HIDDEN),
           "rlef_copy": (SHIPPED_COPY,), "rlef_hidden_copy": (SHIPPED_HIDDEN, SHIPPED_COPY),
           "rlef_stated": (SHIPPED_STATED,), "rlef_mix_stated": (SHIPPED_MINI, SHIPPED_HIDDEN, SHIPPED_STATED),
           "rlef_inferred": (SHIPPED_INFERRED,), "rlef_inferred_copy": (SHIPPED_INFERRED, SHIPPED_COPY)}
TEST_ONLY = ("humaneval", "humaneval_plus", "mbpp_plus")  # transfer benchmarks: evaluated, never trained on

__all__ = ["SPLITS", "Problem", "Test", "load_problems", "problems_for_iteration"]


def load_problems(data_cfg, split: str) -> list[Problem]:
    """The problems of one split for the `data:` config group (the bundled ones of BUNDLED,
    code_contests, humaneval, humaneval_plus, mbpp_plus, jsonl). Malformed rows are skipped and
    reported by the loaders."""
    if split not in SPLITS:
        raise BadInput(f"split must be one of {SPLITS}, got {split!r}")
    name = data_cfg.name
    if name in BUNDLED or name == "jsonl":
        paths = BUNDLED.get(name, ()) if not data_cfg.get("path") else (data_cfg.path,)
        return _from_jsonl(paths, split)
    if name == "code_contests":
        if split == "train_heldout":
            raise BadInput("CodeContests has no train_heldout split (rlef_mini has; or bring a jsonl file)")
        from rlef.data.code_contests import load_split
        return load_split(split, data_cfg.hub_name, data_cfg.local_path, data_cfg.check_paper_counts)
    if name in TEST_ONLY and split != "test":
        raise BadInput(f"{name} has only a test split (it is used for transfer evaluation)")
    if name == "humaneval":
        from rlef.data.humaneval import load_humaneval
        return load_humaneval(data_cfg.path)[0]
    if name in ("humaneval_plus", "mbpp_plus"):
        return _evalplus(name, data_cfg.get("path"), split)
    raise BadInput(f"unknown data.name {name!r}: {', '.join(BUNDLED)}, code_contests, humaneval, "
                   "humaneval_plus, mbpp_plus or jsonl")


def _evalplus(name: str, path: str | None, split: str) -> list[Problem]:
    """HumanEval+ / MBPP+ from the EvalPlus release file at `path` (never downloaded)."""
    from rlef.data.evalplus import DATASETS, load_evalplus

    if not path:
        raise BadInput(f"data.path is required for data={name}: the EvalPlus release file, e.g. "
                       f"data.path=/abs/{DATASETS[name]} (it is not downloaded)")
    try:
        problems, report = load_evalplus(name, path)
    except FileNotFoundError as e:
        raise BadInput(str(e)) from None
    if not problems:
        raise BadInput(report.unusable(split))
    return problems


def _from_jsonl(paths, split: str) -> list[Problem]:
    """Every problem of `split` in the files; none at all is an error, in one line per file."""
    from rlef.data.jsonl import load_jsonl

    loaded = [load_jsonl(path, split) for path in paths]
    problems = [p for found, _ in loaded for p in found]
    if not problems:
        raise BadInput(" | ".join(report.unusable(split) for _, report in loaded) or "data.path is not set")
    return problems


def problems_for_iteration(problems: list[Problem], count: int, seed: int, iteration: int,
                           repeats: int = 1) -> list[Problem]:
    """The `count` problems of training iteration `iteration`: a stream of data epochs, each a
    permutation seeded by (seed, epoch). A pure function of the iteration, so a resumed run
    continues the stream exactly where the checkpoint left it (no repeats, no gaps). With
    `repeats` > 1, count // repeats problems from the stream, each `repeats` times in a row."""
    if repeats > 1:
        if count % repeats:
            raise BadInput(f"algo.rollouts_per_iteration ({count}) must be a multiple of "
                           f"algo.rollouts_per_problem ({repeats})")
        return [p for p in problems_for_iteration(problems, count // repeats, seed, iteration) for _ in range(repeats)]
    import random

    if not problems:
        raise ValueError("no training problems: check data.* and the train split")
    n, orders, out = len(problems), {}, []
    for position in range(iteration * count, (iteration + 1) * count):
        epoch, offset = divmod(position, n)
        if epoch not in orders:
            orders[epoch] = list(range(n))
            random.Random(f"{seed}:{epoch}").shuffle(orders[epoch])
        out.append(problems[orders[epoch][offset]])
    return out
