"""How a worker (a warm zygote, see zygote.py) is started: the best isolation this host allows.

Modes, chosen automatically (`isolation="auto"`) and reported by `Isolation.describe()`:

* "bwrap": bubblewrap namespaces. No network (empty net namespace), private IPC/UTS/PID,
  read-only view of only the system libraries and the Python installation (not $HOME, not
  the repo, not the caller's files), private size-limited tmpfs /tmp and /dev/shm, new
  session (no terminal), empty environment, unprivileged uid (root callers run programs as
  `nobody`). Each program also gets its own user+PID namespace inside (zygote.py).
* "rlimits": no namespaces available. Programs run with rlimits, an empty environment, a
  private scratch directory and their own process group. They CAN read any file the
  caller can, reach the network, and leave daemons behind. A loud warning is logged once.

Cgroups (cgroups.py) add memory, pids and OOM accounting per worker when writable.

What this does NOT protect against: kernel exploits (namespaces share the host kernel),
CPU side channels, and, in "rlimits" mode, anything a process of your uid can do.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ZYGOTE = Path(__file__).with_name("zygote.py")
SANDBOX_ZYGOTE = "/opt/rlef/zygote.py"
NOBODY = 65534
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives")
TMP_BYTES, SHM_BYTES = 256 << 20, 64 << 20  # scratch space; charged to the worker's memory cgroup
_warned = False


@dataclass(frozen=True)
class Isolation:
    mode: str  # "bwrap" or "rlimits"
    namespaces: bool = False  # each program in its own user+PID namespace (set once a worker reports)
    cgroups: tuple[str, ...] = ()  # cgroup controllers limiting each worker

    def describe(self) -> str:
        parts = [self.mode]
        if self.namespaces:
            parts.append("pidns")
        if self.cgroups:
            parts.append("cgroup(" + ",".join(self.cgroups) + ")")
        return "+".join(parts)


def interpreter() -> str:
    """The real CPython binary (a venv's python is a symlink into the base installation)."""
    return os.path.realpath(sys.executable)


def bwrap_available() -> str | None:
    """Path of a bubblewrap that can actually create namespaces here, else None."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    probe = [path, *_isolation_flags(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
             "/bin/true"]
    try:
        ok = subprocess.run(probe, env={}, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return path if ok else None


def choose_mode(requested: str) -> str:
    if requested not in ("auto", "bwrap", "rlimits"):
        raise ValueError(f"execution.isolation must be auto, bwrap or rlimits, got {requested!r}")
    if requested == "rlimits":
        _warn_weak("requested explicitly")
        return "rlimits"
    if bwrap_available():
        return "bwrap"
    if requested == "bwrap":
        raise RuntimeError("execution.isolation=bwrap but bubblewrap is missing or cannot create "
                           "namespaces here (apt-get install bubblewrap; check user namespaces)")
    _warn_weak("bubblewrap is missing or cannot create namespaces")
    return "rlimits"


def _warn_weak(why: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        log.warning("!!! UNTRUSTED CODE RUNS WITH RLIMITS ONLY (%s): programs can read your files "
                    "and reach the network. Install bubblewrap for real isolation. !!!", why)


def _isolation_flags() -> list[str]:
    flags = ["--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net",
             "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--clearenv"]
    if os.geteuid() == 0:
        # Root: privileged bwrap; the zygote switches to `nobody` itself before any program runs.
        return flags + ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return flags + ["--unshare-user"]


def _filesystem_flags(python: str) -> list[str]:
    flags: list[str] = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            flags += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            flags += ["--ro-bind", path, path]
    for path in ETC_FILES:
        flags += ["--ro-bind-try", path, path]
    prefix = str(Path(python).parent.parent)  # <prefix>/bin/python3.X -> <prefix>
    if not prefix.startswith("/usr"):
        # Parents such as /root would otherwise be created 0700 and hide the stdlib from `nobody`.
        for parent in reversed(Path(prefix).parents[:-1]):
            flags += ["--perms", "0755", "--dir", str(parent)]
        flags += ["--ro-bind", prefix, prefix]
    return flags + [
        "--ro-bind", str(ZYGOTE), SANDBOX_ZYGOTE, "--proc", "/proc", "--dev", "/dev",
        "--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp",
        "--perms", "1777", "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm", "--chdir", "/tmp",
        # Without root, bwrap's root and /dev tmpfs belong to the sandbox user: make them
        # read-only so nothing but the scratch tmpfs (emptied before every run) is writable.
        "--remount-ro", "/dev", "--remount-ro", "/",
    ]


def worker_command(mode: str, scratch: str | None = None) -> list[str]:
    """The argv that starts one zygote. `scratch` is the private directory in rlimits mode."""
    python = interpreter()
    if mode == "bwrap":
        uid = NOBODY if os.geteuid() == 0 else "-"
        config = f"namespaces=1 uid={uid} scratch=/tmp,/dev/shm work=/tmp/work"
        return [shutil.which("bwrap") or "bwrap", *_isolation_flags(), *_filesystem_flags(python),
                python, "-I", "-S", "-B", SANDBOX_ZYGOTE, config]
    if scratch is None or "," in scratch or " " in scratch:
        raise ValueError(f"rlimits mode needs a private scratch directory, got {scratch!r}")
    config = f"namespaces=0 uid=- scratch={scratch} work={os.path.join(scratch, 'work')}"
    return [python, "-I", "-S", "-B", str(ZYGOTE), config]
