"""A sweep's per-turn analyses -> results/<experiment>/: error recovery (paper Fig. 3) and chrF
between successive turns (paper Fig. 4 right), from every job's samples.jsonl.

    python src/run.py -m experiment=error_recovery launcher=slurm
    python -m rlef.analysis.table multirun/<date> results/error_recovery/table   # -> table.{csv,md,png}

rlef.analysis.table hands a sweep here when the experiment's `table:` block names an `analysis`
(error_recovery | chrf); the sweep's jobs, their labels (model and every swept key) and the refusal
of two jobs scoring one cell are that module's. The layout's `tables` keys make one markdown table
(and one row of figure panels) each, its `rows` keys one table row (and one bar) each; the columns
are the analysis's own: turn-1 error kinds, or turn transitions.

error_recovery, per job and kind of turn-1 outcome (turn_category: the first failing public-test
verdict, or no_code; `any_error` pools them, and also counts the rare first prompt over the context,
which has no row of its own): the share of episodes whose first turn fails that way, and of those
episodes the share that pass the public tests by turn k (k = 2..max_turns: what a later turn fixed,
as the model sees it) and the share solved (the final code passes the private tests). chrf, per job
and transition t -> t+1: the mean chrF of turn t+1's code against turn t's over episodes where both
turns have code (100 = unchanged), and the share left unchanged.
What each episode contributes is rlef.evaluation's turn_errors and successive_chrf, which task=eval's
metrics.json (turn_analysis) counts too: here only the pooling per problem and the CIs are added.
Every rate pools episodes over problems; its 95% CI resamples problems (families where problems
have one: rlef_mini, rlef_hidden) with rlef.evaluation.ratio_bootstrap.

Unlike the solve-rate tables, a sweep with an unfinished job is refused: the figure compares
arms, and an arm whose episodes are missing would be drawn as if it had none of those errors.
Paper numbers are not added: the repo holds none (experiments/table1.md).
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from omegaconf import OmegaConf

from rlef.analysis.compare import subsets
from rlef.evaluation import ratio_bootstrap, scored_episodes, successive_chrf, turn_errors
from rlef.provenance import produced_by, run_command, write_csv

ANALYSES = ("error_recovery", "chrf")
# Turn-1 outcomes in the figure's order: the executor's verdicts (rlef.execution.types.Verdict), then
# a reply without code, then all failures pooled.
KINDS = ("WRONG_OUTPUT", "EXCEPTION", "TIMEOUT", "OUT_OF_MEMORY", "OUTPUT_LIMIT", "no_code", "any_error")
RESAMPLES = 2000  # per rate; more than the paper's 200 (3.1): the CI ends of small rates settle (as probe.resamples)


def episodes(job: Path) -> list[dict]:
    """The job's multi-turn episodes that score (rlef.evaluation.scored_episodes)."""
    with (job / "samples.jsonl").open() as f:
        records = [json.loads(line) for line in f]
    return scored_episodes(r for r in records if r["mode"] == "multi_turn")


def _rate(units: dict[str, list[float]], clusters: dict[str, str], name: str) -> dict:
    """{name, name_ci_low, name_ci_high} of pooled per-problem (numerator, denominator) units."""
    estimate = ratio_bootstrap({p: (n, d) for p, (n, d) in units.items()}, clusters, RESAMPLES)
    if estimate is None:  # no episode had this kind of error: no rate, not a rate of 0
        return {name: None, f"{name}_ci_low": None, f"{name}_ci_high": None}
    return estimate.as_dict(name)


def recovery_rows(records: list[dict], max_turns: int) -> list[dict]:
    """One row per kind of turn-1 failure (KINDS order): its share of the episodes and how many
    of those a later turn fixed, with problem- (family-) resampled CIs."""
    clusters = {r["problem"]: r["family"] or r["problem"] for r in records}
    traced = [turn_errors(r) for r in records]
    later = range(2, max_turns + 1)
    rows = []
    for kind in KINDS:
        share, solved = defaultdict(lambda: [0.0, 0.0]), defaultdict(lambda: [0.0, 0.0])
        fixed = {k: defaultdict(lambda: [0.0, 0.0]) for k in later}
        for r, errors in zip(records, traced):
            hit = errors.first == kind or (kind == "any_error" and errors.first != "passed")
            share[r["problem"]][0] += hit
            share[r["problem"]][1] += 1
            if not hit:
                continue
            solved[r["problem"]][0] += r["solved"]
            solved[r["problem"]][1] += 1
            for k in later:
                fixed[k][r["problem"]][0] += errors.fixed_by(k)
                fixed[k][r["problem"]][1] += 1
        row = {"kind": kind, "episodes": len(records), "errors": int(sum(n for n, _ in share.values())),
               **_rate(share, clusters, "share")}
        for k in later:
            row |= _rate(fixed[k], clusters, f"fixed_by_turn{k}")
        rows.append(row | _rate(solved, clusters, "solved"))
    return rows


def chrf_rows(records: list[dict], max_turns: int) -> list[dict]:
    """One row per transition t -> t+1: mean chrF and share unchanged over episodes where both
    turns have code, with problem- (family-) resampled CIs."""
    clusters = {r["problem"]: r["family"] or r["problem"] for r in records}
    compared = [successive_chrf(r) for r in records]  # once per episode, not once per transition
    rows = []
    for t in range(1, max_turns):
        score, same = defaultdict(lambda: [0.0, 0.0]), defaultdict(lambda: [0.0, 0.0])
        for r, pairs in zip(records, compared):
            if t not in pairs:  # the episode ended before turn t+1, or one of the two turns has no code
                continue
            score[r["problem"]][0] += pairs[t][0]
            same[r["problem"]][0] += pairs[t][1]
            for units in (score, same):
                units[r["problem"]][1] += 1
        rows.append({"transition": f"{t}->{t + 1}", "pairs": int(sum(d for _, d in score.values())),
                     **_rate(score, clusters, "chrf"), **_rate(same, clusters, "unchanged")})
    return rows


def identity(result) -> list[str]:
    """What names a job's rows: its solve-rate row's identity (the model, every swept key, data,
    split, metric), less the mode (the analyses are of multi-turn episodes only)."""
    return ["model", *result.axes, "data", "split", "metric"]


def analysis_rows(sweep: Path, result, analysis: str) -> list[dict]:
    """Every job's rows of `analysis`, each labelled as the job's solve-rate row is."""
    rows = []
    for job_row in (r for r in result.rows if r["mode"] == "multi_turn"):
        job = sweep / job_row["job"]
        max_turns = OmegaConf.load(job / "config.yaml").rollout.max_turns
        labels = {k: job_row[k] for k in identity(result)}
        build = recovery_rows if analysis == "error_recovery" else chrf_rows
        records = episodes(job)
        for subset, members in subsets({r["problem"]: r["family"] or r["problem"] for r in records}).items():
            part = [r for r in records if r["problem"] in members]
            rows += [{**labels, "subset": subset, **row, "job": job.name} for row in build(part, max_turns)]
    return rows


def by_subset(layout: dict, rows: list[dict]) -> dict:
    """The layout, with a table per subset where the rows have the hidden-spec and regular subsets."""
    if all(r["subset"] == "all" for r in rows) or "subset" in layout["tables"]:
        return layout
    return {**layout, "tables": [*layout["tables"], "subset"]}


# What each analysis tabulates: its column key, then (field, title, scale to print) per measure.
MEASURES = {
    "error_recovery": ("kind", [("share", "turn-1 outcome, % of episodes", 100),
                                ("fixed_by_turn2", "fixed by turn 2 (public tests pass), % of those episodes", 100),
                                ("fixed_by_turn3", "fixed by turn 3 (public tests pass), % of those episodes", 100),
                                ("solved", "solved in the end (private tests), % of those episodes", 100)]),
    "chrf": ("transition", [("chrf", "chrF of a turn's code against the previous turn's (100: unchanged)", 1),
                            ("unchanged", "% of successive codes left unchanged", 100)]),
}


def measures(analysis: str, rows: list[dict]) -> tuple[str, list[tuple[str, str, float]]]:
    """The analysis's column key and the measures its rows have (fixed by turn 3 needs 3 turns)."""
    column, listed = MEASURES[analysis]
    return column, [m for m in listed if any(m[0] in r for r in rows)]


def shown(rows: list[dict], analysis: str) -> list[dict]:
    """The rows the table and figure show: error kinds no job's first turn had are left out (the
    CSV keeps them, as 0)."""
    if analysis != "error_recovery":
        return rows
    seen = {r["kind"] for r in rows if r["errors"]}
    return [r for r in rows if r["kind"] in seen]


def formatter(field: str, scale: float):
    def fmt(r: dict | None) -> str:
        if r is None:
            return "-"  # no job scored this cell
        if r[field] is None:
            return "n/a"  # nothing to take a rate of (e.g. no such error at turn 1)
        return f"{scale * r[field]:.1f} [{scale * r[f'{field}_ci_low']:.1f}, {scale * r[f'{field}_ci_high']:.1f}]"
    return fmt


def markdown(rows: list[dict], layout: dict, analysis: str, identity: list[str]) -> str:
    """Per value of the layout's `tables` keys, one pivoted table per measure: the layout's rows
    down, the analysis's kinds or transitions across."""
    from rlef.analysis.table import partition, pivot

    column, listed = measures(analysis, rows)
    parts = []
    for title, part in partition(rows, layout["tables"]):
        head = " ".join(map(str, title))
        for field, what, scale in listed:
            parts.append(f"{head + ': ' if head else ''}{what}, 95% CI resampling problems (families):\n\n"
                         + pivot(part, layout["rows"], [column], [*identity, column], formatter(field, scale)))
    return "\n\n".join(parts)


def figure(rows: list[dict], layout: dict, analysis: str, png: Path) -> Path:
    """Grouped bars with CI error bars: a row of panels (one per measure) per value of the layout's
    `tables` keys; the kinds or transitions along x, one bar per value of the layout's `rows` keys."""
    from rlef.analysis.plots import grouped_bars
    from rlef.analysis.table import partition

    column, listed = measures(analysis, rows)
    panels = {}
    for title, part in partition(rows, layout["tables"]):
        for field, what, scale in listed:
            bars: dict[str, dict[str, tuple]] = {}
            for r in part:
                value = None if r[field] is None else tuple(scale * r[f] for f in (field, f"{field}_ci_low",
                                                                                    f"{field}_ci_high"))
                bars.setdefault(r[column], {})[" ".join(str(r[k]) for k in layout["rows"])] = value
            panels[(" ".join(map(str, title)), what, "chrF" if scale == 1 else "%")] = bars
    caption = "error bars: 95% bootstrap CI resampling problems (families)"
    x_label = {"kind": "turn-1 outcome (first failing public-test verdict)", "transition": "turn -> next turn"}
    return grouped_bars(panels, len(listed), x_label[column], f"{png.stem} ({caption})", png)


def write_analysis(sweep: Path, target: Path, result, analysis: str, command: str) -> list[Path]:
    """<target>.csv (every job x kind or transition), <target>.md and <target>.png; `command`: the
    table step's own command line, for the .md."""
    if analysis not in ANALYSES:
        raise ValueError(f"{sweep}: table.analysis must be one of {ANALYSES}, got {analysis!r}")
    if result.missing:
        raise ValueError(f"{sweep}: jobs {', '.join(result.missing)} have not finished (no metrics.json); the "
                         f"{analysis} table compares every arm's episodes, so it waits for all of them")
    rows = analysis_rows(sweep, result, analysis)
    if not rows:
        raise ValueError(f"{sweep}: no multi-turn job to analyse (eval.single_turn_baseline only?)")
    keys, layout = [*identity(result), "subset"], by_subset(result.layout, rows)
    body = markdown(shown(rows, analysis), layout, analysis, keys)  # fails before any file is written
    fields = list(dict.fromkeys(k for r in rows for k in r))
    written = [write_csv(rows, target.with_suffix(".csv"), fields), target.with_suffix(".md"),
               figure(shown(rows, analysis), layout, analysis, target.with_suffix(".png"))]
    info = json.loads((sweep / rows[0]["job"] / "run_info.json").read_text())
    column = MEASURES[analysis][0]
    written[1].write_text(
        produced_by(target.name, [run_command(info), command], info)
        + f"\n{body}\n\nFigure: `{written[2].name}`.\n\nFile: `{written[0].name}` (one row per "
        f"{', '.join(keys)} and {column}). Paper numbers: none; the repo holds none (experiments/table1.md).\n")
    return written
