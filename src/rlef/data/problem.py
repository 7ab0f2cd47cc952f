"""The problem types every layer above uses."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Test:
    """One stdin/stdout test case, as CodeContests stores them."""

    __test__ = False  # not a pytest test class

    stdin: str
    expected_stdout: str
