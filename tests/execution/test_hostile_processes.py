"""Hostile programs that attack processes: fork bombs, daemons, signals to the harness, crashes
of the interpreter itself, and leaks over many executions. Each test checks one property,
including, from the host's side, that no process the program started is still running."""
import os
from pathlib import Path

import pytest
from hostile_support import FAST, descendants, judge, named, new_marker, survivors

from rlef.data.problem import Test
from rlef.execution.executor import Executor
from rlef.execution.types import Job, Limits, Verdict

pytestmark = pytest.mark.sandbox

ECHO = "print(input())\n"


@pytest.fixture(scope="module")
def lone(executor):
    """One worker, so "the next program" is guaranteed to run in the zygote the attack hit.
    (Depends on `executor` only for its bubblewrap-or-skip check.)"""
    with Executor(workers=1, isolation="bwrap") as ex:
        yield ex


def still_judges(ex) -> bool:
    return ex.run(ECHO, [Test("5\n", "5\n")], FAST).passed


# --- fork bombs and daemons ------------------------------------------------------------------

def test_fork_bomb_is_contained_and_leaves_no_process(executor):
    marker = new_marker()
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    result = judge(executor, named(marker, bomb), limits=FAST)
    assert result.verdict in (Verdict.TIMEOUT, Verdict.EXCEPTION)
    assert survivors(marker) == []


def test_subprocess_bomb_is_contained_and_leaves_no_process(executor):
    # Every generation is a fresh interpreter (exec: a new comm), so the marker rides in argv.
    marker = new_marker()
    child = ("import subprocess, sys\n"
             "while True:\n"
             "    try:\n"
             "        subprocess.Popen([sys.executable, '-S', '-c', sys.argv[1], *sys.argv[1:3]])\n"
             "    except OSError:\n"
             "        pass\n")
    program = (f"import subprocess, sys\n"
               "while True:\n"
               "    try:\n"
               f"        subprocess.Popen([sys.executable, '-S', '-c', {child!r}, {child!r}, {marker!r}])\n"
               "    except OSError:\n"
               "        pass\n")
    result = judge(executor, named(marker, program), limits=FAST)
    assert result.verdict in (Verdict.TIMEOUT, Verdict.EXCEPTION)
    assert survivors(marker) == []


def test_double_forked_setsid_daemon_dies_with_the_program(executor):
    marker = new_marker()
    program = named(marker, (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        with open('daemon.log', 'w') as log:\n"
        "            while True:\n"
        "                log.write('still here\\n')\n"
        "                log.flush()\n"
        "                time.sleep(0.01)\n"
        "    os._exit(0)\n"
        "os.wait()\n"
        "while not os.path.exists('daemon.log') or os.path.getsize('daemon.log') == 0:\n"
        "    time.sleep(0.01)\n"  # the daemon is provably running when the answer is printed
        "print(42)\n"))
    result = judge(executor, program, expected="42\n", limits=FAST)
    assert result.verdict is Verdict.PASSED  # its answer is still judged
    assert survivors(marker) == []


# --- signals aimed at the harness --------------------------------------------------------------

@pytest.mark.parametrize("target", ["os.getppid()", "-1"], ids=["parent", "everyone"])
def test_sigkill_aimed_at_the_harness_leaves_it_judging(lone, target):
    judge(lone, f"import os\nos.kill({target}, 9)\nprint(1)\n", expected="1\n", limits=FAST)
    assert still_judges(lone)


def test_sigkill_aimed_at_the_harness_from_a_child_leaves_it_judging(lone):
    # A forked child is not the namespace's init: its kill(-1) reaches everything it can see.
    program = ("import os, time\n"
               "if os.fork() == 0:\n"
               "    for target in (os.getppid(), 1, -1):\n"
               "        try:\n            os.kill(target, 9)\n        except OSError:\n            pass\n"
               "    os._exit(0)\n"
               "os.wait()\nprint(1)\n")
    judge(lone, program, expected="1\n", limits=FAST)
    assert still_judges(lone)


# --- the interpreter itself crashes ------------------------------------------------------------

def test_segfault_through_ctypes_is_an_exception(lone):
    result = judge(lone, "import ctypes\nctypes.string_at(0)\n", limits=FAST)
    assert result.verdict is Verdict.EXCEPTION


def test_segfault_through_ctypes_leaves_the_harness_judging(lone):
    judge(lone, "import ctypes\nctypes.string_at(0)\n", limits=FAST)
    assert still_judges(lone)


def test_deep_python_recursion_with_raised_limit_is_an_exception(lone):
    # CPython needs ~2 s of CPU here to reach depth 10**6 and raise RecursionError (it prints
    # only the last 1000 frames): with 5 s the verdict must be EXCEPTION, not TIMEOUT.
    program = "import sys\nsys.setrecursionlimit(10**6)\ndef f(n):\n    return f(n + 1)\nf(0)\n"
    result = judge(lone, program, limits=Limits(time_s=5.0))
    assert result.verdict in (Verdict.EXCEPTION, Verdict.OUT_OF_MEMORY), result.detail


def test_deep_recursion_through_c_is_an_exception_not_a_hang(lone):
    # repr() recursion goes through C frames: plain CPython segfaults within 0.1 s (8 MiB stack).
    program = ("import sys\nsys.setrecursionlimit(10**6)\n"
               "class Loop:\n    def __repr__(self):\n        return repr(self)\n"
               "repr(Loop())\n")
    result = judge(lone, program, limits=Limits(time_s=2.0))
    assert result.verdict in (Verdict.EXCEPTION, Verdict.OUT_OF_MEMORY), result.detail


def test_deep_recursion_leaves_the_harness_judging(lone):
    program = "import sys\nsys.setrecursionlimit(10**6)\ndef f(n):\n    return f(n + 1)\nf(0)\n"
    judge(lone, program, limits=FAST)
    assert still_judges(lone)


# --- leaks over many executions ------------------------------------------------------------------

def _host_snapshot() -> dict:
    return {"fds": len(os.listdir("/proc/self/fd")),
            "processes": len(descendants(os.getpid())),
            "tmp": {p.name for p in Path("/tmp").iterdir() if p.name.startswith("rlef")}}


@pytest.fixture(scope="module")
def many_executions(executor):
    """2,000 trivial executions in a row (the issue asks for 10,000; same leak, 5x faster)."""
    jobs = [Job(ECHO, (Test(f"{i}\n", f"{i}\n"),), FAST) for i in range(2000)]
    executor.run_batch(jobs[:20])  # warm: every worker started and used once
    before = _host_snapshot()
    results = executor.run_batch(jobs)
    return before, _host_snapshot(), results


@pytest.mark.slow
def test_many_executions_all_pass(many_executions):
    _, _, results = many_executions
    assert sum(r.passed for r in results) == len(results)


@pytest.mark.slow
def test_many_executions_leak_no_descriptors(many_executions):
    before, after, _ = many_executions
    assert after["fds"] <= before["fds"]


@pytest.mark.slow
def test_many_executions_leak_no_processes(many_executions):
    before, after, _ = many_executions
    assert after["processes"] <= before["processes"]


@pytest.mark.slow
def test_many_executions_leave_no_temp_files(many_executions):
    before, after, _ = many_executions
    assert after["tmp"] - before["tmp"] == set()

