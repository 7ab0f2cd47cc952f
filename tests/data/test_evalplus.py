"""HumanEval+ and MBPP+ from EvalPlus release files: small files in the real schema, written here."""
import gzip
import json
import logging
import math
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from rlef.data import load_problems
from rlef.data.evalplus import load_evalplus, problem_from_row, python_literal, rlef_evalplus_match
from rlef.errors import BadInput
from rlef.execution.types import ExecutionResult, Job, Limits, TestResult, Verdict
from rlef.feedback import FEEDBACK_FOOTER, first_prompt, turn_feedback

CONF = str(Path(__file__).resolve().parents[2] / "conf")

ADD = {"task_id": "HumanEval/53", "entry_point": "add", "atol": 0, "contract": "",
       "prompt": 'def add(x: int, y: int):\n    """Add two numbers x and y\n    >>> add(2, 3)\n    5\n    """\n',
       "canonical_solution": "    return x + y\n", "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n",
       "base_input": [[0, 1], [1, 0], [2, 3]], "plus_input": [[n, -n * n] for n in range(30)]}
TRUNCATE = {"task_id": "HumanEval/2", "entry_point": "truncate_number", "atol": 1e-6, "contract": "",
            "prompt": 'def truncate_number(number: float) -> float:\n    """Decimal part.\n    """\n',
            "canonical_solution": "    return number % 1.0\n", "test": "",
            "base_input": [[3.5], [1.33]], "plus_input": [[123.456], [1e-3]]}
SIMILAR = {"task_id": "Mbpp/2", "entry_point": "similar_elements", "atol": 0,
           "prompt": '"""\nWrite a function to find the shared elements from the given two lists.\n'
                     'assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))\n"""',
           "canonical_solution": "\ndef similar_elements(a, b):\n  return tuple(set(a) & set(b))\n",
           "test": ["assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))"],
           "base_input": [[[3, 4, 5, 6], [5, 7, 4, 10]], [[1, 2, 3, 4], [5, 4, 3, 7]]], "plus_input": [[[], [1]]]}
CIRCLE = {"task_id": "Mbpp/139", "entry_point": "circle_circumference", "atol": 0.001,
          "prompt": '"""\nWrite a function to find the circumference of a circle.\n"""\n',
          "canonical_solution": "\nimport math\ndef circle_circumference(r):\n  return 2 * math.pi * r\n",
          "test": [], "base_input": [[10], [5]], "plus_input": [[0.5], [1e6]]}


@pytest.fixture
def humaneval_plus(tmp_path):
    malformed = {**ADD, "task_id": "HumanEval/9", "base_input": "[[1, 2]]"}
    path = tmp_path / "HumanEvalPlus.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(row) + "\n" for row in (ADD, TRUNCATE, malformed))
    return path


@pytest.fixture
def mbpp_plus(tmp_path):
    path = tmp_path / "MbppPlus.jsonl"
    path.write_text(json.dumps(SIMILAR) + "\n{not json\n" + json.dumps(CIRCLE) + "\n")
    return path


def load(name, path, split="test"):
    return load_problems(OmegaConf.create({"name": name, "path": str(path) if path else None}), split)


def test_base_inputs_are_public_and_every_input_is_private(humaneval_plus):
    add, truncate = load("humaneval_plus", humaneval_plus)
    assert (add.id, add.source, add.style, add.split) == ("HumanEval/53", "humaneval_plus", "function", "test")
    assert [t.display for t in add.public_tests] == ["add(0, 1)", "add(1, 0)", "add(2, 3)"]
    assert [t.display for t in add.private_tests] == ["inputs 1-25 of 33", "inputs 26-33 of 33"]
    assert add.description == ADD["prompt"] and add.reference_solution == ADD["prompt"] + ADD["canonical_solution"]
    assert ADD["prompt"] in first_prompt(add)
    assert "1e-06" in truncate.public_tests[0].call  # the row's atol reaches the comparison


def test_public_tests_are_capped_and_the_rest_stay_private():
    problem = problem_from_row({**ADD, "base_input": [[i, i] for i in range(12)], "plus_input": []}, "humaneval_plus")
    assert len(problem.public_tests) == 10
    assert [t.display for t in problem.private_tests] == ["inputs 1-12 of 12"]


def test_mbpp_inputs_get_back_the_types_evalplus_gives_them(mbpp_plus):
    similar, circle = load("mbpp_plus", mbpp_plus)
    assert similar.public_tests[0].display == "similar_elements((3, 4, 5, 6), (5, 7, 4, 10))"
    assert similar.description.endswith('"""\n')  # the first turn's code fence closes on its own line
    assert circle.public_tests[0].display == "circle_circumference(10)"


def test_malformed_rows_are_skipped_with_one_line_naming_file_line_and_field(humaneval_plus, mbpp_plus, caplog):
    with caplog.at_level(logging.WARNING):
        problems, report = load_evalplus("humaneval_plus", humaneval_plus)
        mbpp, mbpp_report = load_evalplus("mbpp_plus", mbpp_plus)
    assert (report.rows, report.kept, len(problems), len(mbpp)) == (3, 2, 2, 2)
    assert report.malformed == [f"{humaneval_plus}:3: HumanEval/9: 'base_input' must be a list of argument lists"]
    assert mbpp_report.malformed == [f"{mbpp_plus}:2: not JSON (Expecting property name enclosed in double quotes)"]
    skipped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("skipped")]
    assert skipped == [f"skipped {report.malformed[0]}", f"skipped {mbpp_report.malformed[0]}"]


@pytest.mark.parametrize("group", ["humaneval_plus", "mbpp_plus"])
def test_the_config_without_a_path_is_one_clear_error_line(group):
    with initialize_config_dir(CONF, version_base="1.3"):
        cfg = compose("config", overrides=[f"data={group}"])
    assert (cfg.data.name, cfg.data.path) == (group, None)
    with pytest.raises(BadInput) as error:
        load_problems(cfg.data, "test")
    assert str(error.value).startswith(f"data.path is required for data={group}") and "\n" not in str(error.value)


def test_unusable_files_and_splits_are_one_error_line_each(tmp_path, humaneval_plus):
    with pytest.raises(BadInput, match="only a test split"):
        load("humaneval_plus", humaneval_plus, "train")
    with pytest.raises(BadInput, match="does not exist"):
        load("mbpp_plus", tmp_path / "nope.jsonl")
    only_bad = tmp_path / "bad.jsonl"
    only_bad.write_text(json.dumps({**CIRCLE, "atol": "small"}) + "\n")
    with pytest.raises(BadInput, match=r"no usable test problem in 1 rows \(.*bad.jsonl:1: Mbpp/139: 'atol' must"):
        load("mbpp_plus", only_bad)


@pytest.mark.parametrize(("got", "want", "args", "atol", "oracle", "verdict"), [
    (3, 3, (1, 2), 0, "", True),
    (4, 3, (1, 2), 0, "", False),
    (0.5 + 1e-9, 0.5, (), 0, "", True),  # atol 0 becomes 1e-6 for floats, as in EvalPlus
    (0.5 + 1e-3, 0.5, (), 0, "", False),
    (62.8315, 62.83185, (), 1e-3, "", True),
    (62.8, 62.83185, (), 1e-3, "", False),
    ([1.0, 2.0], (1.0, 2.0), (), 1e-3, "", False),  # the type must match before a tolerance applies
    ([1.0], [1.0, 2.0], (), 1e-3, "", False),
    (math.nan, math.nan, (), 1e-6, "", False),
    ((5, 4), (4, 5), (), 0, "set_eq", True),
    ((5, 4), (4, 5), (), 0, "", False),
    (1.0, 0.0, ([-1, 1],), 1e-4, "find_zero", True),  # a root of x - 1, whatever the reference found
    (2.0, 1.0, ([-1, 1],), 1e-4, "find_zero", False),
    ("a match", "another match", (), 0, "not_none", True),
    (None, "a match", (), 0, "not_none", False),
    (0, 7, (), 0, "or_zero", True),
])
def test_comparison_follows_evalplus_rules(got, want, args, atol, oracle, verdict):
    assert rlef_evalplus_match(got, want, args, atol, oracle) is verdict


def test_a_comparison_that_raises_is_a_mismatch():
    class Hostile:
        def __eq__(self, other):
            raise RuntimeError("no")

    assert rlef_evalplus_match(Hostile(), 1, (), 0, "") is False


@pytest.mark.parametrize("value", [(1, "a'\n", None, True), [1.5, -0.0, math.inf, -math.inf], {1, 2}, set(),
                                   frozenset({3}), {"k": (1,)}, complex(1, -2), ()])
def test_inputs_are_written_as_python_source_that_reads_back_equal(value):
    back = eval(python_literal(value))
    assert back == value and type(back) is type(value)


def test_feedback_is_humaneval_format(humaneval_plus):
    add = load("humaneval_plus", humaneval_plus)[0]
    result = ExecutionResult((TestResult(Verdict.PASSED, "", "OK\n", "OK\n"),
                              TestResult(Verdict.WRONG_OUTPUT, "", "OK\n", "1\n"),
                              TestResult(Verdict.PASSED, "", "OK\n", "OK\n")))
    assert turn_feedback(add, result) == ("Your code failed some test cases:\n- Success: add(0, 1)\n"
                                          "- Failure: add(1, 0) (got `1`)\n- Success: add(2, 3)\n" + FEEDBACK_FOOTER)


def run_all(executor, problem, code):
    tests = problem.public_tests + problem.private_tests
    results = executor.run_batch([Job(problem.program(code, t), (t,), Limits(time_s=5)) for t in tests])
    return [r.tests[0] for r in results]


@pytest.mark.sandbox
def test_canonical_solutions_pass_every_public_and_private_test(executor, humaneval_plus, mbpp_plus):
    problems = load("humaneval_plus", humaneval_plus) + load("mbpp_plus", mbpp_plus)
    failed = [(p.id, r.observed, r.stderr_tail) for p in problems
              for r in run_all(executor, p, p.reference_solution) if not r.passed]
    assert failed == []


@pytest.mark.sandbox
def test_wrong_solutions_fail_and_answers_within_atol_pass(executor, humaneval_plus, mbpp_plus):
    add = load("humaneval_plus", humaneval_plus)[0]
    similar, circle = load("mbpp_plus", mbpp_plus)
    subtract = run_all(executor, add, "def add(x, y):\n    return x - y")
    assert [r.verdict for r in subtract] == [Verdict.WRONG_OUTPUT, Verdict.PASSED, *[Verdict.WRONG_OUTPUT] * 3]
    assert subtract[0].observed == "-1\n"  # what feedback quotes as "got"
    chatty = "def add(x, y):\n    print('debug')\n    return x + y"  # prints are swallowed, as in EvalPlus
    assert all(r.passed for r in run_all(executor, add, chatty))
    close_pi, far_pi = (f"def circle_circumference(r):\n    return 2 * {pi} * r" for pi in ("3.14159265", "3.14"))
    assert all(r.passed for r in run_all(executor, circle, close_pi))  # within atol 1e-3 (+ rtol 1e-7)
    assert not any(r.passed for r in run_all(executor, circle, far_pi))
    reversed_order = "def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b), reverse=True))"
    assert all(r.passed for r in run_all(executor, similar, reversed_order))  # Mbpp/2 compares as sets
    assert not run_all(executor, similar, "def similar_elements(a, b):\n    return (a[0],)")[0].passed
