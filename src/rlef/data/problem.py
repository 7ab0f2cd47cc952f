"""The problem types every layer above uses. No torch, no processes."""
from __future__ import annotations

from dataclasses import dataclass

# train_heldout (rlef_mini): new problems of the train families, never trained on; it tells a
# policy that learned its train problems from one that learned their families.
SPLITS = ("train", "valid", "test", "train_heldout")


@dataclass(frozen=True)
class Test:
    """One stdin/stdout test case, as CodeContests stores them."""

    __test__ = False  # not a pytest test class

    stdin: str
    expected_stdout: str
    # Function-style problems (HumanEval): code appended to the candidate, which prints what
    # expected_stdout compares. Empty for stdin/stdout problems. Shown in HumanEval feedback.
    call: str = ""
    display: str = ""  # the test as the model sees it in feedback, e.g. "f([1, 2]) == 3"


@dataclass(frozen=True)
class Problem:
    id: str
    source: str  # "code_contests", "rlef_mini", "humaneval", "humaneval_plus", "mbpp_plus", "jsonl"
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
    style: str = "stdio"  # "stdio" (CodeContests) or "function" (HumanEval): prompt + feedback format
    # Hidden-spec problems (rows' hidden_detail.near_misses): the reference program written for each
    # other option of the open detail, i.e. first turns wrong in that detail only (the probe's
    # constructed bank). Empty for every other problem.
    near_misses: tuple[str, ...] = ()

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
        """The tests the final code is judged on after the episode: private + generated. The
        reward also needs the public tests passed (Episode.solved), which every turn already ran."""
        return self.private_tests + self.generated_tests

    def program(self, code: str, test: Test) -> str:
        """The program to run for one test: the code itself for stdin/stdout problems, the
        code followed by the test's call for function-style ones."""
        return f"{code}\n\n{test.call}\n" if test.call else code
