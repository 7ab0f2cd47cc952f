"""The problem row schema: CodeContests' (Li et al., 2022), which rlef_mini, rlef_hidden and
your own JSONL files use too, and what became of each row.

Rows follow the Hugging Face `deepmind/code_contests` schema: tests as
{"input": [...], "output": [...]}, time_limit as {"seconds", "nanos"}, memory_limit_bytes,
solutions as {"language": [...], "solution": [...]}; hidden-spec rows add "hidden_detail"
(kind, option, near_misses). A malformed row is skipped with a message naming its file/split
and row, and counted in a LoadReport; it never stops a run halfway.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rlef.data.problem import Problem, Test

log = logging.getLogger(__name__)

SOURCES = {0: "unknown", 1: "codechef", 2: "codeforces", 3: "hackerearth", 4: "codejam",
           5: "atcoder", 6: "aizu"}
DIFFICULTIES = {0: "unknown", 1: "easy", 2: "medium", 3: "hard", 4: "harder", 5: "hardest",
                6: "external"}
LINE_KEY = "__line__"  # set by line-based readers so messages can name the file line
PYTHON3 = 3  # solutions.language enum: 0 unknown, 1 python2, 2 c++, 3 python3, 4 java


class RowError(ValueError):
    """A row that cannot become a Problem; the message says why."""


@dataclass
class LoadReport:
    """What happened to every row of one split: nothing is dropped silently."""

    where: str
    rows: int = 0
    kept: int = 0
    filtered_no_tests: int = 0
    malformed: list[str] = field(default_factory=list)
    no_tests: list[str] = field(default_factory=list)  # where the rows without tests are

    def unusable(self, split: str) -> str:
        """One line for a file that gave no problem: its rows and why each was dropped."""
        reasons = [*self.malformed, *(f"{w}: no public or no private tests" for w in self.no_tests)]
        return (f"{self.where}: no usable {split or 'any'} problem in {self.rows} rows"
                + (f" ({'; '.join(reasons[:10])}{'; ...' if len(reasons) > 10 else ''})" if reasons else ""))

    def log(self) -> None:
        log.info("%s: %d rows, %d kept, %d without public/private tests, %d malformed",
                 self.where, self.rows, self.kept, self.filtered_no_tests, len(self.malformed))
        for message in self.malformed[:20]:
            log.warning("skipped %s", message)


def _tests(row: Mapping, key: str) -> tuple[Test, ...]:
    value = row.get(key)
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise RowError(f"'{key}' must be an object with 'input' and 'output' lists")
    inputs, outputs = value.get("input") or [], value.get("output") or []
    if len(inputs) != len(outputs):
        raise RowError(f"'{key}' has {len(inputs)} inputs but {len(outputs)} outputs")
    if not all(isinstance(x, str) for x in [*inputs, *outputs]):
        raise RowError(f"'{key}' inputs and outputs must be strings")
    return tuple(Test(i, o) for i, o in zip(inputs, outputs))


def _time_limit(row: Mapping) -> float | None:
    limit = row.get("time_limit")
    if not limit:
        return None
    seconds = (limit.get("seconds") or 0) + (limit.get("nanos") or 0) / 1e9
    return seconds if seconds > 0 else None


def _reference(row: Mapping) -> str | None:
    solutions = row.get("solutions") or {}
    for language, code in zip(solutions.get("language") or [], solutions.get("solution") or []):
        if language == PYTHON3:
            return code
    return None


def _enum(table: dict, value, default: str = "") -> str:
    if isinstance(value, str):
        return value
    return table.get(value, str(value)) if value is not None else default


def problem_from_row(row: Mapping, split: str, source: str) -> Problem | None:
    """A Problem, or None when it lacks public or private tests (filtered, paper A.2).
    Raises RowError for a malformed row."""
    if not isinstance(row, Mapping):
        raise RowError(f"expected an object, got {type(row).__name__}")
    name, description = row.get("name"), row.get("description")
    if not isinstance(name, str) or not name:
        raise RowError("missing 'name'")
    if not isinstance(description, str) or not description.strip():
        raise RowError(f"problem {name}: missing 'description'")
    public, private = _tests(row, "public_tests"), _tests(row, "private_tests")
    generated = _tests(row, "generated_tests")
    if not public or not private:
        return None
    memory = row.get("memory_limit_bytes")
    return Problem(
        id=name, source=_enum(SOURCES, row.get("source"), source), description=description,
        public_tests=public, private_tests=private, generated_tests=generated,
        time_limit_s=_time_limit(row), memory_limit_bytes=int(memory) if memory else None,
        difficulty=_enum(DIFFICULTIES, row.get("difficulty")), tags=tuple(row.get("cf_tags") or ()),
        reference_solution=_reference(row), split=row.get("split") or split,
        family=row.get("family") or "", near_misses=_near_misses(row),
    )


def _near_misses(row: Mapping) -> tuple[str, ...]:
    detail = row.get("hidden_detail") or {}
    misses = (detail.get("near_misses") or {}) if isinstance(detail, Mapping) else None
    if not isinstance(misses, Mapping) or not all(isinstance(c, str) and c.strip() for c in misses.values()):
        raise RowError(f"problem {row['name']}: hidden_detail.near_misses must map options to programs")
    return tuple(misses.values())


def problems_from_rows(rows: Iterable[Mapping], split: str, where: str,
                       source: str) -> tuple[list[Problem], LoadReport]:
    report, problems = LoadReport(where), []
    for index, row in enumerate(rows):
        report.rows += 1
        line = row.get(LINE_KEY) if isinstance(row, Mapping) else None
        location = f"{where}:{line}" if line else f"{where} row {index}"
        try:
            problem = problem_from_row(row, split, source)
        except (RowError, TypeError, AttributeError, ValueError) as e:
            report.malformed.append(f"{location}: {e}")
            continue
        if problem is None:
            report.filtered_no_tests += 1
            report.no_tests.append(location)
        else:
            problems.append(problem)
    report.kept = len(problems)
    report.log()
    return problems, report
