"""The probe part of issue 17's bar: does a trained arm read the feedback on held-out families?

    python -m rlef.analysis.feedback_bar outputs/probe/warm outputs/probe/rlef results/feedback_use/reproduce/bar

Each argument is a task=probe run directory on one bank (A: the warm start, B: the trained arm).
On the bank's hidden-spec items (the held-out families), per temperature, three criteria of
turn-2 success, true feedback minus random feedback (paper C.2):
  - B's gap is at least +0.15;
  - B's gap has a 95% CI (resampling families) above 0;
  - B's gap is at least twice A's.
The paired change B - A of the gap is written beside them with its CI.

With `--eval EVAL_A EVAL_B` (task=eval runs of the same two models on rlef_mix's test split,
experiment=feedback_eval), the bar's 1@3 parts too, each paired per problem with a CI resampling
families (rlef.analysis.compare), on the hidden-spec and the regular test families apart:
  - B's multi-turn - single-turn gap beats A's: the paired change's CI is above 0;
  - on the regular families, B is not worse than A: the paired change's CI reaches 0 or above
    (multi-turn and single-turn 1@3 each; "not worse" cannot be shown by a point estimate alone).
The control arms' part needs their own evaluations; the .md says what was not measured.
Writes <target>.csv (probe part), <target>_eval.csv (1@3 parts) and <target>.md.
"""
from __future__ import annotations

from pathlib import Path

from rlef.analysis.compare import FEEDBACK_GAIN, pair_parser
from rlef.analysis.compare import compare as compare_evals
from rlef.analysis.probe_compare import compare, read_probe
from rlef.probe import summarize
from rlef.provenance import module_command, produced_by, write_csv

SUBSET, METRIC, GAP = "hidden", "success_rate", "true_minus_random"
MIN_GAP = 0.15  # issue 17, part 5: "at least +15 points on held-out families"
MIN_RATIO = 2.0  # "... and at least twice the warm start's gap"


def _gap(summary: list[dict], temperature: float) -> dict:
    return next(r for r in summary if (r["temperature"], r["subset"], r["metric"], r["condition"])
                == (temperature, SUBSET, METRIC, GAP))


def bar(run_a, run_b, resamples: int = 2000) -> list[dict]:
    """One row per temperature and criterion: value, CI where it has one, threshold, met."""
    return bar_and_families(run_a, run_b, resamples)[0]


def bar_and_families(run_a, run_b, resamples: int = 2000) -> tuple[list[dict], list[str]]:
    """bar()'s rows, and the names of the hidden-spec families they are about (B's bank)."""
    (rows_a, _), (rows_b, _) = read_probe(run_a), read_probe(run_b)
    families = sorted({r["family"] for r in rows_b if r["subset"] == SUBSET})
    sum_a, sum_b = summarize(rows_a, resamples), summarize(rows_b, resamples)
    paired = {r["temperature"]: r for r in compare(run_a, run_b, resamples)
              if (r["subset"], r["metric"], r["quantity"]) == (SUBSET, METRIC, GAP)}
    if not paired:
        raise ValueError(f"{run_a} and {run_b} have no hidden-spec items: the bar is about held-out families")
    out = []
    for temperature, p in paired.items():
        a, b = _gap(sum_a, temperature), _gap(sum_b, temperature)
        row = {"temperature": temperature, "items": p["items"], "families": p["families"],
               "warm_gap": a["value"], "warm_gap_ci_low": a["ci_low"], "warm_gap_ci_high": a["ci_high"]}
        out += [
            {**row, "criterion": "arm gap >= +0.15", "value": b["value"], "ci_low": b["ci_low"],
             "ci_high": b["ci_high"], "threshold": MIN_GAP, "met": b["value"] >= MIN_GAP},
            {**row, "criterion": "arm gap CI above 0", "value": b["ci_low"], "ci_low": b["ci_low"],
             "ci_high": b["ci_high"], "threshold": 0.0, "met": b["ci_low"] > 0},
            {**row, "criterion": "arm gap >= 2x warm gap", "value": b["value"], "ci_low": "", "ci_high": "",
             "threshold": MIN_RATIO * a["value"], "met": b["value"] >= MIN_RATIO * a["value"]},
            {**row, "criterion": "paired change of the gap (not a criterion)", "value": p["b_minus_a"],
             "ci_low": p["ci_low"], "ci_high": p["ci_high"], "threshold": "", "met": ""},
        ]
    return out, families


def eval_bar(eval_a, eval_b, resamples: int = 2000) -> list[dict]:
    """The bar's 1@3 criteria (module docstring) from two task=eval runs: A the warm start, B the arm."""
    rows = {(r["subset"], r["mode"]): r for r in compare_evals(eval_a, eval_b, resamples)}
    if not {("hidden", FEEDBACK_GAIN), ("regular", FEEDBACK_GAIN)} <= set(rows):
        raise ValueError(f"{eval_a} and {eval_b}: the bar's 1@3 parts need runs with both modes on hidden-spec and "
                         "regular families (experiment=feedback_eval on rlef_mix's test split)")
    wanted = [(subset, FEEDBACK_GAIN, "arm's multi - single gap beats the warm start's", "low")
              for subset in ("hidden", "regular")]
    wanted += [("regular", mode, f"{mode} 1@3 not worse than the warm start", "high")
               for mode in ("multi_turn", "single_turn")]
    out = []
    for subset, mode, criterion, end in wanted:
        r = rows[(subset, mode)]
        ci = (r["b_minus_a_by_family_ci_low"], r["b_minus_a_by_family_ci_high"])
        out.append({"subset": subset, "mode": mode, "criterion": criterion, "problems": r["problems"],
                    "families": r["families"], "warm": r["solve_rate_a"], "arm": r["solve_rate_b"],
                    "value": r["b_minus_a"], "ci_low": ci[0], "ci_high": ci[1],
                    "problem_ci_low": r["b_minus_a_ci_low"], "problem_ci_high": r["b_minus_a_ci_high"],
                    "met": ci[0] > 0 if end == "low" else ci[1] >= 0})
    return out


def eval_lines(rows: list[dict]) -> list[str]:
    lines = ["| families | criterion | warm | arm | arm - warm | 95% CI (families) | 95% CI (problems) | met |",
             "|---|---|---|---|---|---|---|---|"]
    return lines + [f"| {r['subset']} ({r['families']}, {r['problems']} problems) | {r['criterion']} | "
                    f"{r['warm']:.3f} | {r['arm']:.3f} | {r['value']:+.3f} | [{r['ci_low']:+.3f}, "
                    f"{r['ci_high']:+.3f}] | [{r['problem_ci_low']:+.3f}, {r['problem_ci_high']:+.3f}] | "
                    f"{'yes' if r['met'] else 'no'} |" for r in rows]


def main(argv: list[str] | None = None) -> None:
    parser = pair_parser(__doc__.splitlines()[0], "probe")
    parser.add_argument("--eval", nargs=2, type=Path, metavar=("EVAL_A", "EVAL_B"),
                        help="task=eval runs of A and B on rlef_mix's test split: adds the bar's 1@3 parts")
    args = parser.parse_args(argv)
    evals = eval_bar(*args.eval, args.resamples) if args.eval else []  # a bad pair fails before any file
    rows, families = bar_and_families(args.run_a, args.run_b, args.resamples)
    lines = ["| T | criterion | value | 95% CI | threshold | met |", "|---|---|---|---|---|---|"]
    for r in rows:
        ci = f"[{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]" if r["ci_low"] != "" else ""
        threshold = f"{r['threshold']:+.3f}" if r["threshold"] != "" else ""
        lines.append(f"| {r['temperature']:.1f} | {r['criterion']} | {r['value']:+.3f} | {ci} | {threshold} | "
                     f"{'yes' if r['met'] is True else 'no' if r['met'] is False else ''} |")
    print("\n".join(lines))
    csv_path = write_csv(rows, args.target.with_suffix(".csv"))
    command = module_command("rlef.analysis.feedback_bar", argv)
    args.target.with_suffix(".md").write_text(
        produced_by(args.target.name, [command]) +
        f"Issue 17's bar, probe part: turn-2 success true - random feedback on the bank's hidden-spec items "
        f"({rows[0]['items']} items of {', '.join(families)}), A = `{args.run_a}`, B = `{args.run_b}`; CIs "
        "resample families. The bar asks this of held-out families: it holds only if these families are.\n\n"
        + "\n".join(lines) + "\n\n" + eval_part(evals, args))
    if evals:
        print("\n".join(eval_lines(evals)))
        print("wrote", write_csv(evals, args.target.with_name(args.target.name + "_eval.csv")))
    print("wrote", csv_path, args.target.with_suffix(".md"))


def eval_part(evals: list[dict], args) -> str:
    """The .md's account of the bar's 1@3 parts: their table, or that they were not measured."""
    if not evals:
        return ("Not measured here: the multi- minus single-turn 1@3 gap, the control arms, and the regular test "
                "families (the bar's other parts).\n")
    return (f"1@3 parts (`{args.target.name}_eval.csv`), A = `{args.eval[0]}`, B = `{args.eval[1]}`: paired per "
            "problem; met by the CI resampling families.\n\n" + "\n".join(eval_lines(evals))
            + "\n\nNot measured here: the control arms (the bar's third part).\n")


if __name__ == "__main__":
    main()
