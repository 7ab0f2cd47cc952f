"""Problems from a JSONL file (optionally .gz) in the CodeContests schema: the bundled
rlef_mini benchmark, and the documented way to bring your own problems.

Minimal row: {"name": "p1", "description": "...", "public_tests": {"input": ["1 2\\n"],
"output": ["3\\n"]}, "private_tests": {"input": [...], "output": [...]}}; optional:
"split" (train/valid/test), "time_limit": {"seconds": 2, "nanos": 0}, "memory_limit_bytes",
"solutions": {"language": [3], "solution": ["..."]}, "cf_tags", "difficulty", "family".
"""
from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterator
from pathlib import Path

from rlef.data.problem import Problem
from rlef.data.schema import LINE_KEY, LoadReport, problems_from_rows

log = logging.getLogger(__name__)


class _Rows:
    """Iterate a JSONL file's rows; undecodable lines become a marker the loader reports."""

    def __init__(self, path: Path):
        self.path = path
        self.bad_lines: list[str] = []

    def __iter__(self) -> Iterator[dict]:
        opener = gzip.open if self.path.suffix == ".gz" else open
        with opener(self.path, "rt", encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    self.bad_lines.append(f"{self.path}:{number}: not JSON ({e.msg})")
                    continue
                yield {**row, LINE_KEY: number} if isinstance(row, dict) else row


def load_jsonl(path: str | Path, split: str | None = None) -> tuple[list[Problem], LoadReport]:
    """Every problem of `split` (all when None). Rows without a "split" field belong to every
    split requested, so a file of your own problems can serve as the eval set directly."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"problem file {path} does not exist")
    rows = _Rows(path)
    wanted = (row for row in rows if split is None or not isinstance(row, dict)
              or row.get("split") in (None, split))
    problems, report = problems_from_rows(wanted, split or "", str(path), "jsonl")
    report.rows += len(rows.bad_lines)
    report.malformed += rows.bad_lines
    for message in rows.bad_lines[:20]:
        log.warning("skipped %s", message)
    return problems, report
