"""Per-worker cgroups (memory, pids) where this host lets us create them.

Each sandboxed worker runs one program at a time, so a cgroup per worker is a cgroup per
execution. rlimits already bound each process's address space; the cgroup adds what they
cannot: memory summed over a fork bomb's children and tmpfs pages, a process-count cap, and
an OOM-kill counter so a program killed by the kernel for memory is reported as
OUT_OF_MEMORY rather than as a crash. Swap is shut off for the group: on a host with swap, a
group over its memory limit is swapped out instead of OOM-killed, so a program could hold several
times its limit (and push the host into swap) and still be judged on its output. Supports
cgroup v1 (separate hierarchies) and a delegated cgroup v2 subtree; when neither is writable,
workers run without cgroups.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

V1 = Path("/sys/fs/cgroup")
OVERHEAD_BYTES = 512 << 20  # zygote + supervisor + tmpfs scratch + captured output
PIDS_MAX = 128


class Cgroup:
    """One worker's memory+pids cgroup. `procs_files` are where the worker must write its pid."""

    def __init__(self, name: str):
        self.name = name
        self.v2 = _v2_parent()
        if self.v2 is not None:
            self.dirs = {"memory": self.v2 / name, "pids": self.v2 / name}
        else:
            self.dirs = {c: V1 / c / name for c in ("memory", "pids")}
        for path in set(self.dirs.values()):
            path.mkdir(exist_ok=True)
        self._write("pids", "pids.max", str(PIDS_MAX))
        if not self.v2:
            self._write("memory", "memory.swappiness", "0")  # v1: no anonymous page leaves RAM
        self.set_memory(1 << 30)

    @property
    def procs_files(self) -> list[str]:
        return sorted({str(d / "cgroup.procs") for d in self.dirs.values()})

    def _write(self, controller: str, name: str, value: str) -> None:
        (self.dirs[controller] / name).write_text(value)

    def set_memory(self, program_bytes: int) -> None:
        """Memory limit = the program's bytes + OVERHEAD_BYTES, with no swap on top of it."""
        limit = str(program_bytes + OVERHEAD_BYTES)
        if self.v2:
            self._write("memory", "memory.max", limit)
            self._write_if_present("memory.swap.max", "0")  # absent without swap accounting
            return
        # v1 keeps memsw (memory + swap) >= memory at every write: lift memsw, set memory, lower memsw.
        self._write_if_present("memory.memsw.limit_in_bytes", "-1")
        self._write("memory", "memory.limit_in_bytes", limit)
        self._write_if_present("memory.memsw.limit_in_bytes", limit)

    def _write_if_present(self, name: str, value: str) -> None:
        if (self.dirs["memory"] / name).exists():
            self._write("memory", name, value)

    def oom_kills(self) -> int:
        """How many processes the kernel has OOM-killed in this cgroup so far."""
        name = "memory.events" if self.v2 else "memory.oom_control"
        for line in (self.dirs["memory"] / name).read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def remove(self) -> None:
        """Kill whatever is left in the group, then delete it."""
        for path in set(self.dirs.values()):
            _kill_and_remove(path)


def _kill_and_remove(path: Path) -> None:
    if not path.exists():
        return
    for _ in range(50):
        pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)
    try:
        path.rmdir()
    except OSError:
        pass


def _v2_parent() -> Path | None:
    """A cgroup v2 directory we may create children in with memory and pids enabled."""
    unified = Path("/sys/fs/cgroup")
    controllers = unified / "cgroup.controllers"
    if not controllers.exists():
        return None
    mine = Path("/proc/self/cgroup").read_text().strip().splitlines()[-1].split(":", 2)[2]
    parent = unified / mine.lstrip("/")
    enabled = (parent / "cgroup.subtree_control")
    try:
        if not {"memory", "pids"} <= set(enabled.read_text().split()):
            return None
    except OSError:
        return None
    return parent if os.access(parent, os.W_OK) else None


def remove_stale() -> int:
    """Remove groups left by executors whose process died without closing (kill -9)."""
    v2 = _v2_parent()
    removed = 0
    for parent in [v2] if v2 is not None else [V1 / "memory", V1 / "pids"]:
        for path in parent.glob("rlef-*-*"):
            owner = path.name.split("-")[1]
            if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                _kill_and_remove(path)
                removed += 1
    return removed


def available() -> bool:
    """Can we create and limit per-worker cgroups here? (Also clears stale groups.)"""
    probe_name = f"rlef-probe-{os.getpid()}"
    try:
        group = Cgroup(probe_name)
    except OSError:
        return False
    group.remove()
    remove_stale()
    return True
