"""Hostile and merely odd programs, judged end to end through the sandbox: one property per
test. Output, exit status, time, memory and stdio abuse live here; processes in
test_hostile_processes.py; files, environment and network in test_hostile_filesystem.py."""
import pytest
from hostile_support import FAST, ROOMY, judge, named, new_marker, survivors

from rlef.data.problem import Test
from rlef.execution.types import Limits, Verdict

pytestmark = pytest.mark.sandbox


# --- the checker, through a real execution ---------------------------------------------

def test_crlf_and_trailing_spaces_pass(executor):
    program = "import sys\nsys.stdout.write('1 2  \\r\\n3 \\t\\r\\n')\n"
    assert judge(executor, program, expected="1 2\n3\n").verdict is Verdict.PASSED


def test_wrong_answer_is_wrong_output(executor):
    assert judge(executor, "print(41)", expected="42\n").verdict is Verdict.WRONG_OUTPUT


def test_float_within_tolerance_passes(executor):
    assert judge(executor, "print('0.3333333')", expected="0.333333333\n").verdict is Verdict.PASSED


def test_large_integer_off_by_one_is_wrong_output(executor):
    result = judge(executor, "print(10**18 + 1)", expected=f"{10**18}\n")
    assert result.verdict is Verdict.WRONG_OUTPUT


# --- exceptions and exit statuses --------------------------------------------------------

def test_zero_division_is_an_exception_with_its_traceback(executor):
    result = judge(executor, "print(1 // 0)", expected="0\n")
    assert result.verdict is Verdict.EXCEPTION
    assert "ZeroDivisionError" in result.stderr_tail


def test_reading_past_end_of_input_is_an_eof_error(executor):
    result = judge(executor, "a = input()\nb = input()\nprint(a, b)", expected="1 2\n", stdin="1\n")
    assert result.verdict is Verdict.EXCEPTION
    assert "EOFError" in result.stderr_tail


def test_sys_exit_zero_is_judged_on_the_output_printed_before_it(executor):
    program = "import sys\nprint(42)\nsys.exit(0)\nprint(43)\n"
    assert judge(executor, program, expected="42\n").verdict is Verdict.PASSED


@pytest.mark.parametrize("status", ["3", "'goodbye'", "137"], ids=["int", "message", "137"])
def test_non_zero_sys_exit_is_an_exception_even_137_which_is_not_oom(executor, status):
    # 137 = 128 + SIGKILL is what a shell reports for an OOM kill; only the cgroup may say OOM.
    result = judge(executor, f"import sys\nprint(42)\nsys.exit({status})\n", expected="42\n")
    assert result.verdict is Verdict.EXCEPTION


def test_closing_stdout_then_printing_is_an_exception(executor):
    result = judge(executor, "import os\nos.close(1)\nprint(42)\n", expected="42\n")
    assert result.verdict is Verdict.EXCEPTION


# --- time ----------------------------------------------------------------------------------

def test_busy_loop_is_a_timeout(executor):
    assert judge(executor, "while True:\n    pass\n", limits=FAST).verdict is Verdict.TIMEOUT


def test_sleeper_is_killed_at_the_wall_limit_and_leaves_nothing_running(executor):
    marker = new_marker()
    result = judge(executor, named(marker, "import time\ntime.sleep(1e6)\n"), limits=FAST)
    assert result.verdict is Verdict.TIMEOUT
    assert result.wall_time_s < FAST.wall_s + 1.0
    assert survivors(marker) == []


def test_non_daemon_thread_spinning_after_the_answer_is_a_timeout(executor):
    program = ("import threading\n"
               "def spin():\n    while True:\n        pass\n"
               "threading.Thread(target=spin).start()\nprint(42)\n")
    assert judge(executor, program, expected="42\n", limits=FAST).verdict is Verdict.TIMEOUT


def test_ignoring_sigterm_does_not_escape_the_timeout(executor):
    program = ("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
               "while True:\n    pass\n")
    assert judge(executor, program, limits=FAST).verdict is Verdict.TIMEOUT


# --- output and memory -------------------------------------------------------------------------

def test_infinite_printing_is_an_output_limit(executor):
    limits = Limits(time_s=2.0, output_bytes=1 << 20)
    result = judge(executor, "while True:\n    print('x' * 1000)\n", limits=limits)
    assert result.verdict is Verdict.OUTPUT_LIMIT


# Touching 1 GiB costs ~1-3 s of (mostly kernel) CPU on a loaded 2-core box: a generous time
# limit, so that a slow page-fault path is never mistaken for the verdict under test.
MEMORY_HOG = Limits(time_s=10.0)


def test_allocating_two_gib_at_once_is_out_of_memory(executor):
    result = judge(executor, "data = bytearray(2 << 30)\nprint(len(data))\n", limits=MEMORY_HOG)
    assert result.verdict is Verdict.OUT_OF_MEMORY


def test_a_list_growing_past_the_memory_limit_is_out_of_memory(executor):
    # Real pages (not calloc's lazy zeros): each chunk is written, so RSS grows with the list.
    program = ("chunks = []\nwhile len(chunks) < 2048:\n    chunks.append(b'x' * (1 << 20))\n"
               "print(len(chunks))\n")
    assert judge(executor, program, limits=MEMORY_HOG).verdict is Verdict.OUT_OF_MEMORY


def test_memory_summed_over_child_processes_is_out_of_memory(executor):
    # Each child stays under the per-process RLIMIT_AS (1 GiB); together they hold 2.1 GiB, for
    # 2 s each so that the three overlap however slowly they allocate. Only a cgroup sees the sum:
    # without one (rootless CI) this cannot be bounded; with swap allowed it passes.
    if "cgroup" not in executor.isolation.describe():
        pytest.skip("no memory cgroup on this host: per-process rlimits cannot bound a sum")
    program = ("import os, time\nkids = []\nfor _ in range(3):\n    pid = os.fork()\n"
               "    if pid == 0:\n        block = b'x' * (700 << 20)\n        time.sleep(2)\n"
               "        os._exit(0)\n    kids.append(pid)\n"
               "print([os.waitpid(k, 0)[1] for k in kids])\n")
    result = judge(executor, program, limits=MEMORY_HOG)
    assert result.verdict is Verdict.OUT_OF_MEMORY, (result.detail, result.observed)


# --- stdio abuse -------------------------------------------------------------------------------

def test_invalid_utf8_and_nul_bytes_on_stdout_are_captured_with_replacement(executor):
    result = judge(executor, "import sys\nsys.stdout.buffer.write(b'\\xff\\xfe\\x00ok')\n", expected="ok\n")
    assert (result.verdict, result.observed) == (Verdict.WRONG_OUTPUT, "\ufffd\ufffd\x00ok")


def test_fifty_megabytes_of_unread_stdin_do_not_deadlock(executor):
    result = judge(executor, "print(42)\n", expected="42\n", stdin="7 " * (25 << 20), limits=ROOMY)
    assert result.verdict is Verdict.PASSED


# A zygote reply (see zygote.py's protocol) claiming "42" was printed: if any harness pipe were
# reachable, writing this into it could turn the program's "41" into a pass.
FORGED_REPLY = b"exit=0 signal=-1 killed=0 cpu=0 wall=0 rss=0 out=3 outsize=3 err=0 errsize=0 setup=1\n42\n"


def test_verdict_like_text_written_to_stray_descriptors_cannot_forge_a_verdict(executor):
    program = (f"import os\nfor fd in range(3, 21):\n    try:\n        os.write(fd, {FORGED_REPLY!r})\n"
               "    except OSError:\n        pass\nprint(41)\n")
    result = judge(executor, program, expected="42\n")
    assert (result.verdict, result.observed) == (Verdict.WRONG_OUTPUT, "41\n")


def test_verdict_like_text_written_through_other_processes_proc_fds_cannot_forge_a_verdict(executor):
    # /proc shows the sandbox's own processes (bwrap's init, the zygote): their fds 0/1 are the
    # pipes to the executor. Only the program's own entry is skipped (it would clobber its stdout).
    program = ("import os\nme = os.readlink('/proc/self')\n"
               "for pid in [p for p in os.listdir('/proc') if p.isdigit() and p != me]:\n"
               "    try:\n        fds = os.listdir(f'/proc/{pid}/fd')\n"
               "    except OSError:\n        continue\n"
               "    for fd in fds:\n"
               "        try:\n"
               "            with open(f'/proc/{pid}/fd/{fd}', 'wb') as f:\n"
               f"                f.write({FORGED_REPLY!r})\n"
               "        except OSError:\n            pass\n"
               "print(41)\n")
    result = judge(executor, program, expected="42\n")
    assert (result.verdict, result.observed) == (Verdict.WRONG_OUTPUT, "41\n")


# --- reporting ---------------------------------------------------------------------------------

def test_result_names_the_isolation_actually_used(executor):
    label = executor.run("print(1)", [Test("", "1\n")], FAST).isolation
    assert "bwrap" in label and "pidns" in label
