"""The CodeContests loader on small parquet files written here in the real schema."""
import logging

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rlef.data.code_contests import check_paper_counts, load_split
from rlef.data.schema import LoadReport

TESTS = pa.struct([("input", pa.list_(pa.string())), ("output", pa.list_(pa.string()))])
SCHEMA = pa.schema([
    ("name", pa.string()), ("description", pa.string()),
    ("public_tests", TESTS), ("private_tests", TESTS), ("generated_tests", TESTS),
    ("source", pa.int64()), ("difficulty", pa.int64()),
    ("solutions", pa.struct([("language", pa.list_(pa.int64())), ("solution", pa.list_(pa.string()))])),
    ("cf_tags", pa.list_(pa.string())),
    ("time_limit", pa.struct([("seconds", pa.int64()), ("nanos", pa.int64())])),
    ("memory_limit_bytes", pa.int64()),
])


def row(name, public=1, private=2, **extra):
    base = {
        "name": name, "description": f"Problem {name}. Print the sum.",
        "public_tests": {"input": ["1 2\n"] * public, "output": ["3\n"] * public},
        "private_tests": {"input": ["5 5\n"] * private, "output": ["10\n"] * private},
        "generated_tests": {"input": ["0 0\n"], "output": ["0\n"]},
        "source": 2, "difficulty": 7,
        "solutions": {"language": [2, 3], "solution": ["int main(){}", "print(sum(map(int, input().split())))"]},
        "cf_tags": ["math"], "time_limit": {"seconds": 2, "nanos": 500_000_000},
        "memory_limit_bytes": 256 << 20,
    }
    base.update(extra)
    return base


def write_split(directory, split, rows):
    directory.mkdir(exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), directory / f"{split}-00000-of-00001.parquet")


def test_row_fields_become_a_problem(tmp_path):
    write_split(tmp_path / "data", "valid", [row("a")])
    (problem,) = load_split("valid", local_path=str(tmp_path), check_counts=False)
    assert problem.id == "a" and problem.source == "codeforces" and problem.split == "valid"
    assert problem.time_limit_s == 2.5 and problem.memory_limit_bytes == 256 << 20
    assert problem.reference_solution.startswith("print(")  # the python3 one, not the C++
    assert problem.public_tests[0].stdin == "1 2\n" and len(problem.private_tests) == 2
    assert len(problem.judge_tests) == 3 and problem.tags == ("math",)


def test_problems_without_public_or_private_tests_are_filtered_and_counted(tmp_path, caplog):
    write_split(tmp_path, "train", [row("ok"), row("no_public", public=0), row("no_private", private=0)])
    with caplog.at_level(logging.INFO):
        problems = load_split("train", local_path=str(tmp_path), check_counts=False)
    assert [p.id for p in problems] == ["ok"]
    assert "3 rows, 1 kept, 2 without public/private tests, 0 malformed" in caplog.text


def test_malformed_row_is_skipped_with_its_location_and_the_rest_loads(tmp_path, caplog):
    bad = row("bad", public_tests={"input": ["1\n", "2\n"], "output": ["1\n"]})
    write_split(tmp_path, "test", [row("first"), bad, row("third")])
    with caplog.at_level(logging.WARNING):
        problems = load_split("test", local_path=str(tmp_path), check_counts=False)
    assert [p.id for p in problems] == ["first", "third"]
    assert "test row 1: 'public_tests' has 2 inputs but 1 outputs" in caplog.text


def test_missing_time_limit_falls_back_to_executor_default(tmp_path):
    write_split(tmp_path, "valid", [row("x", time_limit=None, memory_limit_bytes=0)])
    (problem,) = load_split("valid", local_path=str(tmp_path), check_counts=False)
    assert problem.time_limit_s is None and problem.memory_limit_bytes is None


def test_full_load_with_other_counts_than_the_paper_is_an_error(tmp_path):
    write_split(tmp_path, "valid", [row("only")])
    with pytest.raises(ValueError, match="paper \\(A.2\\) has 117 -> 117"):
        load_split("valid", local_path=str(tmp_path))


def test_paper_counts_pass_when_they_match():
    check_paper_counts("train", LoadReport("train", rows=13328, kept=12659))


def test_save_to_disk_copies_load_too(tmp_path):
    import datasets

    table = pa.Table.from_pylist([row("disk")], schema=SCHEMA)
    datasets.DatasetDict({"valid": datasets.Dataset(table)}).save_to_disk(str(tmp_path / "copy"))
    (problem,) = load_split("valid", local_path=str(tmp_path / "copy"), check_counts=False)
    assert problem.id == "disk"


def test_missing_local_copy_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no valid-\\*.parquet files"):
        load_split("valid", local_path=str(tmp_path), check_counts=False)
