"""classify(): raw facts -> CodeContests verdict, in the documented order. No processes."""
import signal

import pytest

from rlef.data.problem import Test
from rlef.execution.types import Limits, Verdict
from rlef.execution.verdict import RawRun, classify

LIMITS = Limits(time_s=2.0, output_bytes=1000)
TEST = Test("1 2\n", "3\n")


def raw(**overrides) -> RawRun:
    fields = dict(exit_code=0, signal=None, harness_killed=False, cpu_s=0.01, wall_s=0.01,
                  stdout=b"3\n", stdout_size=2, stderr_tail=b"", stderr_size=0)
    fields.update(overrides)
    return RawRun(**fields)


def test_matching_output_passes():
    assert classify(raw(), TEST, LIMITS).verdict is Verdict.PASSED


def test_different_output_is_wrong_output_and_keeps_both_sides():
    result = classify(raw(stdout=b"4\n"), TEST, LIMITS)
    assert result.verdict is Verdict.WRONG_OUTPUT
    assert (result.expected, result.observed) == ("3\n", "4\n")


def test_harness_kill_is_timeout_even_with_correct_output():
    assert classify(raw(harness_killed=True, cpu_s=2.1), TEST, LIMITS).verdict is Verdict.TIMEOUT


def test_cpu_time_over_limit_is_timeout_even_if_the_program_finished():
    assert classify(raw(cpu_s=2.5), TEST, LIMITS).verdict is Verdict.TIMEOUT


def test_rlimit_cpu_kill_is_timeout_not_exception():
    result = classify(raw(exit_code=None, signal=signal.SIGKILL, cpu_s=3.0), TEST, LIMITS)
    assert result.verdict is Verdict.TIMEOUT


def test_timeout_wins_over_output_limit():
    result = classify(raw(harness_killed=True, stdout_size=1000, exit_code=None, signal=9), TEST, LIMITS)
    assert result.verdict is Verdict.TIMEOUT


def test_cgroup_oom_kill_is_out_of_memory():
    result = classify(raw(exit_code=None, signal=signal.SIGKILL, oom_killed=True), TEST, LIMITS)
    assert result.verdict is Verdict.OUT_OF_MEMORY


def test_memory_error_traceback_is_out_of_memory():
    tb = b'Traceback (most recent call last):\n  File "main.py", line 1\nMemoryError\n'
    assert classify(raw(exit_code=1, stderr_tail=tb), TEST, LIMITS).verdict is Verdict.OUT_OF_MEMORY


def test_exit_137_without_oom_kill_is_an_exception():
    assert classify(raw(exit_code=137), TEST, LIMITS).verdict is Verdict.EXCEPTION


def test_output_at_cap_is_output_limit():
    result = classify(raw(stdout=b"x" * 1000, stdout_size=1000, exit_code=1), TEST, LIMITS)
    assert result.verdict is Verdict.OUTPUT_LIMIT


def test_stderr_at_cap_is_output_limit():
    assert classify(raw(stderr_size=1000, exit_code=1), TEST, LIMITS).verdict is Verdict.OUTPUT_LIMIT


def test_segfault_is_exception_named_after_the_signal():
    result = classify(raw(exit_code=None, signal=signal.SIGSEGV), TEST, LIMITS)
    assert result.verdict is Verdict.EXCEPTION
    assert "SIGSEGV" in result.stderr_tail


def test_nonzero_exit_is_exception_even_with_correct_output():
    assert classify(raw(exit_code=3), TEST, LIMITS).verdict is Verdict.EXCEPTION


def test_setup_failure_is_infra_error_never_a_verdict_on_the_program():
    result = classify(raw(setup_error="program setup failed"), TEST, LIMITS)
    assert result.verdict is Verdict.INFRA_ERROR


def test_undecodable_stdout_is_replaced_not_fatal():
    result = classify(raw(stdout=b"\xff3\n"), TEST, LIMITS)
    assert result.verdict is Verdict.WRONG_OUTPUT
    assert "\ufffd" in result.observed


@pytest.mark.parametrize("bad", [dict(time_s=0), dict(memory_bytes=1 << 20), dict(output_bytes=0),
                                 dict(wall_factor=0.5)])
def test_invalid_limits_are_rejected_with_a_message(bad):
    with pytest.raises(ValueError, match="wall_factor|invalid execution limits"):
        Limits(**bad)
