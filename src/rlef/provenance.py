"""Provenance: what every run records next to its outputs (git sha, dirty flag, SLURM job id,
argv, resolved config), and how results/ files name the command that produced them."""
from __future__ import annotations

import csv
import json
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


def record_run(out_dir: Path, cfg: DictConfig) -> dict:
    """Write run_info.json and config.yaml (resolved) into out_dir and append the info to
    run_history.jsonl (a resumed training run keeps one line per start); return the info."""
    out_dir.mkdir(parents=True, exist_ok=True)
    info = {
        "git_sha": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "host": socket.gethostname(),
        "python": sys.version.split()[0],
        "argv": sys.argv,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (out_dir / "run_info.json").write_text(json.dumps(info, indent=2) + "\n")
    with (out_dir / "run_history.jsonl").open("a") as f:
        f.write(json.dumps(info) + "\n")
    (out_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    return info


def run_command(info: dict) -> str:
    return "python " + " ".join(shlex.quote(a) for a in ["src/run.py", *info["argv"][1:]])


def module_command(module: str, argv: list[str] | None) -> str:
    """The command line `python -m <module> ...` of a results/ tool, from its arguments (default: this
    process's own, for a tool run from the shell; rlef.analysis.rebuild passes them)."""
    return f"python -m {module} " + " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))


def produced_by(name: str, commands: list[str], info: dict | None = None) -> str:
    """The head of every .md in results/: the commands that wrote its files and, for a run
    directory's run_info.json, the git state, start time and host."""
    head = f"# {name}\n\nProduced by\n\n```bash\n" + "\n".join(commands) + "\n```\n\n"
    if info is None:
        return head
    return head + (f"at git {info['git_sha']} (dirty: {info['git_dirty']}), "
                   f"started {info['started']} on {info['host']}.\n")


def write_csv(rows: list[dict], path: Path, fields: list[str] | None = None) -> Path:
    """Rows of one shape -> a CSV at path, columns in the order of `fields` (default: the first row's keys)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields or list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
