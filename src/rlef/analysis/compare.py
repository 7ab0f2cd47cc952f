"""Paired comparison of two evaluations of the same problems: B - A, with a bootstrap CI.

    python -m rlef.analysis.compare outputs/eval/<A> outputs/eval/<B> results/<experiment>/<run>/compare_<...>_vs_<A>

Each run's n@k is recomputed per problem from its samples.jsonl, exactly as task=eval scores
it. The difference is resampled over problems, both runs together (a paired bootstrap): the
between-problem spread, which makes the separate interval of each eval_*.csv so wide, cancels.
Where both runs have both modes, one more row compares the feedback gain, multi-turn minus
single-turn n@k per problem at the same budget (the gap RLEF should widen, paper Table 4).
A second interval resamples whole families instead of problems (b_minus_a_by_family_ci_*):
problems of one rlef_mini family share a solution idea, so a gain carried by one or two
families is less certain than the problem count suggests. With few families (rlef_mini test: 9,
train_heldout: 14) that interval is rough too: a percentile bootstrap over few clusters tends
to be too narrow, and where gains and losses fall in one family they cancel inside it.
Where the problems hold hidden-spec and regular families (rlef_mix), every row comes three times: all
problems, the hidden-spec families only, the regular ones only (column subset).
Writes <target>.csv (one row per subset and mode) and <target>.md (the command); results/README.md names the targets.
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from omegaconf import OmegaConf

from rlef.data.mini import subset_of
from rlef.evaluation import Outcome, bootstrap, cluster_bootstrap, cluster_key, scores_by_problem
from rlef.provenance import module_command, produced_by, write_csv


def run_scores(run_dir: Path) -> tuple[dict[str, dict[str, float]], dict, dict[str, str]]:
    """{mode: {problem: n@k}}, the protocol (metric, turns, temperature) and {problem: family}
    of one eval run (a problem without a family is its own)."""
    cfg = OmegaConf.load(run_dir / "config.yaml")
    turns = recorded_turns(run_dir)
    outcomes: dict[str, list[tuple[str, Outcome]]] = defaultdict(list)
    families: dict[str, str] = {}
    for line in (run_dir / "samples.jsonl").read_text().splitlines():
        s = json.loads(line)
        families[s["problem"]] = s.get("family") or s["problem"]
        if not s["infra_error"]:
            public = bool(s["turns"]) and s["turns"][-1]["public_passed"]
            outcomes[s["mode"]].append((s["problem"], Outcome(public, s["solved"])))
    if set(outcomes) - set(turns):
        raise ValueError(f"{run_dir}: samples.jsonl has modes that metrics.json does not: {set(outcomes) - set(turns)}")
    scores = {mode: scores_by_problem(pairs, cfg.eval.submissions, cfg.eval.sample_budget, turns[mode])
              for mode, pairs in outcomes.items()}
    protocol = {"metric": f"{cfg.eval.submissions}@{cfg.eval.sample_budget}", "turns": cfg.rollout.max_turns,
                "temperature": cfg.eval.temperature, "split": cfg.eval.split, "data": cfg.data.name}
    return scores, protocol, families


def recorded_turns(run_dir: Path) -> dict[str, int]:
    """{mode: turns per rollout} as task=eval recorded them in metrics.json (the budget split
    n@k uses), so a comparison scores every mode exactly as the run did."""
    path = run_dir / "metrics.json"
    if not path.is_file():
        raise ValueError(f"{run_dir} is not a finished eval run: it has no metrics.json")
    return {row["mode"]: int(row["turns"]) for row in json.loads(path.read_text())["results"]}


def same_problems(a: dict[str, float], b: dict[str, float], which: str) -> None:
    """Refuses to pair two score sets (two runs, or two modes of one run) over different problems."""
    if set(a) != set(b):
        raise ValueError(f"the {which} scored different problems: {len(set(a) ^ set(b))} are in only one of them")


def paired(a: dict[str, float], b: dict[str, float], resamples: int, seed: int,
           families: dict[str, str] | None = None) -> dict:
    same_problems(a, b, "runs")
    problems = sorted(a)
    gaps = {p: b[p] - a[p] for p in problems}
    diff = bootstrap(list(gaps.values()), resamples, seed)
    families = families or {}
    by_family = cluster_bootstrap(gaps, families, resamples, seed)
    return {"problems": len(problems), "solve_rate_a": sum(a.values()) / len(a),
            "solve_rate_b": sum(b.values()) / len(b),
            **diff.as_dict("b_minus_a"), "problems_b_better": sum(b[p] > a[p] for p in problems),
            "problems_a_better": sum(a[p] > b[p] for p in problems),
            "families": len({cluster_key(p, families) for p in problems}),
            "b_minus_a_by_family_ci_low": by_family.low, "b_minus_a_by_family_ci_high": by_family.high}


FEEDBACK_GAIN = "multi_turn_minus_single_turn"


def with_feedback_gain(scores: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Adds {FEEDBACK_GAIN: {problem: multi-turn n@k - single-turn n@k}} where both modes ran."""
    multi, single = scores.get("multi_turn"), scores.get("single_turn")
    if multi is None or single is None:
        return scores
    same_problems(multi, single, "modes")
    return {**scores, FEEDBACK_GAIN: {p: multi[p] - single[p] for p in multi}}


def subsets(families: dict[str, str]) -> dict[str, set[str]]:
    """{"all": every problem}, and where the problems are of both kinds, {"hidden": ..., "regular": ...}
    (rlef.data.mini.subset_of): issue 17's part 5 reports the hidden-spec and the regular families apart."""
    groups = {"all": set(families), "hidden": set(), "regular": set()}  # this order in every table
    for problem, fam in families.items():
        groups[subset_of(fam)].add(problem)
    return groups if groups["hidden"] and groups["regular"] else {"all": groups["all"]}


def compare(run_a: Path, run_b: Path, resamples: int = 2000, seed: int = 0) -> list[dict]:
    """One row per subset (subsets) and mode, the feedback gain included: B - A, paired."""
    (scores_a, protocol_a, families), (scores_b, protocol_b, families_b) = run_scores(run_a), run_scores(run_b)
    if protocol_a != protocol_b:
        raise ValueError(f"the runs used different protocols: {protocol_a} vs {protocol_b}")
    if any(families_b.get(p, f) != f for p, f in families.items()):
        raise ValueError("the runs put the same problem in different families: not the same data")
    scores_a, scores_b = with_feedback_gain(scores_a), with_feedback_gain(scores_b)
    rows = []
    scored = {p for mode in scores_a.values() for p in mode}  # a problem of infra errors only has no score
    for subset, members in subsets({p: families[p] for p in scored}).items():
        for mode in (m for m in scores_a if m in scores_b):
            a, b = ({p: v for p, v in s[mode].items() if p in members} for s in (scores_a, scores_b))
            rows.append({"subset": subset, "mode": mode, "metric": protocol_a["metric"], "a": str(run_a),
                         "b": str(run_b), **paired(a, b, resamples, seed, families)})
    return rows


def write(rows: list[dict], target: Path, argv: list[str] | None = None) -> list[Path]:
    written = [write_csv(rows, target.with_suffix(".csv")), target.with_suffix(".md")]
    command = module_command("rlef.analysis.compare", argv)
    written[1].write_text(produced_by(target.name, [command]) +
                          f"Paired bootstrap of B - A over problems (b_minus_a_ci_*) and over families "
                          f"(b_minus_a_by_family_ci_*); file: `{written[0].name}`. In the row "
                          f"{FEEDBACK_GAIN}, solve_rate_a and solve_rate_b are each run's mean gap.\n")
    return written


def pair_parser(description: str, kind: str) -> argparse.ArgumentParser:
    """The command line of a paired comparison: two `kind` run directories, A then B, and the target."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("run_a", type=Path, help=f"{kind} run directory A (e.g. the warm start)")
    parser.add_argument("run_b", type=Path, help=f"{kind} run directory B (e.g. a trained policy)")
    parser.add_argument("target", type=Path, help="results/<experiment>/<run>/<name> (no extension)")
    parser.add_argument("--resamples", type=int, default=2000)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = pair_parser(__doc__.splitlines()[0], "eval").parse_args(argv)
    rows = compare(args.run_a, args.run_b, args.resamples)
    for r in rows:
        print(f"{r['subset']} {r['mode']}: {r['metric']} {r['solve_rate_a']:.3f} -> {r['solve_rate_b']:.3f}, "
              f"B - A = {r['b_minus_a']:+.3f} [{r['b_minus_a_ci_low']:+.3f}, {r['b_minus_a_ci_high']:+.3f}] "
              f"over {r['problems']} problems ({r['problems_b_better']} better, {r['problems_a_better']} worse); "
              f"resampling {r['families']} families: [{r['b_minus_a_by_family_ci_low']:+.3f}, "
              f"{r['b_minus_a_by_family_ci_high']:+.3f}]")
    for path in write(rows, args.target, argv):
        print("wrote", path)


if __name__ == "__main__":
    main()
