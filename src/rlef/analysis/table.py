"""A sweep of evaluations -> one paper-style table: <target>.csv and <target>.md.

    python src/run.py -m experiment=table1                       # writes multirun/<date>/<job>/
    python -m rlef.analysis.table multirun/<date> results/table1/table

Each job directory of the sweep is one cell: a model (its Hydra choice, e.g. rlef_8b), a split
and a protocol (1@3 or 10@100). The CSV has one row per cell and mode, copied from the job's
results.csv (the solve rate and its 95% bootstrap CI over problems, as task=eval computed them).
The markdown pivots the multi-turn rows into the paper's layout (models down, split x metric
across) and records the sweep's command. A job that did not finish (no metrics.json) is listed
as missing instead of stopping the table: the cells that did finish are kept.
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from omegaconf import OmegaConf

from rlef.provenance import produced_by, run_command, write_csv


def job_rows(job: Path) -> list[dict]:
    """The rows of one finished eval job, labelled with the model choice that produced them."""
    choices = OmegaConf.load(job / ".hydra" / "hydra.yaml").hydra.runtime.choices
    cfg = OmegaConf.load(job / "config.yaml")
    with (job / "results.csv").open() as f:
        results = list(csv.DictReader(f))
    return [{"model": choices.model, "name_or_path": r["model"], "data": r["data"], "split": r["split"],
             "metric": r["metric"], "mode": r["mode"], "solve_rate": float(r["solve_rate"]),
             "solve_rate_ci_low": float(r["solve_rate_ci_low"]),
             "solve_rate_ci_high": float(r["solve_rate_ci_high"]), "problems": int(r["problems"]),
             "rollouts_per_problem": cfg.eval.rollouts_per_problem, "temperature": float(r["temperature"]),
             "job": job.name} for r in results]


def sweep_rows(sweep: Path) -> tuple[list[dict], list[str]]:
    """(rows of every finished job, names of the jobs that have no metrics.json)."""
    jobs = sorted((p for p in sweep.iterdir() if (p / ".hydra").is_dir()), key=lambda p: (len(p.name), p.name))
    if not jobs:
        raise ValueError(f"{sweep} holds no sweep jobs (no <job>/.hydra): pass the multirun/<date> directory")
    finished = [j for j in jobs if (j / "metrics.json").is_file()]
    rows = [row for job in finished for row in job_rows(job)]
    cells = [(r["model"], r["split"], r["metric"], r["mode"]) for r in rows]
    twice = {c for c in cells if cells.count(c) > 1}
    if twice:
        raise ValueError(f"{sweep}: more than one job scored the same cell {sorted(twice)[0]}")
    return rows, [j.name for j in jobs if j not in finished]


def pivot(rows: list[dict], mode: str = "multi_turn") -> str:
    """Markdown: one line per model, one column per (split, metric), 'rate [low, high]' in %."""
    rows = [r for r in rows if r["mode"] == mode]
    models = list(dict.fromkeys(r["model"] for r in rows))
    in_paper_order = sorted(rows, key=lambda r: (r["split"] != "valid", int(r["metric"].split("@")[1])))
    columns = list(dict.fromkeys((r["split"], r["metric"]) for r in in_paper_order))  # valid 1@3 first
    cell = {(r["model"], r["split"], r["metric"]): r for r in rows}

    def show(r: dict | None) -> str:
        if r is None:
            return "-"
        return f"{100 * r['solve_rate']:.1f} [{100 * r['solve_rate_ci_low']:.1f}, {100 * r['solve_rate_ci_high']:.1f}]"
    lines = ["| model | " + " | ".join(f"{s} {m}" for s, m in columns) + " |",
             "|---|" + "---|" * len(columns)]
    lines += [f"| {m} | " + " | ".join(show(cell.get((m, s, k))) for s, k in columns) + " |" for m in models]
    return "\n".join(lines)


def write(sweep: Path, target: Path) -> list[Path]:
    rows, missing = sweep_rows(sweep)
    if not rows:
        raise ValueError(f"{sweep}: no job has finished (none has metrics.json)")
    written = [write_csv(rows, target.with_suffix(".csv")), target.with_suffix(".md")]
    info = json.loads((sweep / rows[0]["job"] / "run_info.json").read_text())
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    tables = "\n\n".join(f"{mode} (solve rate in %, 95% bootstrap CI over problems):\n\n{pivot(rows, mode)}"
                         for mode in modes)
    written[1].write_text(
        produced_by(target.name, [run_command(info), f"python -m rlef.analysis.table {sweep} {target}"], info)
        + f"\n{tables}\n\n" + (f"Jobs without results (not finished): {', '.join(missing)}.\n\n" if missing else "")
        + f"File: `{written[0].name}` (one row per model, split, metric and mode).\n")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path, help="the multirun/<date> directory of the sweep")
    parser.add_argument("target", type=Path, help="results/<name> (no extension)")
    args = parser.parse_args()
    for path in write(args.sweep, args.target):
        print("wrote", path)


if __name__ == "__main__":
    main()
