"""The paper's own numbers, for the paper columns of rlef.analysis.table.

paper_numbers.csv (beside this file, shipped with the package) holds them as data, one line per
number the paper prints: the experiment whose sweep reproduces it (conf/experiment/<experiment>.yaml),
the cell of that table as the table step's rows name it (model, arm, eval_set, split, metric, mode;
an empty key is one that table does not vary), the solve rate in percent exactly as printed, and
where it is printed (`source`: arXiv version and table, e.g. "arXiv 2410.02089v1, Table 1").

Only numbers read in the paper's text belong here, never numbers recalled or read off a figure: a
cell without a line gets empty paper columns, which says "no paper number", not "the paper says 0".
The file is empty today: the stored text of the paper we could read (https://arxiv.org/html/2410.02089v1)
gave us its opening only, not its tables (experiments/table1.md says how to fill it).
When two versions of the paper differ, the latest one's number goes in, and its source says so.
"""
from __future__ import annotations

import csv
from pathlib import Path

PAPER_NUMBERS = Path(__file__).with_name("paper_numbers.csv")
# A paper cell, under the names table.py's rows give these keys (eval_set: Table 2's benchmarks,
# which share split "test"; arm: Table 3's baselines).
KEYS = ("model", "arm", "eval_set", "split", "metric", "mode")
COLUMNS = ["experiment", *KEYS, "percent", "source"]


def load(path: Path = PAPER_NUMBERS) -> list[dict]:
    """The paper numbers in `path`, each checked to name its experiment, cell, value and source."""
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != COLUMNS:
            raise ValueError(f"{path}: columns {reader.fieldnames}, expected {COLUMNS}")
        numbers = list(reader)
    for line, n in enumerate(numbers, start=2):
        # model or arm, metric and mode: without them one line would claim cells of several paper rows
        missing = [k for k in ("experiment", "metric", "mode", "source") if not n[k]]
        if missing or not (n["model"] or n["arm"]):
            raise ValueError(f"{path}:{line}: needs experiment, model or arm, metric, mode and source")
        float(n["percent"])  # a ValueError names the bad value
    return numbers


def number_for(row: dict, experiment: str | None, numbers: list[dict]) -> dict | None:
    """The paper line whose experiment and named keys all equal the row's, or None."""
    hits = [n for n in numbers
            if n["experiment"] == experiment and all(str(row.get(k)) == n[k] for k in KEYS if n[k])]
    if len(hits) > 1:
        raise ValueError(f"{len(hits)} lines of paper_numbers.csv claim one cell of {experiment}: "
                         f"{[{k: h[k] for k in KEYS if h[k]} for h in hits]}")
    return hits[0] if hits else None


def with_paper(rows: list[dict], experiment: str | None, numbers: list[dict]) -> list[dict]:
    """Each row with paper_solve_rate (a fraction, like solve_rate) and paper_source, both None
    where the paper has no number for the row (tiny_random, CPU-scale models, a cell not in it)."""
    out = []
    for row in rows:
        n = number_for(row, experiment, numbers)
        out.append({**row, "paper_solve_rate": round(float(n["percent"]) / 100, 6) if n else None,
                    "paper_source": n["source"] if n else None})
    return out
