"""One long-lived sandboxed zygote and the pipe protocol to it.

The trainer never forks per program: it starts a few of these once, and each zygote forks
per execution inside its sandbox. A worker that dies, hangs or speaks nonsense raises
WorkerError; the executor replaces it and reports INFRA_ERROR, never a model failure.
"""
from __future__ import annotations

import logging
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from rlef.execution import sandbox
from rlef.execution.cgroups import Cgroup
from rlef.execution.types import Limits
from rlef.execution.verdict import RawRun

log = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 30.0
REPLY_GRACE_S = 30.0  # beyond the wall limit, for forking, cleanup and output transfer
MAX_HEADER = 1 << 16
PROGRAM_NPROC = 64  # processes per program (counted inside its own user namespace)
TREE_EXIT_TIMEOUT_S = 5.0  # close(): how long the orphaned sandbox processes may take to exit


class WorkerError(RuntimeError):
    """The harness failed; the program's verdict is unknown."""


def _fields(line: bytes) -> dict[str, str]:
    """Parse the zygote's `key=value key=value` line."""
    try:
        return dict(item.split("=", 1) for item in line.decode().split())
    except (UnicodeDecodeError, ValueError) as e:
        raise WorkerError(f"malformed worker line {line[:200]!r}") from e


class Worker:
    def __init__(self, mode: str, cgroup: Cgroup | None = None):
        self.mode, self.cgroup = mode, cgroup
        self._scratch = tempfile.mkdtemp(prefix="rlef-exec-") if mode == "rlimits" else None
        argv = sandbox.worker_command(mode, self._scratch)
        if cgroup is not None:  # join the cgroup before exec, so nothing runs outside it
            join = 'for f in $RLEF_PROCS; do echo $$ > "$f"; done; exec "$@"'
            argv = ["/bin/sh", "-c", join, "sh", *argv]
        env = {"RLEF_PROCS": " ".join(cgroup.procs_files)} if cgroup else {}
        # env={}: the program must not see a single variable of ours (bwrap --clearenv as well).
        self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, env=env, start_new_session=True)
        self._buf = b""
        try:
            ready = _fields(self._read_line(time.monotonic() + STARTUP_TIMEOUT_S))
        except WorkerError:
            self.close()  # never leave a half-started sandbox behind
            raise
        self.namespaces = ready.get("namespaces") == "1"

    def run(self, program: str, stdin: str, limits: Limits) -> RawRun:
        code, data = program.encode("utf-8", "surrogateescape"), stdin.encode("utf-8", "surrogateescape")
        header = {"code": len(code), "stdin": len(data), "time": limits.time_s,
                  "wall": limits.wall_s, "memory": limits.memory_bytes,
                  "output": limits.output_bytes, "nproc": PROGRAM_NPROC if self.namespaces else 0}
        request = " ".join(f"{k}={v}" for k, v in header.items()).encode() + b"\n"
        oom_before = self.cgroup.oom_kills() if self.cgroup else 0
        if self.cgroup:
            self.cgroup.set_memory(limits.memory_bytes)
        try:
            self._proc.stdin.write(request + code + data)
            self._proc.stdin.flush()
        except OSError as e:
            raise WorkerError(f"worker pipe broken: {e}") from e
        deadline = time.monotonic() + limits.wall_s + REPLY_GRACE_S
        reply = _fields(self._read_line(deadline))
        n_out, n_err = int(reply["out"]), int(reply["err"])
        if n_out > limits.output_bytes or n_err > 1 << 16:
            raise WorkerError(f"worker reply too large: {reply}")
        out, err = self._read_exact(n_out, deadline), self._read_exact(n_err, deadline)
        oom = bool(self.cgroup) and self.cgroup.oom_kills() > oom_before
        exit_code, sig = int(reply["exit"]), int(reply["signal"])
        return RawRun(exit_code=None if exit_code < 0 else exit_code, signal=None if sig < 0 else sig,
                      harness_killed=reply["killed"] == "1", cpu_s=float(reply["cpu"]),
                      wall_s=float(reply["wall"]), stdout=out, stdout_size=int(reply["outsize"]),
                      stderr_tail=err, stderr_size=int(reply["errsize"]),
                      setup_error=None if reply["setup"] == "1" else "program setup failed in the sandbox",
                      oom_killed=oom)

    def _fill(self, deadline: float) -> None:
        fd = self._proc.stdout.fileno()
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise WorkerError("worker did not answer in time")
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            raise WorkerError(f"worker exited (status {self._proc.poll()})")
        self._buf += chunk

    def _read_line(self, deadline: float) -> bytes:
        while b"\n" not in self._buf:
            if len(self._buf) > MAX_HEADER:
                raise WorkerError("worker sent an oversized header")
            self._fill(deadline)
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def _read_exact(self, n: int, deadline: float) -> bytes:
        while len(self._buf) < n:
            self._fill(deadline)
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def close(self) -> None:
        tree = _process_tree(self._proc.pid)
        if self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, 9)
            except OSError:
                pass
        self._proc.wait()
        _wait_for_exit(tree[1:])  # [0] is the worker itself, reaped above
        for stream in (self._proc.stdin, self._proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)


def _proc_stat(pid: int | str) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "(comm)": state, ppid, ...
    return fields[0], int(fields[1])


def _process_tree(root: int) -> list[int]:
    """`root` and all its descendants, found through /proc (the sandbox puts some in new sessions)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _proc_stat(entry)):
            children.setdefault(stat[1], []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def _wait_for_exit(pids: list[int], timeout_s: float = TREE_EXIT_TIMEOUT_S) -> None:
    """The sandbox's inner processes (its PID-namespace init, the zygote, a running program) are
    orphaned when the worker dies and would exit a moment later; close() returns once they have."""
    deadline = time.monotonic() + timeout_s
    while live := [p for p in pids if (stat := _proc_stat(p)) and stat[0] != "Z"]:
        if time.monotonic() > deadline:
            log.warning("sandbox processes %s still alive %.0f s after SIGKILL", live, timeout_s)
            return
        for pid in live:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        time.sleep(0.01)
