"""results/<experiment>/ -> results/<experiment>/summary.csv: one row per evaluated checkpoint of
every run, so a reader sees each run's headline numbers without opening forty files.

    python -m rlef.analysis.summary results/rlef_cpu_scale

It reads only what collect and compare already wrote into each run folder, and recomputes nothing:
  <run>/train.md                                         the training command (else an eval's .md)
  <run>/eval_[<checkpoint>_]<split>.csv                  1@3 and its 95% CI per mode (task=eval)
  <run>/compare_[<checkpoint>_]<split>_vs_warm_start*.csv  paired B - A against a warm start, 95% CI
Every number in summary.csv is a number of one of those files, rounded to 3 places. Only the default
sampling seed is summarised (eval_*_seed1 and the like stay in their run folder), and comparisons
against anything but a warm start (e.g. one run against its own earlier checkpoint) are left out:
the summary answers "what did each checkpoint score, and how far from its starting point".
"""
from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

from rlef.provenance import write_csv

SPLITS = ("test", "train_heldout")
MODES = ("multi_turn", "single_turn")
_CHECKPOINT = r"(?:(?P<checkpoint>policy_best|policy)_)?"
_SPLIT = r"(?P<split>test|valid|train_heldout|train)(?P<seed>_seed\d+)?"
EVAL = re.compile(rf"eval_{_CHECKPOINT}{_SPLIT}\.csv")
COMPARE = re.compile(rf"compare_{_CHECKPOINT}{_SPLIT}_vs_(?P<baseline>warm_start\w*)\.csv")
CI = ("", "_ci_low", "_ci_high")


def fields() -> list[str]:
    """The columns, fixed, so that every experiment's summary.csv reads the same way."""
    cols = ["run", "checkpoint", "md", "command"]
    for split in SPLITS:
        cols += [f"{split}_{mode}{ci}" for mode in MODES for ci in CI]
        cols.append(f"{split}_paired_against")
        cols += [f"{split}_{mode}_vs_warm_start{ci}" for mode in MODES for ci in CI]
    return cols


def _numbers(path: Path, column: str, value: str) -> dict:
    """column.format(mode=...) + ci -> value, value_ci_low, value_ci_high of each mode's row of one
    CSV (eval_*.csv: solve_rate; compare_*.csv: b_minus_a, all problems). Other rows, e.g. the feedback gain
    or a compare's hidden-spec and regular subsets, are skipped."""
    with path.open(newline="") as f:
        rows = {r["mode"]: r for r in csv.DictReader(f) if r.get("subset", "all") == "all"}
    return {column.format(mode=mode) + ci: f"{float(rows[mode][value + ci]):.3f}"
            for mode in MODES if mode in rows for ci in CI}


def command_of(md: Path) -> str:
    """The first command of an .md's "Produced by" block: the one that wrote (or last resumed) the run."""
    lines = md.read_text().splitlines()
    start = lines.index("```bash") + 1
    return lines[start] if start < len(lines) and lines[start] != "```" else ""


def _matches(run_dir: Path, pattern: re.Pattern) -> list[tuple[re.Match, Path]]:
    """Files of the run folder that fit the pattern, default seed and summarised splits only."""
    found = [(pattern.fullmatch(p.name), p) for p in sorted(run_dir.iterdir())]
    return [(m, p) for m, p in found if m and not m["seed"] and m["split"] in SPLITS]


def run_rows(run_dir: Path, experiment_dir: Path) -> list[dict]:
    """One row per checkpoint the run evaluated ('' for a model that was not trained here); a
    training run that was never evaluated still gets its row, with its numbers empty."""
    evals, compares = _matches(run_dir, EVAL), _matches(run_dir, COMPARE)
    train_md = run_dir / "train.md"
    checkpoints = sorted({m["checkpoint"] or "" for m, _ in evals}) or ([""] if train_md.is_file() else [])
    rows = []
    for checkpoint in checkpoints:
        mine = [(m, p) for m, p in evals if (m["checkpoint"] or "") == checkpoint]
        md = train_md if train_md.is_file() else mine[0][1].with_suffix(".md")
        row = {"run": run_dir.name, "checkpoint": checkpoint, "md": md.relative_to(experiment_dir).as_posix(),
               "command": command_of(md) if md.is_file() else ""}
        for m, path in mine:
            row.update(_numbers(path, m["split"] + "_{mode}", "solve_rate"))
        for m, path in compares:
            if (m["checkpoint"] or "") == checkpoint:
                row[f"{m['split']}_paired_against"] = m["baseline"]
                row.update(_numbers(path, m["split"] + "_{mode}_vs_warm_start", "b_minus_a"))
        rows.append(row)
    return rows


def summarise(experiment_dir: Path) -> list[dict]:
    """Rows of every run folder of the experiment, in folder-name order."""
    runs = sorted(p for p in experiment_dir.iterdir() if p.is_dir())
    return [row for run in runs for row in run_rows(run, experiment_dir)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment_dir", type=Path, help="results/<experiment>")
    args = parser.parse_args(argv)
    rows = summarise(args.experiment_dir)
    if not rows:
        raise SystemExit(f"no eval_*.csv in the run folders of {args.experiment_dir}")
    print("wrote", write_csv(rows, args.experiment_dir / "summary.csv", fields()), f"({len(rows)} rows)")


if __name__ == "__main__":
    main()
