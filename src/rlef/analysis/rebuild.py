"""Rebuild every table and figure in results/ whose inputs are committed, with one command.

    python -m rlef.analysis.rebuild                    # `make tables`: rewrites them in place
    python -m rlef.analysis.rebuild --root <copy>      # the same under another checkout's root

The list is `results/tables.yaml`: one line per command, the tool's name (a module of rlef.analysis) and
its arguments, every path relative to the repository root and inside results/. Each tool writes its
files, and the .md it writes names the command, so a rebuilt table says how to rebuild it alone. Inputs are what
the runs left and results/ keeps: evaluation run folders (samples.jsonl), probe folders (probe.csv and
their bank), training and evaluation CSVs. Training, evaluation and probe runs themselves take hours and
are not rerun here; their commands sit next to their files.
"""
from __future__ import annotations

import argparse
import contextlib
import shlex
from collections.abc import Callable
from pathlib import Path

import yaml

MANIFEST = Path("results/tables.yaml")
# The positional arguments each tool reads (the rest it writes): checked before anything is rebuilt.
INPUTS = {"summary": 1, "plots": 1, "compare": 2, "table": 1, "probe_compare": 2, "feedback_bar": 2}


def tools() -> dict[str, Callable[[list[str]], None]]:
    from rlef.analysis import compare, feedback_bar, plots, probe_compare, summary, table

    return {"summary": summary.main, "plots": plots.main, "compare": compare.main, "table": table.main,
            "probe_compare": probe_compare.main, "feedback_bar": feedback_bar.main}


def inputs(argv: list[str]) -> list[str]:
    """The paths a command reads: its first positional arguments, and feedback_bar's --eval pair."""
    args, evals = argv[1:], []
    if "--eval" in args:
        at = args.index("--eval")
        args, evals = args[:at] + args[at + 3:], args[at + 1:at + 3]
    return [a for a in args if not a.startswith("-")][:INPUTS[argv[0]]] + evals


def read_manifest(path: Path) -> list[list[str]]:
    """The manifest's commands as argument lists, refused in one line if a tool is unknown or an input
    is not a committed file under results/ (before anything is rewritten)."""
    commands = [shlex.split(line) for line in yaml.safe_load(path.read_text())]
    for argv in commands:
        if argv[0] not in INPUTS:
            raise ValueError(f"{path}: unknown tool {argv[0]!r} in {shlex.join(argv)} (known: {', '.join(INPUTS)})")
        bad = [p for p in inputs(argv) if not p.startswith("results/") or not Path(p).exists()]
        if bad:
            raise ValueError(f"{path}: {shlex.join(argv)} reads {', '.join(bad)}, "
                             "which is not a committed file under results/")
    return commands


def rebuild(root: Path, manifest: Path = MANIFEST) -> int:
    """Run every command of the manifest under root; return how many ran."""
    with contextlib.chdir(root):
        commands, run = read_manifest(manifest), tools()
        for argv in commands:
            print("$ python -m rlef.analysis." + shlex.join(argv), flush=True)
            run[argv[0]](argv[1:])
    return len(commands)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="the repository root (default: here)")
    args = parser.parse_args(argv)
    print(f"rebuilt the files of {rebuild(args.root)} commands ({args.root / MANIFEST})")


if __name__ == "__main__":
    main()
