"""What every run records next to its outputs: git sha, dirty flag, SLURM job id, resolved config."""
from __future__ import annotations

import json
import os
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
