"""CodeContests (Li et al., 2022) from the Hub or a local copy, checked against the paper's
counts. Its row schema, which the bundled benchmarks and JSONL files share, is rlef/data/schema.py.
"""
from __future__ import annotations

import glob
import logging
import os
from collections.abc import Mapping

from rlef.data.problem import Problem
from rlef.data.schema import LoadReport, problems_from_rows

log = logging.getLogger(__name__)

# Paper A.2: train keeps problems that have public and private tests (13,328 -> 12,659).
PAPER_COUNTS = {"train": (13328, 12659), "valid": (117, 117), "test": (165, 165)}
def check_paper_counts(split: str, report: LoadReport) -> None:
    """On the full dataset, the numbers must be the paper's: anything else means a different
    (or corrupted) copy, and every result computed on it would be silently incomparable."""
    raw, kept = PAPER_COUNTS[split]
    if (report.rows, report.kept) != (raw, kept):
        raise ValueError(f"CodeContests {split}: {report.rows} rows -> {report.kept} problems, but the "
                         f"paper (A.2) has {raw} -> {kept}. Wrong copy? Set data.check_paper_counts=false "
                         "to use it anyway.")
    log.info("CodeContests %s matches the paper's counts (%d -> %d)", split, raw, kept)


def _local_dataset(path: str, split: str):
    import datasets

    if not os.path.isdir(path):
        raise FileNotFoundError(f"data.local_path {path!r} is not a directory")
    saved = os.path.join(path, "dataset_dict.json"), os.path.join(path, split, "state.json")
    if any(os.path.exists(p) for p in saved):
        return datasets.load_from_disk(path)[split]
    files = sorted(glob.glob(os.path.join(path, "**", f"{split}-*.parquet"), recursive=True))
    if not files:
        raise FileNotFoundError(f"no {split}-*.parquet files under {path} (nor a save_to_disk copy)")
    return datasets.load_dataset("parquet", data_files={split: files}, split=split)


def load_split(split: str, hub_name: str = "deepmind/code_contests", local_path: str | None = None,
               check_counts: bool = True, split_names: Mapping[str, str] | None = None) -> list[Problem]:
    """Load one split from the Hub (online) or from a local parquet / save_to_disk copy."""
    import datasets

    stored = (split_names or {}).get(split, split)
    if local_path:
        ds, where = _local_dataset(local_path, stored), f"{local_path}:{stored}"
    else:
        ds, where = datasets.load_dataset(hub_name, split=stored), f"{hub_name}:{stored}"
    problems, report = problems_from_rows(ds, split, where, "code_contests")
    if check_counts and split in PAPER_COUNTS:
        check_paper_counts(split, report)
    return problems
