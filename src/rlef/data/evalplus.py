"""HumanEval+ and MBPP+ (EvalPlus; Liu et al., 2023) from their release files, for the paper's
transfer evaluation (paper 3.3, Table 2). Nothing is downloaded: `evalplus` fetches its data at
run time, which an offline machine cannot, so data.path names the release file (.jsonl[.gz]).

Rows: task_id, prompt, entry_point, canonical_solution, base_input and plus_input (lists of
argument lists) and atol (0: exact). Public tests are the base inputs (the original benchmark's
tests), one test each, at most MAX_PUBLIC_TESTS; private tests are every base and plus input,
since EvalPlus's "+" score counts a solution only when it passes both. Feedback is HumanEval's
(paper C.4; C.5 gives MBPP+ the same style), so problems are style "function".

Expected outputs are not in the release: EvalPlus computes them by running canonical_solution.
So do we, inside the sandbox, when a test runs: each test is a program suffix (as HumanEval's
check() is) that runs the canonical solution, in a namespace of its own, on a copy of the input,
then the candidate on another copy, and compares the two with EvalPlus's rules
(`rlef_evalplus_match`, special oracles included). Why not precompute them here: this layer runs
no code (src/rlef/execution is the only code that spawns processes), and a cache written by
another step would be one more command to forget and one more file to go stale. The price:
- the reference runs with every test (EvalPlus's references are fast; the CPU limit covers both);
- feedback cannot quote the expected value, so a public test reads as its call (ours):
  "- Failure: add(1, 2) (got `4`)", where HumanEval's docstring examples read "f(x) == value";
- not protected: a candidate that rebinds builtins or shared modules when it is imported also
  changes the reference's answer. These benchmarks only evaluate, and HumanEval's check() runs
  in the candidate's process in just the same way.
"""
from __future__ import annotations

import ast
import gzip
import inspect
import json
import math
from pathlib import Path

from rlef.data.humaneval import OK
from rlef.data.problem import Problem, Test
from rlef.data.schema import LoadReport, RowError

DATASETS = {"humaneval_plus": "HumanEvalPlus.jsonl.gz", "mbpp_plus": "MbppPlus.jsonl.gz"}  # name -> release file
# Ours: a task's base inputs are all of its original tests, which can be many, and every public test
# runs every turn and gets a line of feedback; the ones beyond this are judged as private tests only.
MAX_PUBLIC_TESTS = 10
# Inputs per private test (one program each): enough to keep process starts per judged program in
# the tens (HumanEval+ has hundreds of inputs per task), few enough that the reference plus the
# candidate on EvalPlus's large inputs stay within the per-test CPU limit (paper A.2: 10 s).
PRIVATE_INPUTS_PER_TEST = 25
MAX_DISPLAY_CHARS = 300  # a public test's call as feedback shows it; longer ones are cut

# EvalPlus's special oracles (evalplus/eval/_special_oracle.py): tasks where equality with the
# canonical output is the wrong question. (dataset, entry_point) -> rule of rlef_evalplus_match.
ORACLES = {
    ("humaneval_plus", "find_zero"): "find_zero",  # HumanEval/32: any root will do
    **{("mbpp_plus", name): "set_eq" for name in (  # order of the returned items is free
        "similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly",
        "larg_nnum", "intersection_array", "find_dissimilar", "Diff")},
    **{("mbpp_plus", name): "not_none" for name in (  # regex matches: only "found or not"
        "check_str", "text_match_three", "text_starta_endb")},
    ("mbpp_plus", "are_equivalent"): "any",  # Mbpp/164: ambiguous task, any output passes
    ("mbpp_plus", "sum_div"): "or_zero",  # Mbpp/295
    ("mbpp_plus", "surface_Area"): "surface_area",  # Mbpp/581: also the slant-height reading
    ("mbpp_plus", "digit_distance_nums"): "digit_distance",  # Mbpp/558: also zero-padded digits
}


def rlef_evalplus_match(got, want, args, atol, oracle):
    """EvalPlus's verdict on one input (evalplus/eval/__init__.py): equality or the task's oracle,
    then, for floats, np.allclose(rtol=1e-7, atol) (atol 0 becomes 1e-6 when the expected value
    is floats). Self-contained on purpose: its source is copied into every test program, where
    nothing of ours can be imported. Anything that raises is a mismatch, as in EvalPlus."""
    import math

    def close(a, b):
        if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
            return (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b)
                    and all(close(x, y) for x, y in zip(a, b)))
        return a == b or abs(a - b) <= atol + 1e-7 * abs(b)

    try:
        if oracle == "find_zero":
            return abs(sum(c * math.pow(got, i) for i, c in enumerate(args[0]))) <= atol
        if oracle == "not_none":
            want = want is not None  # EvalPlus stores only whether the reference found a match
            exact = got == want if isinstance(got, bool) else want == (got is not None)
        elif oracle == "set_eq":
            exact = set(got) == set(want)
        else:
            exact = bool(got == want) or oracle == "any" or (oracle == "or_zero" and got == 0)
        if not exact and oracle == "surface_area":
            base, height = args
            slant = math.sqrt((base / 2) ** 2 + height ** 2)
            exact = abs(got - round(base * base + 2 * base * slant)) <= atol
        if not exact and oracle == "digit_distance":
            a, b = str(args[0]), str(args[1])
            width = max(len(a), len(b))
            exact = got == sum(abs(int(x) - int(y)) for x, y in zip(a.zfill(width), b.zfill(width)))
        floats = isinstance(want, float) or (isinstance(want, (list, tuple)) and len(want) > 0
                                             and all(isinstance(x, float) for x in want))
        if atol == 0 and floats:
            atol = 1e-6
        if exact or atol == 0:
            return bool(exact)
        return type(got) is type(want) and close(got, want)
    except Exception:
        return False


_MATCHER_SOURCE = inspect.getsource(rlef_evalplus_match)

# The test program after the candidate's code. The reference runs first, so nothing the candidate
# does during its own call can change the expected value; both calls get deep copies (either may
# mutate its input) and their prints are swallowed, as EvalPlus does, so only "OK" reaches stdout.
_CALL = """import contextlib as __rlef_contextlib, copy as __rlef_copy, io as __rlef_io
{matcher}
__rlef_reference = {{"__name__": "__rlef_reference__"}}
exec({reference!r}, __rlef_reference)
for __rlef_args in [{inputs}]:
    with __rlef_contextlib.redirect_stdout(__rlef_io.StringIO()):
        __rlef_want = __rlef_reference[{entry!r}](*__rlef_copy.deepcopy(__rlef_args))
        __rlef_got = {entry}(*__rlef_copy.deepcopy(__rlef_args))
    if not rlef_evalplus_match(__rlef_got, __rlef_want, __rlef_args, {atol!r}, {oracle!r}):
        print(repr(__rlef_got))
        break
else:
    print("OK")
"""


def python_literal(value) -> str:
    """`value` as Python source (repr, except where repr is not source: inf, nan, complex)."""
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"float('{value}')"
    if isinstance(value, complex):
        return f"complex({python_literal(value.real)}, {python_literal(value.imag)})"
    if isinstance(value, list):
        return "[" + ", ".join(map(python_literal, value)) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(map(python_literal, value)) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, (set, frozenset)):
        items = "{" + ", ".join(map(python_literal, value)) + "}"
        if isinstance(value, frozenset):
            return f"frozenset({items if value else ''})"
        return items if value else "set()"  # {} would be a dict
    if isinstance(value, dict):
        return "{" + ", ".join(f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items()) + "}"
    raise RowError(f"an input of type {type(value).__name__} cannot be written as Python source")


def _deep_tuple(value):
    return tuple(_deep_tuple(x) for x in value) if isinstance(value, list) else value


# MBPP+ stores tuples, sets and complex numbers as JSON lists and strings; EvalPlus turns them back
# per task before running anything (mbpp_deserialize_inputs in evalplus/data/mbpp.py), and so must
# we, or the reference and the candidate would see other types than EvalPlus gives them.
# Task number -> one input (its argument list) as EvalPlus passes it.
_MBPP_ARGUMENTS = {
    **dict.fromkeys((2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616,
                     630, 726, 740, 744, 809), lambda args: [tuple(a) for a in args]),
    **dict.fromkeys((63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780),
                    lambda args: [[tuple(x) for x in a] for a in args]),
    **dict.fromkeys((75, 413, 444, 753), lambda args: [[tuple(x) for x in args[0]], args[1]]),
    **dict.fromkeys((106, 750), lambda args: [args[0], tuple(args[1])]),
    **dict.fromkeys((250, 405, 446, 617, 720, 763, 808, 307), lambda args: [tuple(args[0]), *args[1:]]),
    **dict.fromkeys((259, 401, 445), lambda args: [tuple(tuple(x) for x in a) for a in args]),
    **dict.fromkeys((580, 615, 791), lambda args: [_deep_tuple(a) for a in args]),
    # EvalPlus writes {} (a dict) for an empty or non-list item here; kept, so outputs agree.
    115: lambda args: [[set(x) if isinstance(x, list) and x else {} for x in args[0]]],
    124: lambda args: [float(args[0]), complex(args[1])],
    252: lambda args: [complex(args[0])],
    278: lambda args: [tuple(tuple(x) if isinstance(x, list) else x for x in args[0])],
    722: lambda args: [{k: tuple(v) for k, v in args[0].items()}, *args[1:]],
}


def _arguments(dataset: str, task_id: str, args: list) -> list:
    number = task_id.rsplit("/", 1)[-1]
    convert = _MBPP_ARGUMENTS.get(int(number)) if dataset == "mbpp_plus" and number.isdigit() else None
    return convert(args) if convert else args


def _test(row: dict, dataset: str, inputs: list[list], display: str) -> Test:
    entry = row["entry_point"]
    call = _CALL.format(matcher=_MATCHER_SOURCE, reference=row["prompt"] + row["canonical_solution"],
                        inputs=", ".join(python_literal(tuple(args)) for args in inputs), entry=entry,
                        atol=float(row["atol"]), oracle=ORACLES.get((dataset, entry), ""))
    return Test("", OK, call=call, display=display)


def _call_text(entry: str, args: list) -> str:
    text = f"{entry}({', '.join(map(python_literal, args))})"
    return text if len(text) <= MAX_DISPLAY_CHARS else text[: MAX_DISPLAY_CHARS - 3] + "..."


def _check_row(row) -> None:
    """Raise RowError, naming the task and the field, for a row that is not in the release schema."""
    if not isinstance(row, dict):
        raise RowError(f"expected an object, got {type(row).__name__}")
    for key in ("task_id", "prompt", "entry_point", "canonical_solution"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise RowError(f"{row.get('task_id', 'a task')}: missing or empty '{key}'")
    task, entry = row["task_id"], row["entry_point"]
    if not entry.isidentifier():
        raise RowError(f"{task}: entry_point {entry!r} is not a Python name")
    for key in ("base_input", "plus_input"):
        value = row.get(key)
        if not isinstance(value, list) or not all(isinstance(args, list) for args in value):
            raise RowError(f"{task}: '{key}' must be a list of argument lists")
    if not row["base_input"]:
        raise RowError(f"{task}: 'base_input' is empty, so there is no public test")
    atol = row.get("atol")
    if isinstance(atol, bool) or not isinstance(atol, (int, float)) or not atol >= 0:
        raise RowError(f"{task}: 'atol' must be a number >= 0, got {atol!r}")
    try:
        tree = ast.parse(row["prompt"] + row["canonical_solution"])
    except SyntaxError as e:
        raise RowError(f"{task}: prompt + canonical_solution is not Python ({e.msg}, line {e.lineno})") from None
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if entry not in defined:
        raise RowError(f"{task}: prompt + canonical_solution defines no function {entry!r}")


def problem_from_row(row, dataset: str) -> Problem:
    """One release row as a Problem; RowError (or TypeError/ValueError from an input the task's
    conversion cannot read) for a malformed row."""
    _check_row(row)
    task, entry = row["task_id"], row["entry_point"]
    base = [_arguments(dataset, task, args) for args in row["base_input"]]
    every = base + [_arguments(dataset, task, args) for args in row["plus_input"]]
    public = tuple(_test(row, dataset, [args], _call_text(entry, args)) for args in base[:MAX_PUBLIC_TESTS])
    step, n = PRIVATE_INPUTS_PER_TEST, len(every)
    private = tuple(_test(row, dataset, every[i:i + step], f"inputs {i + 1}-{min(i + step, n)} of {n}")
                    for i in range(0, n, step))
    prompt = row["prompt"] if row["prompt"].endswith("\n") else row["prompt"] + "\n"
    return Problem(id=task, source=dataset, description=prompt, public_tests=public, private_tests=private,
                   split="test", reference_solution=row["prompt"] + row["canonical_solution"], style="function")


def load_evalplus(dataset: str, path: str | Path) -> tuple[list[Problem], LoadReport]:
    """Every usable task of the release file; malformed rows are skipped, one line each in the log."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {dataset!r}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist (data.path: the EvalPlus release file, "
                                f"e.g. {DATASETS[dataset]})")
    report, problems, seen = LoadReport(str(path)), [], set()
    with gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            report.rows += 1
            try:
                problem = problem_from_row(json.loads(line), dataset)
                if problem.id in seen:
                    raise RowError(f"{problem.id}: task_id appears twice")
            except json.JSONDecodeError as e:
                report.malformed.append(f"{path}:{number}: not JSON ({e.msg})")
                continue
            except (RowError, TypeError, ValueError, AttributeError, KeyError, RecursionError) as e:
                report.malformed.append(f"{path}:{number}: {e}")
                continue
            seen.add(problem.id)
            problems.append(problem)
    report.kept = len(problems)
    report.log()
    return problems, report
