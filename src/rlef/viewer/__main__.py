"""python -m rlef.viewer <run dir or .jsonl> [-o out.html]: every turn of a run's episodes on one page.

    python -m rlef.viewer outputs/eval/warm_start                      # task=eval: samples.jsonl
    python -m rlef.viewer outputs/train/rlef_cpu --iteration 19        # task=train: one iteration
    python -m rlef.viewer outputs/train/rlef_cpu --sample 50           # 50 episodes of every iteration
    python -m rlef.viewer results/feedback_use/v2/warm --bank results/feedback_use/probe_bank_v2.jsonl

The page is one static file (no server, no network): open it from disk.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rlef.errors import BadInput
from rlef.provenance import module_command
from rlef.viewer.episodes import subsample, view_episode
from rlef.viewer.load import load
from rlef.viewer.page import payload, render

SMOOTH_EPISODES = 10_000  # the page stays responsive up to here (tests/test_viewer.py); more: --sample


def build(path: Path, output: Path | None = None, bank: Path | None = None, iterations: list[int] | None = None,
          sample: int | None = None, seed: int = 0, command: str = "") -> tuple[Path, int]:
    """Write the page; return (its path, the number of episodes on it)."""
    if sample is not None and sample < 1:
        raise BadInput(f"--sample must be >= 1, got {sample}")
    run = load(path, bank, set(iterations) if iterations else None)
    total = len(run.records)
    records = subsample(run.records, sample, seed) if sample else run.records
    statements: dict[str, str] = {}
    episodes = [view_episode(i, r, statements) for i, r in enumerate(records)]
    shown = str(len(episodes))
    if len(episodes) < total:
        shown += f" (drawn from {total}, --sample {sample} --seed {seed})"
    meta = {"title": f"RLEF episodes ({run.kind}): {path}",
            "run": {"episodes": shown, **run.meta, "page made by": command}}
    if output is None:
        output = path / "viewer.html" if path.is_dir() else path.with_suffix(".html")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(payload(meta, episodes, statements)), encoding="utf-8")
    return output, len(episodes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rlef.viewer", description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="a run dir of task=eval, train or probe, or one of their .jsonl files")
    parser.add_argument("-o", "--output", type=Path,
                        help="the page (default: <run dir>/viewer.html, or <file>.html for a file)")
    parser.add_argument("--bank", type=Path,
                        help="probe: its bank (default: probe_bank.jsonl next to second_turns.jsonl)")
    parser.add_argument("--iteration", type=int, action="append", help="train: only this iteration (repeatable)")
    parser.add_argument("--sample", type=int, help="keep this many episodes of each training iteration "
                                                   "(of the whole input otherwise), drawn with --seed")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    command = module_command("rlef.viewer", argv)
    try:
        out, n = build(args.path, args.output, args.bank, args.iteration, args.sample, args.seed, command)
    except BadInput as e:
        sys.exit(f"rlef.viewer: {e}")
    print(f"wrote {out} ({n} episodes): open file://{out.resolve()}")
    if n > SMOOTH_EPISODES:
        print(f"{n} episodes: past {SMOOTH_EPISODES} filtering slows down; --sample or --iteration keeps fewer")


if __name__ == "__main__":
    main()
