"""What the executor returns. Verdicts are the model's; INFRA_ERROR is ours and never scores."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

# Paper A.2: "time limit of 10 seconds and memory limit of 1 GiB" when a problem gives none.
DEFAULT_TIME_LIMIT_S = 10.0
DEFAULT_MEMORY_LIMIT_BYTES = 1 << 30


class Verdict(str, enum.Enum):
    PASSED = "PASSED"
    WRONG_OUTPUT = "WRONG_OUTPUT"
    EXCEPTION = "EXCEPTION"
    TIMEOUT = "TIMEOUT"
    OUT_OF_MEMORY = "OUT_OF_MEMORY"
    OUTPUT_LIMIT = "OUTPUT_LIMIT"
    # The harness failed (worker died, sandbox could not start). Not the program's fault:
    # callers must retry or drop the sample, never count it as a pass or a failure.
    INFRA_ERROR = "INFRA_ERROR"


@dataclass(frozen=True)
class Limits:
    time_s: float = DEFAULT_TIME_LIMIT_S  # CPU seconds per test (judged on CPU, not wall, time)
    memory_bytes: int = DEFAULT_MEMORY_LIMIT_BYTES  # address space / cgroup limit per test
    wall_factor: float = 3.0  # wall-clock kill at wall_factor * time_s + 1 s (sleepers, I/O waits)
    output_bytes: int = 16 << 20  # stdout and stderr cap each; reaching it is OUTPUT_LIMIT

    def __post_init__(self) -> None:
        if not (self.time_s > 0 and self.memory_bytes >= 32 << 20 and self.output_bytes > 0):
            raise ValueError(f"invalid execution limits {self!r}: time_s must be > 0, "
                             "memory_bytes >= 32 MiB, output_bytes > 0")
        if self.wall_factor < 1:
            raise ValueError(f"wall_factor must be >= 1, got {self.wall_factor}")

    @property
    def wall_s(self) -> float:
        return self.wall_factor * self.time_s + 1.0

    @classmethod
    def from_config(cls, execution_cfg, time_s: float | None = None, memory_bytes: int | None = None) -> Limits:
        """Config defaults (the `execution:` block), overridden by a problem's own limits."""
        defaults = cls(time_s=float(execution_cfg.time_s), memory_bytes=int(execution_cfg.memory_mb * (1 << 20)),
                       wall_factor=float(execution_cfg.wall_factor),
                       output_bytes=int(execution_cfg.output_mb * (1 << 20)))
        return defaults.for_problem(time_s, memory_bytes)

    def for_problem(self, time_s: float | None, memory_bytes: int | None) -> Limits:
        """These limits with a problem's own time and memory limits, where it states them."""
        return replace(self, time_s=float(time_s or self.time_s), memory_bytes=int(memory_bytes or self.memory_bytes))


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest test class
    verdict: Verdict
    stdin: str  # the test input, kept so feedback can quote it
    expected: str  # expected stdout
    observed: str  # captured stdout, decoded with replacement, at most Limits.output_bytes
    stderr_tail: str = ""  # last lines of stderr: the traceback for EXCEPTION
    exit_code: int | None = None  # None when killed by a signal
    signal: int | None = None
    cpu_time_s: float = 0.0
    wall_time_s: float = 0.0
    detail: str = ""  # human-readable reason (which limit, which infra failure)

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED


@dataclass(frozen=True)
class ExecutionResult:
    """One program judged on a list of tests (possibly stopped at the first failure)."""

    tests: tuple[TestResult, ...]
    isolation: str = ""  # how it was isolated, e.g. "bwrap+cgroup(memory,pids)" or "rlimits"
    skipped: int = 0  # tests not run because an earlier one failed (stop_on_failure)

    @property
    def infra_error(self) -> bool:
        return any(t.verdict is Verdict.INFRA_ERROR for t in self.tests)

    @property
    def passed(self) -> bool:
        """All tests passed. False on an infra error: check infra_error before scoring."""
        return bool(self.tests) and self.skipped == 0 and all(t.passed for t in self.tests)

    @property
    def failures(self) -> tuple[TestResult, ...]:
        return tuple(t for t in self.tests if t.verdict not in (Verdict.PASSED, Verdict.INFRA_ERROR))


@dataclass(frozen=True)
class Job:
    """A program and the tests to run it on."""

    program: str
    tests: tuple = field(default_factory=tuple)  # tuple[rlef.data.Test, ...]
    limits: Limits = field(default_factory=Limits)
    stop_on_failure: bool = False  # private-test judging stops early; public tests run all for feedback
