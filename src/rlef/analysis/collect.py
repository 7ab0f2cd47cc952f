"""Run directory -> results/: copy an evaluation's CSVs and write the exact command next to them.

    python -m rlef.analysis.collect outputs/eval/<run> results/<name>

writes results/<name>.csv (the run's results.csv), results/<name>_per_family.csv,
results/<name>_turns.json (per-turn error types, recoveries, chrF) and results/<name>.md
(the command, git sha and date that produced them), so every committed number has its
command next to it. A training run (task=train) gives results/<name>_iterations.csv (one row
per iteration) and results/<name>.md, which also records the checkpoint selected on valid.
"""
from __future__ import annotations

import argparse
import json
import shlex
import shutil
from pathlib import Path


def _command(info: dict) -> str:
    return "python " + " ".join(shlex.quote(a) for a in ["src/run.py", *info["argv"][1:]])


def collect_train(run_dir: Path, target: Path) -> list[Path]:
    info = json.loads((run_dir / "run_info.json").read_text())
    target.parent.mkdir(parents=True, exist_ok=True)
    written = [target.parent / f"{target.name}_iterations.csv", target.with_suffix(".md")]
    shutil.copyfile(run_dir / "iterations.csv", written[0])
    history = run_dir / "run_history.jsonl"
    starts = [json.loads(line) for line in history.read_text().splitlines()] if history.is_file() else []
    restarts = "".join(f"- {s['started']}: `{_command(s)}` (git {s['git_sha'][:10]})\n" for s in starts)
    selection = run_dir / "policy_best" / "selection.json"
    selected = selection.read_text().strip() if selection.is_file() else "none (no validation ran)"
    written[1].write_text(
        f"# {target.name}\n\nProduced by\n\n```bash\n{_command(info)}\n```\n\n"
        f"at git {info['git_sha']} (dirty: {info['git_dirty']}), started {info['started']} on {info['host']}.\n"
        f"Checkpoint selected on valid (policy_best/selection.json): `{selected}`.\n"
        + (f"\nEvery start of the run (resumes included):\n\n{restarts}\n" if restarts else "") +
        f"Files: `{written[0].name}` (one row per iteration); the run directory also had rollouts/ "
        "with every episode of every iteration.\n")
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
    command = _command(info)
    written[3].write_text(
        f"# {target.name}\n\nProduced by\n\n```bash\n{command}\n```\n\n"
        f"at git {info['git_sha']} (dirty: {info['git_dirty']}), started {info['started']} on {info['host']}.\n"
        f"Files: `{written[0].name}`, `{written[1].name}`, `{written[2].name}`; the run directory also had "
        "samples.jsonl with every turn of every episode.\n")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("target", type=Path, help="results/<name> (no extension)")
    args = parser.parse_args()
    for path in collect(args.run_dir, args.target):
        print("wrote", path)


if __name__ == "__main__":
    main()
