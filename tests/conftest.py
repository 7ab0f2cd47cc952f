"""Shared fixtures. Sandbox tests need bubblewrap: skipped without it, unless
RLEF_REQUIRE_BWRAP=1 (CI sets it), which turns a missing sandbox into a failure."""
from __future__ import annotations

import os

import pytest

from rlef.execution import sandbox
from rlef.execution.executor import Executor


def _bwrap_or_skip() -> None:
    if sandbox.bwrap_available() is None:
        if os.environ.get("RLEF_REQUIRE_BWRAP") == "1":
            pytest.fail("RLEF_REQUIRE_BWRAP=1 but bubblewrap cannot create namespaces here")
        pytest.skip("bubblewrap unavailable: hostile-program isolation cannot be tested on this host")


def pytest_runtest_setup(item) -> None:
    if item.get_closest_marker("sandbox"):
        _bwrap_or_skip()


@pytest.fixture(scope="session")
def executor():
    """A sandboxed executor shared by the whole session (2 workers, like CI's 2 cores)."""
    _bwrap_or_skip()
    with Executor(workers=2, isolation="bwrap") as ex:
        yield ex
