"""Training metrics that need no Lightning: per-iteration rollout statistics and the
iterations.csv log (one row per completed iteration, trimmed on resume)."""
from __future__ import annotations

import csv
from pathlib import Path

from rlef.experience import episode_rewards


def rollout_metrics(episodes: list, seconds: float) -> dict[str, float]:
    """reward, solve rate, public-test pass rate by turn, replies without code, lengths, tok/s, and the
    episodes ended by a prompt over the model's context (rollout.context_overflow). Reward and reply
    statistics are over answered turns, as PPO sees them (experience.collate)."""
    scored = [e for e in episodes if not e.infra_error]
    n = max(len(scored), 1)
    turns = [t for e in scored for t in e.turns]
    answered = [t for e in scored for t in e.answered_turns]
    rewards = [r.sum().item() for r in map(episode_rewards, scored) if r is not None]
    tokens = sum(len(t.response) for e in episodes for t in e.turns)
    out = {"rollout/episodes": float(len(episodes)), "rollout/infra_errors": float(len(episodes) - len(scored)),
           "rollout/context_overflows": float(sum(e.overflowed for e in episodes)),
           "rollout/solve_rate": sum(e.solved for e in scored) / n,
           "rollout/reward": sum(rewards) / max(len(rewards), 1),
           "rollout/turns": len(turns) / n,
           "rollout/no_code_frac": sum(t.code is None for t in answered) / max(len(answered), 1),
           "rollout/response_tokens": tokens / max(len(answered), 1),
           "rollout/tokens_per_s": tokens / max(seconds, 1e-9), "time/rollout_s": seconds}
    for k in range(max((len(e.turns) for e in scored), default=0)):
        passed = sum(any(t.public is not None and t.public.passed for t in e.turns[: k + 1]) for e in scored)
        out[f"rollout/public_pass_by_turn{k + 1}"] = passed / n
    return out


def _read_rows(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _write_rows(path: Path, rows: list[dict]) -> None:
    fields = sorted({k for r in rows for k in r}, key=lambda k: (k != "iteration", k))
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)  # atomic: a kill never leaves half a file


def append_iteration(path: Path, metrics: dict[str, float]) -> None:
    """iterations.csv: one row per completed iteration, whatever keys it logged (validation
    rows add columns). Lightning's own CSVLogger writes logs/version_N/metrics.csv per start."""
    _write_rows(path, [*_read_rows(path), {k: f"{v:.6g}" for k, v in metrics.items()}])


def trim_metrics(path: Path, first_iteration: int) -> None:
    """Drop rows of iterations the resumed run will redo (killed after logging, before the
    checkpoint): every iteration appears exactly once in iterations.csv."""
    rows = _read_rows(path)
    keep = [r for r in rows if float(r["iteration"]) < first_iteration]
    if len(keep) < len(rows):
        _write_rows(path, keep)
