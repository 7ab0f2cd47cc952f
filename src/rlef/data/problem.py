"""The problem types every layer above uses."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Test:
    """One stdin/stdout test case, as CodeContests stores them."""

    stdin: str
    expected_stdout: str
