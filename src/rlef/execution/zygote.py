"""A warm Python interpreter that runs untrusted programs, one at a time, inside the sandbox.

This file is executed as a script *inside* the sandbox (see sandbox.py); it must stay
standard-library only and must not import rlef. Starting CPython costs ~12 ms here, so
instead of one interpreter per test we keep this one warm and fork it per execution:

    zygote: unprivileged, not dumpable; enters a user+PID namespace once, where it holds
      CAP_SYS_ADMIN, so that for every execution it can
      └─ unshare(CLONE_NEWPID) + fork program C, then setns() back for the next one.

C is PID 1 of a brand-new PID namespace: the kernel kills every process it left behind
(daemons, fork-bomb children) the moment it exits or is killed, and it cannot see or
signal the zygote or the harness. C drops every capability and sets no_new_privs before
the program runs. One fork per execution (~1 ms here) instead of a fork + exec (~12 ms).
stdin/stdout/stderr are memfds: a 50 MB input that is never read cannot deadlock a pipe,
and RLIMIT_FSIZE caps the output. Without namespaces (rlimits mode) C gets its own
session and process group instead, which a daemon can escape.

Protocol on fds 0/1, spoken with the executor (trusted): a line of key=value fields plus
raw bytes, each way. Request: code, stdin (byte counts), time, wall, memory, output, nproc.
Reply: exit, signal (-1 for none), killed (harness wall kill), cpu, wall, rss, out/err
(bytes that follow), outsize/errsize (bytes written), setup (1 = the program really started).
"""
# ruff: noqa: I001 -- the import groups below are ordered by purpose, not alphabetically
import atexit
import builtins
import ctypes
import gc
import io
import os
import resource
import select
import signal
import sys
import threading
import time
import linecache  # the traceback printer, warmed up below
import traceback

# Imported for the programs' sake: forked children find them already loaded.
import bisect  # noqa: F401
import collections  # noqa: F401
import functools  # noqa: F401
import heapq  # noqa: F401
import itertools  # noqa: F401
import math  # noqa: F401

CLONE_NEWUSER, CLONE_NEWPID = 0x10000000, 0x20000000
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
STDERR_TAIL = 8192
TRACEBACK_FRAMES = 100
SCRATCH = ["/tmp", "/dev/shm"]  # every place a program can write; emptied before each run
WORK = "/tmp/work"
LIBC = ctypes.CDLL(None, use_errno=True)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROGRAM_STDIO: tuple = ()  # see _prepare_program_stdio
OWN_PIDNS = -1  # fd of the zygote's own PID namespace, to return to after each unshare


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _drop_capabilities() -> None:
    """capset(2) with empty sets: the program keeps no capability even in its own namespace."""

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3
    _check(LIBC.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


def _enter_namespaces() -> None:
    """New user + PID namespace for the next child, mapping our uid to itself (unprivileged)."""
    uid, gid = os.getuid(), os.getgid()
    LIBC.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # /proc/self/*_map is writable only while dumpable
    try:
        _check(LIBC.unshare(CLONE_NEWUSER | CLONE_NEWPID), "unshare")
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    finally:
        LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _set_limits(req: dict) -> None:
    cpu = int(float(req["time"])) + 1  # whole seconds; the verdict uses the measured CPU time
    memory = int(req["memory"])
    limits = [(resource.RLIMIT_CPU, cpu), (resource.RLIMIT_AS, memory),
              (resource.RLIMIT_STACK, memory), (resource.RLIMIT_FSIZE, int(req["output"])),
              (resource.RLIMIT_NOFILE, 256), (resource.RLIMIT_CORE, 0)]
    if int(req["nproc"]):  # counted per user namespace; meaningless (the caller's uid) without one
        limits.append((resource.RLIMIT_NPROC, int(req["nproc"])))
    for lim, value in limits:
        resource.setrlimit(lim, (value, value))


def _stream(fd: int, mode: str, errors: str, line_buffering: bool = False) -> io.TextIOWrapper:
    raw = io.FileIO(fd, mode, closefd=False)
    buf = io.BufferedReader(raw) if mode == "r" else io.BufferedWriter(raw)
    return io.TextIOWrapper(buf, encoding="utf-8", errors=errors, line_buffering=line_buffering)


def _prepare_program_stdio() -> tuple:
    """The program's sys.std* as CPython's UTF-8 mode makes them (surrogateescape), built
    once on fds 0/1/2 and never used here: each child inherits pristine streams and only
    has to dup2 its memfds underneath them. Our own protocol moves to fds above 2."""
    requests, replies = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    program = (_stream(0, "r", "surrogateescape"), _stream(1, "w", "surrogateescape"),
               _stream(2, "w", "backslashreplace", line_buffering=True))
    return program, os.fdopen(requests, "rb"), os.fdopen(replies, "wb")


def _python_stdio() -> None:
    sys.stdin, sys.stdout, sys.stderr = sys.__stdin__, sys.__stdout__, sys.__stderr__ = PROGRAM_STDIO
    sys.argv = ["main.py"]


def _program_main(req: dict, code: str, fds: tuple, started_w: int, namespaces: bool) -> None:
    """Child C. Never returns. A setup failure exits before writing `started_w`: infra error."""
    try:
        os.setsid()
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(3, started_w)  # pipes, memfds, the namespace fd: nothing to forge a verdict with
        os.closerange(started_w + 1, 1 << 16)
        _set_limits(req)
        if namespaces:
            _drop_capabilities()
        _check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        os.chdir(WORK)
        os.umask(0o077)
        _python_stdio()
        os.write(started_w, b"1")
        os.close(started_w)
    except BaseException:
        os._exit(70)
    os._exit(_run_source(code))


def _run_source(code: str) -> int:
    """Run the program as `python main.py` would, returning its exit status."""
    status = 0
    try:
        exec(compile(code, "main.py", "exec"), {"__name__": "__main__", "__builtins__": builtins,
                                                "__file__": "main.py"})
    except SystemExit as e:
        status = _exit_status(e)
    except BaseException as e:  # noqa: BLE001 - the program's own exception
        _print_traceback(e, code)
        status = 1
    try:  # interpreter shutdown: non-daemon threads are joined, then atexit handlers run
        threading._shutdown()
        atexit._run_exitfuncs()
    except BaseException as e:  # noqa: BLE001
        _print_traceback(e, code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - CPython exits 120 when the final flush fails
            status = status or 120
    return status


def _print_traceback(e: BaseException, code: str) -> None:
    """As CPython prints it, with main.py's source lines and none of the zygote's frames."""



    linecache.cache["main.py"] = (len(code), None, code.splitlines(True), "main.py")
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != "main.py":
        tb = tb.tb_next
    # Only the innermost frames, as CPython's own printer does: the traceback module walks
    # (and locates) every frame it is given, minutes for a 10^6-deep recursion.
    frames, last = 0, tb
    while last is not None:
        frames, last = frames + 1, last.tb_next
    for _ in range(max(0, frames - TRACEBACK_FRAMES)):
        tb = tb.tb_next
    traceback.print_exception(type(e), e, tb)


def _exit_status(e: SystemExit) -> int:
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code & 0xFF
    try:
        print(e.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001
        pass
    return 1


def _cpu_seconds(pidfd: int) -> float:
    """CPU time of the process behind pidfd (and its reaped children), read from /proc.
    The pid is looked up through the pidfd because our PID namespace is not /proc's."""
    with open(f"/proc/self/fdinfo/{pidfd}") as f:
        pid = next(line.split()[1] for line in f if line.startswith("Pid:"))
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return sum(int(x) for x in fields[11:15]) / CLOCK_TICKS  # utime stime cutime cstime


def _wait(pid: int, time_s: float, wall_s: float) -> tuple:
    """Wait for C; SIGKILL it (and so its whole PID namespace) once its CPU time reaches
    time_s or its wall time wall_s. Checked only when it outlives its CPU budget in wall
    time, so a fast program costs one poll(). RLIMIT_CPU remains as a backstop."""
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    start, killed, budget = time.monotonic(), False, min(time_s, wall_s)
    while not poller.poll(max(1, int(budget * 1000))):
        elapsed = time.monotonic() - start
        try:
            cpu = _cpu_seconds(pidfd)
        except (OSError, StopIteration, ValueError):
            cpu = 0.0  # exiting right now: the next poll() returns
        if elapsed >= wall_s or cpu >= time_s:
            os.kill(pid, signal.SIGKILL)
            killed = True
            break
        budget = min(wall_s - elapsed, max(time_s - cpu, 0.01))
    _, status, usage = os.wait4(pid, 0)
    os.close(pidfd)
    return status, usage, killed


def _memfd(name: str, data: bytes = b"") -> int:
    fd = os.memfd_create(name, 0)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _spawn(req: dict, code: bytes, fds: tuple, started_w: int, namespaces: bool) -> int:
    if namespaces:
        _check(LIBC.unshare(CLONE_NEWPID), "unshare(CLONE_NEWPID)")
    pid = os.fork()
    if pid == 0:
        _program_main(req, code.decode("utf-8", "replace"), fds, started_w, namespaces)
    if namespaces:  # the next fork must not land in this program's namespace
        _check(LIBC.setns(OWN_PIDNS, CLONE_NEWPID), "setns")
    return pid


def execute(req: dict, code: bytes, stdin: bytes, namespaces: bool) -> tuple:
    fds = (_memfd("stdin", stdin), _memfd("stdout"), _memfd("stderr"))
    started_r, started_w = os.pipe()
    _fresh_scratch()
    start = time.monotonic()
    pid = _spawn(req, code, fds, started_w, namespaces)
    os.close(started_w)
    status, usage, killed = _wait(pid, float(req["time"]), float(req["wall"]))
    wall = time.monotonic() - start
    if not namespaces:  # best effort without a PID namespace: its process group
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    started = os.read(started_r, 1) == b"1"
    os.close(started_r)
    out_size, err_size = os.fstat(fds[1]).st_size, os.fstat(fds[2]).st_size
    out = os.pread(fds[1], min(out_size, int(req["output"])), 0)
    tail = min(err_size, STDERR_TAIL)
    err = os.pread(fds[2], tail, err_size - tail) if tail else b""
    for fd in fds:
        os.close(fd)
    reply = {"exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1,
             "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else -1,
             "killed": int(killed), "cpu": usage.ru_utime + usage.ru_stime, "wall": wall,
             "rss": usage.ru_maxrss, "out": len(out), "outsize": out_size, "err": len(err),
             "errsize": err_size, "setup": int(started)}
    return reply, out, err


def _fresh_scratch() -> None:
    """Empty every writable place, then create the program's working directory."""
    for top in SCRATCH:
        _empty(top)
    os.chdir("/")
    os.mkdir(WORK, 0o700)


def _empty(top: str) -> None:
    """Delete everything below `top`: iteratively and by relative paths, so neither a
    10,000-deep directory chain nor a path longer than PATH_MAX can break the cleanup,
    and chmod-ing first, so files a program made unreadable go too (they are ours)."""
    os.chdir(top)
    descended: list[str] = []
    while True:
        subdir = None
        with os.scandir(".") as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    subdir = entry.name
                    break
                os.unlink(entry.name)
        if subdir is not None:
            os.chmod(subdir, 0o700)
            os.chdir(subdir)
            descended.append(subdir)
        elif descended:
            os.chdir("..")
            os.rmdir(descended.pop())
        else:
            return


def _isolate_self() -> bool:
    """Enter our own user+PID namespace (we become its PID 1, holding CAP_SYS_ADMIN there)."""
    global OWN_PIDNS
    try:
        _enter_namespaces()
    except OSError:
        return False
    pid = os.fork()
    if pid:  # the parent stays outside only to pass on the server's exit status
        os._exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) & 0xFF)
    OWN_PIDNS = os.open("/proc/self/ns/pid", os.O_RDONLY)
    return True


def _warm_up() -> None:
    """The first compile() and the first text stream in a process cost ~2 ms (lazy init,
    then copy-on-write in every child). Pay that once here, before forking anything."""
    fd = os.memfd_create("warm-up", 0)
    out = io.TextIOWrapper(io.BufferedWriter(io.FileIO(fd, "w", closefd=False)), encoding="utf-8",
                           errors="surrogateescape")
    source = "n, *xs = map(int, '3 1 2 3'.split())\nprint(n, sum(xs), max(xs), file=out)\nn // 0\n"
    linecache.cache["warm-up"] = (len(source), None, source.splitlines(True), "warm-up")
    try:
        exec(compile(source, "warm-up", "exec"), {"out": out})
    except ZeroDivisionError as e:  # and the traceback printer, which every crash uses
        traceback.print_exception(type(e), e, e.__traceback__, file=out)
    out.flush()
    os.close(fd)


def _drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def _read_exact(stream, n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise EOFError("executor closed the pipe mid-request")
    return data


def _fields(line: bytes) -> dict:
    return dict(item.split("=", 1) for item in line.decode().split())


def _format(fields: dict) -> bytes:
    return " ".join(f"{k}={v}" for k, v in fields.items()).encode() + b"\n"


def main() -> None:
    global WORK
    config = _fields(sys.argv[1].encode())
    SCRATCH[:] = config["scratch"].split(",")
    WORK = config["work"]
    if config.get("uid", "-") != "-":
        _drop_privileges(int(config["uid"]))
    LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # programs may share our uid: no ptrace, no /proc/pid/mem
    os.environ.clear()
    namespaces = config.get("namespaces") == "1" and _isolate_self()
    global PROGRAM_STDIO
    PROGRAM_STDIO, requests, replies = _prepare_program_stdio()
    replies.write(_format({"ready": 1, "namespaces": int(namespaces), "uid": os.getuid()}))
    replies.flush()
    _warm_up()
    gc.freeze()  # keep the warm heap shared copy-on-write with every fork
    while header := requests.readline():
        req = _fields(header)
        code = _read_exact(requests, int(req["code"]))
        stdin = _read_exact(requests, int(req["stdin"]))
        reply, out, err = execute(req, code, stdin, namespaces)
        replies.write(_format(reply) + out + err)
        replies.flush()


if __name__ == "__main__":
    main()
