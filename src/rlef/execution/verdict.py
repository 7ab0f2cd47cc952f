"""Raw facts about one run (from the zygote) -> the verdict CodeContests would give.

Order matters (first match wins), because one run can show several symptoms: a program
killed at the CPU limit may also have a truncated output and a non-zero status.
  1. killed by the harness for wall time, or CPU time over the limit  -> TIMEOUT
  2. OOM-killed in its cgroup, or died with MemoryError               -> OUT_OF_MEMORY
  3. stdout or stderr reached the output cap                           -> OUTPUT_LIMIT
  4. non-zero exit status or killed by a signal                        -> EXCEPTION
     (sys.exit(137) is an EXCEPTION: only the cgroup counter says "OOM")
  5. otherwise compare the output                                      -> PASSED / WRONG_OUTPUT
"""
from __future__ import annotations

import signal as _signal
from dataclasses import dataclass

from rlef.data.problem import Test
from rlef.execution.checker import outputs_match
from rlef.execution.types import Limits, TestResult, Verdict


@dataclass(frozen=True)
class RawRun:
    """What the zygote reports for one execution (see zygote.py's protocol)."""

    exit_code: int | None
    signal: int | None
    harness_killed: bool
    cpu_s: float
    wall_s: float
    stdout: bytes  # at most Limits.output_bytes
    stdout_size: int  # full size written (may equal the cap)
    stderr_tail: bytes
    stderr_size: int
    setup_error: str | None = None
    oom_killed: bool = False  # filled in by the executor from the cgroup's counter


def _signal_name(number: int) -> str:
    try:
        return _signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _died_of_memory_error(stderr: str) -> bool:
    lines = stderr.strip().splitlines()
    return bool(lines) and lines[-1].startswith("MemoryError")


def _timed_out(raw: RawRun, limits: Limits) -> bool:
    # The harness kills at the CPU or wall limit; RLIMIT_CPU (a backstop at int(time_s) + 1)
    # can only fire past the limit, so measured CPU time covers it. A SIGKILL below the
    # limit is something else (the cgroup OOM killer), never a timeout.
    return raw.harness_killed or raw.cpu_s > limits.time_s


def classify(raw: RawRun, test: Test, limits: Limits) -> TestResult:
    stderr = raw.stderr_tail.decode("utf-8", "replace")
    common = dict(stdin=test.stdin, expected=test.expected_stdout,
                  observed=raw.stdout.decode("utf-8", "replace"), stderr_tail=stderr,
                  exit_code=raw.exit_code, signal=raw.signal, cpu_time_s=raw.cpu_s,
                  wall_time_s=raw.wall_s)
    if raw.setup_error:
        return TestResult(Verdict.INFRA_ERROR, detail=raw.setup_error, **common)
    if _timed_out(raw, limits):
        if raw.cpu_s >= limits.time_s:
            why = f"CPU time {raw.cpu_s:.2f}s > limit {limits.time_s}s"
        else:
            why = f"wall time {raw.wall_s:.2f}s > limit {limits.wall_s}s (CPU {raw.cpu_s:.2f}s)"
        return TestResult(Verdict.TIMEOUT, detail=why, **common)
    if raw.oom_killed or _died_of_memory_error(stderr):
        return TestResult(Verdict.OUT_OF_MEMORY, detail=f"limit {limits.memory_bytes} bytes", **common)
    if max(raw.stdout_size, raw.stderr_size) >= limits.output_bytes:
        return TestResult(Verdict.OUTPUT_LIMIT, detail=f"cap {limits.output_bytes} bytes", **common)
    if raw.signal is not None:
        detail = f"killed by {_signal_name(raw.signal)}"
        if not stderr.strip():
            common["stderr_tail"] = detail
        return TestResult(Verdict.EXCEPTION, detail=detail, **common)
    if raw.exit_code:
        return TestResult(Verdict.EXCEPTION, detail=f"exit status {raw.exit_code}", **common)
    verdict = Verdict.PASSED if outputs_match(test.expected_stdout, common["observed"]) else Verdict.WRONG_OUTPUT
    return TestResult(verdict, **common)
