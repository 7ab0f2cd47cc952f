"""A sweep of evaluations -> one paper-style table: <target>.csv, <target>.md and <target>.png.

    python src/run.py -m experiment=table2                       # writes multirun/<date>/<job>/
    python -m rlef.analysis.table multirun/<date> results/table2/table

Each job directory of the sweep is one evaluation; its results.csv has one row per inference
mode (multi-turn, and single-turn at the same budget). A row is identified by what the results
say about themselves (model choice, data, split, metric, mode) and by every sweep key whose value
differs between the sweep's jobs (each job's .hydra/overrides.yaml: rollout.feedback for
no_feedback_rl, eval_set for table2, where HumanEval+ and MBPP+ are both split "test"). The CSV
has one row per job and mode, with the solve rate and its 95% bootstrap CI over problems as
task=eval computed them. Two jobs with the same identity are refused. A job that did not finish
(no metrics.json) is listed as missing, and the cells that did finish are kept.

The markdown pivots those rows into the paper's layout, which the experiment declares beside its
sweep, in a `table:` block of conf/experiment/<exp>.yaml (read back from the job's saved
config.yaml): `tables` (one markdown table per value), `rows`, `columns`, each a list of row keys
(a results column or a sweep key), and an optional `figure` (x, lines, panels). The layout lives
in the experiment's YAML rather than in a mapping here because it names the sweep's keys, which
that file sweeps a few lines above: they change together, a new experiment needs no code, and
every job's saved config records the layout its sweep was meant to fill. Without a `table:`
block the layout is Table 1's (DEFAULT_LAYOUT: models down, split x metric across, one table per
mode), which table1 and private_feedback use. <target>.png draws the `figure` where the layout has one
(turn_limit: solve rate against the turn limit), else the table itself as bars with their CIs.

A layout naming an `analysis` (error_recovery, chrf: paper Fig. 3 and Fig. 4 right) hands the sweep to
rlef.analysis.turns, which tabulates the jobs' episodes instead of their solve rates. `--analysis`
does the same for evaluations run one by one (hydra.run.dir=<folder>/<name> each, as
experiment=feedback_eval's are): a row per model and per override the runs differ in.

The paper's own numbers go in separate columns: table.csv's paper_solve_rate (a fraction, like
solve_rate) and paper_source (arXiv version and table), and under each markdown table a second one
of the same cells headed "Paper", citing its source. They are read from the data file
rlef/analysis/paper_numbers.csv (rlef.analysis.paper), keyed by the sweep's experiment (the job's
`experiment` choice) and the row's cell; a row the paper has no number for (tiny_random, CPU-scale
models) gets empty paper cells. That file is empty today (rlef/analysis/paper.py says why). The
per-turn analyses below get no paper columns: the paper shows them as figures, not numbers.
"""
from __future__ import annotations

import argparse
import csv
import json
from dataclasses import dataclass, replace
from pathlib import Path

from omegaconf import OmegaConf

from rlef.analysis.paper import PAPER_NUMBERS, load, with_paper
from rlef.provenance import produced_by, run_command, write_csv

# Table 1's layout, for a sweep whose config has no `table:` block.
# `analysis` (error_recovery | chrf): the table is a per-turn analysis of the jobs' episodes
# (rlef.analysis.turns: Fig. 3, Fig. 4 right) instead of their solve rates.
DEFAULT_LAYOUT = {"tables": ["mode"], "rows": ["model"], "columns": ["split", "metric"], "figure": None,
                  "analysis": None}
# What every row says about itself, from the job's results.csv (model: the Hydra choice).
RESULT_KEYS = ("model", "data", "split", "metric", "mode")
# Sweep keys the rows already carry under these names: no second column for them. (Not protocol:
# pass1's metric is 1@T, so it changes with the turn limit while the protocol does not.)
CARRIED = {"model": "model", "data": "data", "eval.split": "split"}
# Value orders of the paper's tables, whichever jobs finished first; other keys: numbers ascending,
# anything else in the order of the sweep's jobs (the order the experiment lists its values in).
ORDERS = {"split": ["train", "valid", "test"], "mode": ["single_turn", "multi_turn"]}


@dataclass(frozen=True)
class Sweep:
    rows: list[dict]  # one per finished job and mode, in job order
    missing: list[str]  # jobs without metrics.json
    axes: list[str]  # the sweep keys that identify a row beyond RESULT_KEYS
    layout: dict  # tables / rows / columns / figure
    experiment: str | None = None  # the jobs' `experiment` choice: which paper table they reproduce

    @property
    def identity(self) -> list[str]:
        return ["model", *self.axes, "data", "split", "metric", "mode"]


def overrides(job: Path) -> dict[str, str]:
    """The job's own overrides (the command line's and its sweep point), key -> value as typed."""
    path = job / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return {}
    pairs = (o.split("=", 1) for o in OmegaConf.load(path) if "=" in o)
    return {key.lstrip("+~"): value for key, value in pairs}


def setting(key: str, choices, cfg, typed: dict[str, str]):
    """A job's value for a sweep key: a config group's choice (model, protocol, eval_set), else the
    resolved config's value (rollout.max_turns), else the override as typed."""
    if key in choices:
        return choices[key]
    value = OmegaConf.select(cfg, key, default=None)
    return value if value is not None else typed.get(key)


def job_rows(job: Path, axes: list[str]) -> list[dict]:
    """The rows of one finished eval job, labelled with the model choice and its value of each axis."""
    cfg = OmegaConf.load(job / "config.yaml")  # read once per job, not once per key
    choices, typed = OmegaConf.load(job / ".hydra" / "hydra.yaml").hydra.runtime.choices, overrides(job)
    with (job / "results.csv").open() as f:
        results = list(csv.DictReader(f))
    labels = {key: setting(key, choices, cfg, typed) for key in ("model", *axes)}
    return [{**labels, "name_or_path": r["model"], "data": r["data"], "split": r["split"],
             "metric": r["metric"], "mode": r["mode"], "solve_rate": float(r["solve_rate"]),
             "solve_rate_ci_low": float(r["solve_rate_ci_low"]),
             "solve_rate_ci_high": float(r["solve_rate_ci_high"]), "problems": int(r["problems"]),
             "rollouts_per_problem": cfg.eval.rollouts_per_problem, "temperature": float(r["temperature"]),
             "job": job.name} for r in results]


def layout_of(job: Path) -> dict:
    """The experiment's `table:` block from the job's saved config, over Table 1's layout."""
    block = OmegaConf.load(job / "config.yaml").get("table")
    declared = OmegaConf.to_container(block) if block is not None else {}
    unknown = set(declared) - set(DEFAULT_LAYOUT)
    if unknown:
        raise ValueError(f"{job}/config.yaml: table.{sorted(unknown)[0]} is not one of {sorted(DEFAULT_LAYOUT)}")
    layout = {**DEFAULT_LAYOUT, **declared}
    layout |= {part: _own(layout[part]) for part in ("tables", "rows", "columns")}
    if layout["figure"]:
        spec = layout["figure"]
        layout["figure"] = {"x": _own([spec["x"]])[0], "lines": _own(spec.get("lines", [])),
                            "panels": _own(spec.get("panels", []))}
    return layout


def _own(keys: list[str]) -> list[str]:
    """Layout keys under the rows' own names (eval.split -> split), each once (runs that name a model
    choice sweep `model`, which every analysis row already leads with)."""
    return list(dict.fromkeys(CARRIED.get(k, k) for k in keys))


def layout_keys(layout: dict) -> list[str]:
    """Every key the layout's tables and figure group rows by."""
    figure = layout["figure"] or {"x": None, "lines": [], "panels": []}
    keys = [*layout["tables"], *layout["rows"], *layout["columns"], *figure["panels"], *figure["lines"], figure["x"]]
    return [k for k in dict.fromkeys(keys) if k is not None]


def read_sweep(sweep: Path, analysis: str | None = None) -> Sweep:
    """Every finished job's rows, keyed by the sweep keys that vary between the jobs (each job's
    overrides) and by those the layout names; one job per identity, or a ValueError. `analysis`:
    tabulate that per-turn analysis whatever the jobs' `table:` block says (analysis_layout)."""
    jobs = sorted((p for p in sweep.iterdir() if (p / ".hydra").is_dir()), key=lambda p: (len(p.name), p.name))
    if not jobs:
        raise ValueError(f"{sweep} holds no sweep jobs (no <job>/.hydra): pass the multirun/<date> directory")
    finished = [j for j in jobs if (j / "metrics.json").is_file()]
    typed = [overrides(j) for j in jobs]
    swept = [k for k in dict.fromkeys(k for o in typed for k in o) if len({o.get(k) for o in typed}) > 1]
    if analysis:
        layout = analysis_layout(analysis, swept)
    else:
        layout = layout_of(finished[0]) if finished else DEFAULT_LAYOUT
    axes = [k for k in dict.fromkeys([*swept, *layout_keys(layout)]) if k not in CARRIED and k not in RESULT_KEYS]
    rows = [row for job in finished for row in job_rows(job, axes)]
    unknown = [k for k in layout_keys(layout) if rows and all(r.get(k) is None for r in rows)]
    if unknown:
        raise ValueError(f"{sweep}: the table layout names {unknown[0]}, which no job has (a typo in table:?)")
    experiment = experiment_of(finished[0]) if finished else None
    result = Sweep(rows, [j.name for j in jobs if j not in finished], axes, layout, experiment)
    cells = [tuple(str(r[k]) for k in result.identity) for r in rows]
    twice = {c for c in cells if cells.count(c) > 1}
    if twice:
        raise ValueError(f"{sweep}: more than one job scored the same cell {sorted(twice)[0]} "
                         f"({', '.join(result.identity)})")
    return result


def analysis_layout(analysis: str, swept: list[str]) -> dict:
    """Fig. 3 / Fig. 4 right of evaluations run without an analysis sweep (feedback_eval's runs,
    each with its own hydra.run.dir under one folder): a table per split, a row per model and per
    key the runs' overrides differ in (model.name_or_path for checkpoints of one model choice)."""
    return {**DEFAULT_LAYOUT, "analysis": analysis, "tables": ["split"], "rows": _own(["model", *swept]),
            "columns": []}


def experiment_of(job: Path) -> str | None:
    """The job's `experiment` choice (table1, ...), or None for a sweep run without one."""
    return OmegaConf.load(job / ".hydra" / "hydra.yaml").hydra.runtime.choices.get("experiment")


def sweep_rows(sweep: Path) -> tuple[list[dict], list[str]]:
    """(rows of every finished job, names of the jobs that have no metrics.json)."""
    result = read_sweep(sweep)
    return result.rows, result.missing


def _rank(rows: list[dict], key: str):
    """A sort key for the values of `key` (see ORDERS)."""
    values = list(dict.fromkeys(r[key] for r in rows))
    if key == "metric":  # n@k: by the budget k, then n (1@3 before 10@100)
        return lambda v: tuple(int(x) for x in reversed(str(v).split("@")))
    if key in ORDERS:
        return lambda v: (ORDERS[key].index(v) if v in ORDERS[key] else len(ORDERS[key]), values.index(v))
    try:
        numbers = {v: float(v) for v in values}
        return numbers.__getitem__
    except (TypeError, ValueError):
        return values.index


def combos(rows: list[dict], keys: list[str]) -> list[tuple]:
    """The value combinations of `keys` that some row has, in the paper's order."""
    ranks = [_rank(rows, k) for k in keys]
    present = dict.fromkeys(tuple(r[k] for k in keys) for r in rows)
    return sorted(present, key=lambda c: tuple(rank(v) for rank, v in zip(ranks, c)))


def partition(rows: list[dict], keys: list[str]) -> list[tuple[tuple, list[dict]]]:
    """(combination, its rows) for each value combination of `keys` (combos' order), rows in their order."""
    return [(c, [r for r in rows if tuple(r[k] for k in keys) == c]) for c in combos(rows, keys)]


def show(r: dict | None) -> str:
    if r is None:
        return "-"
    return f"{100 * r['solve_rate']:.1f} [{100 * r['solve_rate_ci_low']:.1f}, {100 * r['solve_rate_ci_high']:.1f}]"


def pivot(rows: list[dict], row_keys: list[str], column_keys: list[str], identity: list[str], fmt=show) -> str:
    """Markdown: one line per combination of row_keys, one column per combination of column_keys,
    each cell fmt(row) (default 'rate [low, high]' in %); a cell no job scored is fmt(None)."""
    columns = combos(rows, column_keys)
    cell: dict[tuple, dict] = {}
    for r in rows:
        at = (tuple(r[k] for k in row_keys), tuple(r[k] for k in column_keys))
        if at in cell:
            differ = [k for k in identity if cell[at][k] != r[k]]
            raise ValueError(f"two rows fall in one cell of the table; they differ in {', '.join(differ)}: "
                             "name it in the experiment's table.tables, table.rows or table.columns")
        cell[at] = r
    lines = ["| " + " | ".join(row_keys) + " | " + " | ".join(" ".join(map(str, c)) for c in columns) + " |",
             "|---|" + "---|" * (len(row_keys) - 1 + len(columns))]
    lines += ["| " + " | ".join(map(str, label)) + " | " + " | ".join(fmt(cell.get((label, c))) for c in columns)
              + " |" for label in combos(rows, row_keys)]
    return "\n".join(lines)


def show_paper(r: dict | None) -> str:
    if r is None or r.get("paper_solve_rate") is None:
        return "-"
    return f"{100 * r['paper_solve_rate']:.1f}"


def paper_part(part: list[dict], result: Sweep, held: bool) -> str:
    """The paper's numbers for these cells as a table of the same layout, its source cited; or a
    line saying why there are none (our rows are never mixed with the paper's). held: whether
    paper_numbers.csv has any number for this experiment."""
    sources = sorted({r["paper_source"] for r in part if r.get("paper_source")})
    if not sources and held:
        return "Paper: no number for these rows (the paper has no such rows: e.g. tiny_random, CPU-scale models)."
    if not sources:
        return (f"Paper: rlef/analysis/paper_numbers.csv holds no number for experiment {result.experiment} "
                "(rlef/analysis/paper.py says why).")
    return (f"Paper (solve rate in %, as printed in {'; '.join(sources)}; - where it has no number):\n\n"
            + pivot(part, result.layout["rows"], result.layout["columns"], result.identity, fmt=show_paper))


def tables(result: Sweep, held: bool = False) -> str:
    """One pivoted markdown table per value combination of the layout's `tables` keys, each followed
    by the paper's numbers for the same cells (held: see paper_part)."""
    layout, parts = result.layout, []
    for title, part in partition(result.rows, layout["tables"]):
        head = " ".join(map(str, title))
        what = "solve rate in %, 95% bootstrap CI over problems"
        parts.append((f"{head} ({what}):" if head else f"{what[0].upper()}{what[1:]}:") + "\n\n"
                     + pivot(part, layout["rows"], layout["columns"], result.identity)
                     + "\n\n" + paper_part(part, result, held))
    return "\n\n".join(parts)


def figure_series(result: Sweep) -> dict[str, dict[str, list[tuple]]]:
    """panel -> line -> [(x, rate, ci_low, ci_high)] sorted by x, for the layout's figure."""
    spec = result.layout["figure"]
    rank = _rank(result.rows, spec["x"])
    series: dict[str, dict[str, list[tuple]]] = {}
    for r in result.rows:
        panel = " ".join(str(r[k]) for k in spec["panels"])
        line = " ".join(str(r[k]) for k in spec["lines"])
        series.setdefault(panel, {}).setdefault(line, []).append(
            (r[spec["x"]], r["solve_rate"], r["solve_rate_ci_low"], r["solve_rate_ci_high"]))
    for lines in series.values():
        for points in lines.values():
            points.sort(key=lambda p: rank(p[0]))
    return series


def bar_panels(result: Sweep) -> dict[tuple[str, str, str], dict[str, dict[str, tuple]]]:
    """The table as bars, for a layout without a `figure` (paper Tables 1-4 are tables; the bars make
    their CIs comparable at a glance): a panel per markdown table and column, a group per value of the
    first row key, a bar per value of the other row keys ("solve rate" when there are none), each
    (rate, CI low, CI high) in %. In plots.grouped_bars's shape."""
    layout = result.layout
    group_keys, bar_keys = layout["rows"][:1], layout["rows"][1:]
    panels: dict[tuple[str, str, str], dict[str, dict[str, tuple]]] = {}
    for title, part in partition(result.rows, layout["tables"]):
        for column, cells in partition(part, layout["columns"]):
            groups = panels.setdefault((" ".join(map(str, title)), " ".join(map(str, column)), "solve rate (%)"), {})
            for group in combos(cells, group_keys):
                groups[" ".join(map(str, group))] = {}
            for bar, same in partition(cells, bar_keys):  # the paper's order in each group (single- before multi-turn)
                for r in same:
                    groups[" ".join(str(r[k]) for k in group_keys)][" ".join(map(str, bar)) or "solve rate"] = (
                        100 * r["solve_rate"], 100 * r["solve_rate_ci_low"], 100 * r["solve_rate_ci_high"])
    return panels


def figure(result: Sweep, target: Path) -> Path:
    """<target>.png: the layout's `figure` (solve rate against its x, CI bands), else the table as bars."""
    from rlef.analysis.plots import grouped_bars, sweep_figure

    png, spec = target.with_suffix(".png"), result.layout["figure"]
    if spec:
        return sweep_figure(figure_series(result), spec["x"], target.name, png)
    panels = bar_panels(result)
    return grouped_bars(panels, min(3, len(panels)), " ".join(result.layout["rows"][:1]),
                        f"{target.name} (error bars: 95% bootstrap CI over problems)", png)


def write(sweep: Path, target: Path, paper: Path = PAPER_NUMBERS, analysis: str | None = None) -> list[Path]:
    """table.csv, table.md and table.png of the sweep; `paper`: the paper numbers to set beside it;
    `analysis`: that per-turn analysis of the jobs' episodes, whatever their `table:` block says."""
    result = read_sweep(sweep, analysis)
    if result.layout["analysis"]:  # Fig. 3 / Fig. 4 right: from the episodes, not the solve rates
        from rlef.analysis.turns import write_analysis

        command = f"python -m rlef.analysis.table {sweep} {target}" + (f" --analysis {analysis}" if analysis else "")
        return write_analysis(sweep, target, result, result.layout["analysis"], command)
    if not result.rows:
        raise ValueError(f"{sweep}: no job has finished (none has metrics.json)")
    numbers = load(paper)
    result = replace(result, rows=with_paper(result.rows, result.experiment, numbers))
    # before any file is written: a layout that merges cells fails here
    body = tables(result, held=any(n["experiment"] == result.experiment for n in numbers))
    rows = result.rows
    written = [write_csv(rows, target.with_suffix(".csv")), target.with_suffix(".md")]
    info = json.loads((sweep / rows[0]["job"] / "run_info.json").read_text())
    written.append(figure(result, target))
    written[1].write_text(
        produced_by(target.name, [run_command(info), f"python -m rlef.analysis.table {sweep} {target}"], info)
        + f"\n{body}\n\n" + (f"Jobs without results (not finished): {', '.join(result.missing)}.\n\n"
                             if result.missing else "")
        + f"Figure: `{written[2].name}`.\n\nFile: `{written[0].name}` (one row per "
        f"{', '.join(result.identity[:-1])} and mode; "
        "the paper's number, where it has one, in paper_solve_rate and paper_source).\n")
    return written


def main(argv: list[str] | None = None) -> None:
    from rlef.analysis.turns import ANALYSES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path, help="the multirun/<date> directory of the sweep")
    parser.add_argument("target", type=Path, help="results/<name> (no extension)")
    parser.add_argument("--analysis", choices=ANALYSES,
                        help="tabulate this per-turn analysis of the jobs' multi-turn episodes (paper Fig. 3, "
                             "Fig. 4 right) instead of what their `table:` block says; for evaluations run "
                             "one by one into sibling folders, a row per model and per differing override")
    args = parser.parse_args(argv)
    for path in write(args.sweep, args.target, analysis=args.analysis):
        print("wrote", path)


if __name__ == "__main__":
    main()
