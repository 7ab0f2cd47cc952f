"""The problem types every layer above uses. No torch, no processes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class Test:
    """One stdin/stdout test case, as CodeContests stores them."""

    __test__ = False  # not a pytest test class

    stdin: str
    expected_stdout: str


class FunctionHarness(Protocol):
    """How a function-style problem (HumanEval) turns a candidate into runnable programs.

    Its tests are still Test pairs: each program prints what the harness compares, so the
    executor and checker stay the same for every problem kind.
    """

    def program(self, code: str, test: Test) -> str: ...

    def feedback(self, code: str, results) -> str: ...


@dataclass(frozen=True)
class Problem:
    id: str
    source: str  # "code_contests", "rlef_mini", "humaneval", "jsonl"
    description: str  # the statement shown to the model
    public_tests: tuple[Test, ...]  # run every turn; failures become feedback
    private_tests: tuple[Test, ...]  # judge the final code: the reward (paper 2.1)
    generated_tests: tuple[Test, ...] = ()  # CodeContests' extra tests (we count them as private)
    time_limit_s: float | None = None  # None: the executor's default (paper A.2: 10 s)
    memory_limit_bytes: int | None = None  # None: the executor's default (paper A.2: 1 GiB)
    difficulty: str = ""
    tags: tuple[str, ...] = ()
    reference_solution: str | None = None
    split: str = ""
    family: str = ""  # rlef_mini: the problem family (splits are disjoint by family)
    harness: FunctionHarness | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a problem needs a non-empty id")
        if not self.public_tests:
            raise ValueError(f"problem {self.id}: no public tests (feedback needs them)")
        if not self.private_tests and not self.generated_tests:
            raise ValueError(f"problem {self.id}: no private or generated tests (no reward)")
        if self.split and self.split not in SPLITS:
            raise ValueError(f"problem {self.id}: split must be one of {SPLITS}, got {self.split!r}")

    @property
    def judge_tests(self) -> tuple[Test, ...]:
        """Tests that decide the reward: private + generated (CodeContests' full test set)."""
        return self.private_tests + self.generated_tests

    def program(self, code: str, test: Test) -> str:
        """The program to run for one test: the code itself for stdin/stdout problems."""
        return code if self.harness is None else self.harness.program(code, test)
