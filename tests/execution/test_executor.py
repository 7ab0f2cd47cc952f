"""The executor's API contract: ordering, early stopping, infra errors, fallback modes."""
import logging

import pytest

from rlef.data.problem import Test
from rlef.execution import sandbox
from rlef.execution.executor import Executor
from rlef.execution.types import Job, Limits, Verdict
from rlef.execution.worker import Worker, WorkerError, _proc_stat, _process_tree

ADD = "a, b = map(int, input().split())\nprint(a + b)\n"
TESTS = (Test("1 2\n", "3\n"), Test("2 2\n", "5\n"), Test("3 4\n", "7\n"))

pytestmark = pytest.mark.sandbox


def test_batch_results_come_back_in_job_order(executor):
    jobs = [Job(f"print({i})", (Test("", f"{i}\n"),)) for i in range(40)]
    results = executor.run_batch(jobs)
    assert [r.passed for r in results] == [True] * 40


def test_all_tests_run_by_default_so_feedback_can_list_every_failure(executor):
    result = executor.run(ADD, TESTS)
    assert [t.verdict for t in result.tests] == [Verdict.PASSED, Verdict.WRONG_OUTPUT, Verdict.PASSED]
    assert result.skipped == 0 and not result.passed


def test_stop_on_failure_skips_the_remaining_tests(executor):
    result = executor.run(ADD, TESTS, stop_on_failure=True)
    assert [t.verdict for t in result.tests] == [Verdict.PASSED, Verdict.WRONG_OUTPUT]
    assert result.skipped == 1 and not result.passed


def test_problem_limits_are_applied_per_job(executor):
    slow = "s = 0\nfor i in range(3 * 10**6):\n    s += i\nprint(s)\n"
    tight, loose = Limits(time_s=0.05), Limits(time_s=5.0)
    results = executor.run_batch([Job(slow, (Test("", "x"),), tight), Job(slow, (Test("", "x"),), loose)])
    assert results[0].tests[0].verdict is Verdict.TIMEOUT
    assert results[1].tests[0].verdict is Verdict.WRONG_OUTPUT


def test_result_reports_the_isolation_in_use(executor):
    label = executor.run("print(1)", [Test("", "1")]).isolation
    assert label.startswith("bwrap") and "pidns" in label


def test_a_broken_worker_gives_infra_error_never_a_model_verdict(executor, monkeypatch):
    def broken(self, *args, **kwargs):
        raise WorkerError("simulated worker crash")

    monkeypatch.setattr(Worker, "run", broken)
    result = executor.run("print(1)", [Test("", "1")])
    assert result.tests[0].verdict is Verdict.INFRA_ERROR
    assert result.infra_error and not result.passed and result.failures == ()


def test_a_worker_killed_mid_run_is_replaced_and_the_test_retried():
    with Executor(workers=1, isolation="bwrap") as ex:
        worker = ex._idle.queue[0]
        worker._proc.kill()
        result = ex.run("print(7)", [Test("", "7")])
        assert result.passed
        assert ex.run("print(8)", [Test("", "8")]).passed


def test_rlimits_mode_still_judges_and_warns_loudly(caplog):
    sandbox._warned = False
    with caplog.at_level(logging.WARNING), Executor(workers=1, isolation="rlimits") as ex:
        result = ex.run(ADD, TESTS[:1])
    assert result.passed and result.isolation.startswith("rlimits")
    assert "RLIMITS ONLY" in caplog.text


def test_unknown_isolation_is_a_clear_config_error():
    with pytest.raises(ValueError, match="isolation must be"):
        Executor(workers=1, isolation="docker")


@pytest.mark.parametrize("use_cgroups", [False, True])
def test_close_returns_only_after_every_sandbox_process_has_exited(use_cgroups):
    ex = Executor(workers=2, isolation="auto", use_cgroups=use_cgroups)
    assert ex.run(ADD, TESTS[:1]).passed
    inner = [pid for w in ex._idle.queue for pid in _process_tree(w._proc.pid)]
    assert len(inner) > 2  # each worker has processes of its own inside the sandbox
    ex.close()
    alive = [p for p in inner if (stat := _proc_stat(p)) and stat[0] != "Z"]
    assert alive == []
