"""Executions per second: plain subprocess-per-test (baseline) vs our sandboxed executor.

Same jobs, same parallelism (one job per core), same machine, one run. The mix is fixed:
trivial passes, wrong answers, exceptions and a few timeouts (0.5 s CPU limit). Prints the
ratio and writes results/bench/execution.csv. Target on 2 cores: >= 300 isolated
executions/s on trivial programs, and >= 3x the baseline.

    python bench/bench_execution.py [--jobs 600] [--workers N]
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchlib import write_csv

from rlef.data.problem import Test
from rlef.execution.checker import outputs_match
from rlef.execution.executor import Executor
from rlef.execution.types import Job, Limits

PROGRAMS = {
    "pass": ("a, b = map(int, input().split())\nprint(a + b)\n", True),
    "wrong": ("a, b = map(int, input().split())\nprint(a - b)\n", False),
    "exception": ("a, b = map(int, input().split())\nprint(a // (b - b))\n", False),
    "timeout": ("while True:\n    pass\n", False),
}
LIMITS = Limits(time_s=0.5)


def make_jobs(n: int, mix: str) -> list[tuple[str, Test]]:
    jobs = []
    for i in range(n):
        if mix == "trivial":
            kind = "pass"
        else:  # mixed: 4 timeouts in total, the rest 70% pass / 15% wrong / 15% exception
            kind = "timeout" if i % (n // 4) == 0 else ("pass", "pass", "pass", "pass", "pass", "pass",
                                                           "pass", "wrong", "exception", "wrong",
                                                           "exception", "pass", "pass", "pass")[i % 14]
        a, b = i, 2 * i + 1
        jobs.append((PROGRAMS[kind][0], Test(f"{a} {b}\n", f"{a + b}\n")))
    return jobs


def baseline_one(program: str, test: Test, scratch: str) -> bool:
    """What a naive harness does: a fresh interpreter per test, wall-clock timeout."""
    try:
        out = subprocess.run([sys.executable, "-c", program], input=test.stdin, capture_output=True,
                             text=True, timeout=LIMITS.time_s, cwd=scratch, env={})
    except subprocess.TimeoutExpired:
        return False
    return out.returncode == 0 and outputs_match(test.expected_stdout, out.stdout)


def run_baseline(jobs, workers: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as scratch, ThreadPoolExecutor(workers) as pool:
        start = time.perf_counter()
        passed = sum(pool.map(lambda j: baseline_one(j[0], j[1], scratch), jobs))
        return time.perf_counter() - start, passed


def run_executor(executor: Executor, jobs) -> tuple[float, int]:
    start = time.perf_counter()
    results = executor.run_batch([Job(p, (t,), LIMITS) for p, t in jobs])
    return time.perf_counter() - start, sum(r.passed for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=600)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--out", default="results/bench/execution.csv")
    args = parser.parse_args()
    rows = []
    with Executor(workers=args.workers) as executor:
        isolation = executor.isolation.describe()
        run_executor(executor, make_jobs(2 * args.workers, "trivial"))  # warm the pool
        for mix in ("trivial", "mixed"):
            jobs = make_jobs(args.jobs, mix)
            base_s, base_ok = run_baseline(jobs, args.workers)
            ours_s, ours_ok = run_executor(executor, jobs)
            if base_ok != ours_ok:
                raise SystemExit(f"verdicts differ on {mix}: baseline {base_ok} vs ours {ours_ok} passed")
            for name, seconds, iso in (("subprocess_baseline", base_s, "none"), ("rlef_executor", ours_s, isolation)):
                rows.append({"mix": mix, "harness": name, "isolation": iso, "executions": len(jobs),
                             "seconds": round(seconds, 3), "exec_per_s": round(len(jobs) / seconds, 1),
                             "speedup_vs_baseline": round(base_s / seconds, 2), "workers": args.workers,
                             "cpus": os.cpu_count(), "machine": platform.machine(), "passed": ours_ok})
    _write(rows, Path(args.out))


def _write(rows: list[dict], path: Path) -> None:
    write_csv(rows, path)
    for r in rows:
        print(f"{r['mix']:8s} {r['harness']:20s} {r['exec_per_s']:8.1f} exec/s  "
              f"x{r['speedup_vs_baseline']:.2f} vs baseline  [{r['isolation']}]")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
