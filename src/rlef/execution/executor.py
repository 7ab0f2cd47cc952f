"""Run programs on stdin/stdout tests: the public API of the execution layer.

    with Executor() as ex:
        result = ex.run(program, tests, Limits(time_s=2))
        results = ex.run_batch([Job(p, tests) for p in programs])

A pool of sandboxed warm workers (worker.py) is started once; jobs are split into units
(one test each, or a whole job when it stops at the first failure) and fed to idle workers
by threads, which only wait on pipes. A unit whose worker fails is retried once on a fresh
worker, then reported as INFRA_ERROR.
"""
from __future__ import annotations

import itertools
import logging
import os
import queue
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from rlef.data.problem import Test
from rlef.execution import cgroups, sandbox
from rlef.execution.types import ExecutionResult, Job, Limits, TestResult, Verdict
from rlef.execution.verdict import classify
from rlef.execution.worker import Worker, WorkerError

log = logging.getLogger(__name__)
_worker_ids = itertools.count(1)  # process-wide: two executors must never share a cgroup name


class Executor:
    def __init__(self, workers: int | None = None, isolation: str = "auto", use_cgroups: bool = True):
        self.n_workers = workers or len(os.sched_getaffinity(0)) or 1  # the cores this process may use (SLURM, taskset)
        if self.n_workers < 1:
            raise ValueError(f"execution.workers must be >= 1, got {workers}")
        self.mode = sandbox.choose_mode(isolation)
        self._use_cgroups = use_cgroups and cgroups.available()
        self._idle: queue.Queue[Worker] = queue.Queue()
        for _ in range(self.n_workers):
            self._idle.put(self._spawn())
        self._threads = ThreadPoolExecutor(self.n_workers, thread_name_prefix="rlef-exec")
        probe = self._idle.get()
        self.isolation = sandbox.Isolation(self.mode, probe.namespaces,
                                           ("memory", "pids") if self._use_cgroups else ())
        self._idle.put(probe)
        log.info("executor: %d workers, isolation %s", self.n_workers, self.isolation.describe())

    def _spawn(self) -> Worker:
        name = f"rlef-{os.getpid()}-{next(_worker_ids)}"
        group = cgroups.Cgroup(name) if self._use_cgroups else None
        try:
            return Worker(self.mode, group)
        except BaseException:
            if group:
                group.remove()
            raise

    def _retire(self, worker: Worker) -> None:
        worker.close()
        if worker.cgroup:
            worker.cgroup.remove()

    def _run_unit(self, program: str, tests: Sequence[Test], limits: Limits, stop: bool) -> list[TestResult]:
        results: list[TestResult] = []
        worker = self._idle.get()
        try:
            for test in tests:
                result, worker = self._run_one(worker, program, test, limits)
                results.append(result)
                if stop and not result.passed:
                    break
        finally:
            self._idle.put(worker)
        return results

    def _run_one(self, worker: Worker, program: str, test: Test, limits: Limits) -> tuple[TestResult, Worker]:
        error = ""
        for _attempt in range(2):
            try:
                return classify(worker.run(program, test.stdin, limits), test, limits), worker
            except (WorkerError, OSError, ValueError, KeyError) as e:
                error = f"{type(e).__name__}: {e}"
                log.warning("execution worker failed (%s); replacing it", error)
                self._retire(worker)
                worker = self._spawn()
        return TestResult(Verdict.INFRA_ERROR, stdin=test.stdin, expected=test.expected_stdout,
                          observed="", detail=error), worker

    def run(self, program: str, tests: Sequence[Test], limits: Limits | None = None,
            stop_on_failure: bool = False) -> ExecutionResult:
        return self.run_batch([Job(program, tuple(tests), limits or Limits(), stop_on_failure)])[0]

    def run_batch(self, jobs: Sequence[Job]) -> list[ExecutionResult]:
        """Run every job; results come back in order. Tests of a job run in parallel unless
        the job stops at its first failure (then they run in order on one worker)."""
        units = []  # (job index, future)
        for i, job in enumerate(jobs):
            groups = [job.tests] if job.stop_on_failure else [(t,) for t in job.tests]
            for group in groups:
                units.append((i, self._threads.submit(self._run_unit, job.program, group,
                                                      job.limits, job.stop_on_failure)))
        collected: list[list[TestResult]] = [[] for _ in jobs]
        for i, future in units:
            collected[i].extend(future.result())
        label = self.isolation.describe()
        return [ExecutionResult(tuple(r), isolation=label, skipped=len(job.tests) - len(r))
                for job, r in zip(jobs, collected)]

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        while not self._idle.empty():
            self._retire(self._idle.get())

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
