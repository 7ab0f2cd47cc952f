"""Helpers shared by the test_hostile*.py files: judge one program, and look at the host
from outside the sandbox (its processes, its files) to check that nothing leaked."""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from rlef.data.problem import Test
from rlef.execution.types import Limits, TestResult

FAST = Limits(time_s=1.0)  # wall kill at 3 * 1 + 1 = 4 s: keeps the timeout tests short
ROOMY = Limits(time_s=3.0)  # for programs that do real work (allocate, fill a disk, start pip)


def judge(executor, program: str, expected: str = "", stdin: str = "", limits: Limits = ROOMY) -> TestResult:
    """Run `program` on a single test and return its TestResult."""
    result = executor.run(program, [Test(stdin, expected)], limits)
    assert len(result.tests) == 1
    return result.tests[0]


def new_marker() -> str:
    """A name unique to one test, at most 15 characters (the kernel's limit for comm)."""
    return "rlef" + uuid.uuid4().hex[:11]


def named(marker: str, body: str) -> str:
    """`body`, preceded by renaming the process to `marker` (prctl PR_SET_NAME): every process
    it forks inherits the name, so the host can find survivors by scanning /proc."""
    return f"import ctypes\nctypes.CDLL(None).prctl(15, {marker.encode()!r}, 0, 0, 0)\n{body}"


def marked_processes(marker: str) -> list[str]:
    """Host processes whose name, command line or environment contains `marker`."""
    needle, found = marker.encode(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        for name in ("comm", "cmdline", "environ"):
            try:
                data = Path(f"/proc/{entry}/{name}").read_bytes()
            except OSError:
                continue
            if needle in data:
                found.append(f"pid {entry} ({name}: {data[:80]!r})")
                break
    return found


def survivors(marker: str, grace_s: float = 1.0) -> list[str]:
    """Marked processes still alive `grace_s` after the verdict (polling: teardown is async)."""
    deadline = time.monotonic() + grace_s
    while (found := marked_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def descendants(root: int) -> set[int]:
    """Every process below `root` in the host's process tree (read from /proc/*/stat)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, stack = set(), [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            found.add(child)
            stack.append(child)
    return found
