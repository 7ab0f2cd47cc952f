"""Run directory -> results/: copy an evaluation's CSVs and write the exact command next to them.

    python -m rlef.analysis.collect outputs/eval/<run> results/<experiment>/<run>/eval_<checkpoint>_<split>

writes <target>.csv (the run's results.csv), <target>_per_family.csv, <target>_turns.json
(per-turn error types, recoveries, chrF) and <target>.md (the command, git sha and date that
produced them), so every committed number has its command next to it. A training run
(task=train, target results/<experiment>/<run>/train) gives <target>_iterations.csv (one row
per iteration), <target>_feedback.csv (per iteration, from the rollouts: how the episodes whose
first turn failed the public tests used the feedback; each episode's facts are rlef.evaluation's, as
task=eval's metrics.json counts them), <target>_feedback_families.csv (the same counts per problem
family over the whole run: which kinds of problem the reward for reading the feedback came from) and
<target>.md, which also records the checkpoint selected on valid. results/README.md describes the layout.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

from rlef.provenance import produced_by, run_command, write_csv


def _feedback_row(key: dict, episodes: list[dict]) -> dict:
    """One row (key: its iteration or its family). Training rollouts are samples.jsonl's records
    (rlef.rollout.episode_record writes both), so each episode's facts are rlef.evaluation's, as
    metrics.json's Fig. 3/4 counts:
    episodes: the scored ones (infra errors left out); failed_turn1: those whose turn-1 kind
    (turn_errors) is not passed and that went on to a turn 2 (a single-turn run gives no feedback to
    use: none); recovered: of those, the ones a later turn fixed on the public tests; same_code_turn2
    and chrf_turn1_2: over their turn 1 -> 2 pairs with code in both turns (successive_chrf)."""
    from rlef.evaluation import scored_episodes, successive_chrf, turn_errors

    scored = scored_episodes(episodes)
    failed = [(e, errors) for e in scored if len(e["turns"]) > 1 and (errors := turn_errors(e)).first != "passed"]
    recovered = sum(errors.fixed_at is not None for _, errors in failed)
    pairs = [compared[1] for compared in (successive_chrf(e) for e, _ in failed) if 1 in compared]  # (chrF, unchanged)
    return {**key, "episodes": len(scored), "failed_turn1": len(failed), "recovered": recovered,
            "recovery_rate": recovered / len(failed) if failed else "",
            "same_code_turn2": sum(same for _, same in pairs) / len(pairs) if pairs else "",
            "chrf_turn1_2": sum(score for score, _ in pairs) / len(pairs) if pairs else ""}


def _rollouts(rollouts: Path) -> dict[int, list[dict]]:
    by_iteration: dict[int, list[dict]] = {}
    for path in sorted(rollouts.glob("iter*_rank*.jsonl")):
        iteration = int(re.match(r"iter(\d+)_", path.name).group(1))
        by_iteration.setdefault(iteration, []).extend(json.loads(line) for line in path.read_text().splitlines())
    return by_iteration


def feedback_use(rollouts: Path, out: Path) -> list[Path]:
    """Per iteration, and per family over all iterations: episodes whose turn 1 failed the public
    tests and went on, how many passed them at a later turn, and how much turn 2's code differs from
    turn 1's (chrF, exact repeats). Writes <out> and <out stem>_families.csv."""
    by_iteration = _rollouts(rollouts)
    rows = [_feedback_row({"iteration": i}, episodes) for i, episodes in sorted(by_iteration.items())]
    by_family: dict[str, list[dict]] = {}
    for episode in (e for episodes in by_iteration.values() for e in episodes):
        by_family.setdefault(episode.get("family") or "", []).append(episode)
    family_rows = [_feedback_row({"family": f}, episodes) for f, episodes in sorted(by_family.items())]
    families = out.with_name(f"{out.stem}_families.csv")
    return [write_csv(rows, out, list(_feedback_row({"iteration": 0}, []))),
            write_csv(family_rows, families, list(_feedback_row({"family": ""}, [])))]


def collect_train(run_dir: Path, target: Path) -> list[Path]:
    info = json.loads((run_dir / "run_info.json").read_text())
    target.parent.mkdir(parents=True, exist_ok=True)
    written = [target.parent / f"{target.name}_iterations.csv", target.with_suffix(".md")]
    shutil.copyfile(run_dir / "iterations.csv", written[0])
    if (run_dir / "rollouts").is_dir():
        written.extend(feedback_use(run_dir / "rollouts", target.parent / f"{target.name}_feedback.csv"))
    history = run_dir / "run_history.jsonl"
    starts = [json.loads(line) for line in history.read_text().splitlines()] if history.is_file() else []
    restarts = "".join(f"- {s['started']}: `{run_command(s)}` (git {s['git_sha'][:10]})\n" for s in starts)
    selection = run_dir / "policy_best" / "selection.json"
    selected = selection.read_text().strip() if selection.is_file() else "none (no validation ran)"
    written[1].write_text(
        produced_by(target.name, [run_command(info)], info) +
        f"Checkpoint selected on valid (policy_best/selection.json): `{selected}`.\n"
        + (f"\nEvery start of the run (resumes included):\n\n{restarts}\n" if restarts else "") +
        f"Files: {', '.join(f'`{w.name}`' for w in written if w.suffix == '.csv')} (one row per iteration, "
        "or per family over the run); the run directory also had rollouts/ with every episode of every iteration.\n")
    return written


def collect(run_dir: Path, target: Path) -> list[Path]:
    if (run_dir / "iterations.csv").is_file():
        return collect_train(run_dir, target)
    info = json.loads((run_dir / "run_info.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    target.parent.mkdir(parents=True, exist_ok=True)
    written = [target.with_suffix(".csv"), target.parent / f"{target.name}_per_family.csv",
               target.parent / f"{target.name}_turns.json", target.with_suffix(".md")]
    shutil.copyfile(run_dir / "results.csv", written[0])
    shutil.copyfile(run_dir / "per_family.csv", written[1])
    turns = {r["mode"]: r.get("analysis") for r in metrics["results"] if r.get("analysis")}
    written[2].write_text(json.dumps(turns, indent=2) + "\n")
    written[3].write_text(
        produced_by(target.name, [run_command(info)], info) +
        f"Files: `{written[0].name}`, `{written[1].name}`, `{written[2].name}`; the run directory also had "
        "samples.jsonl with every turn of every episode.\n")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("target", type=Path, help="results/<experiment>/<run>/<name> (no extension)")
    args = parser.parse_args()
    for path in collect(args.run_dir, args.target):
        print("wrote", path)


if __name__ == "__main__":
    main()
