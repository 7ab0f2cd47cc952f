"""Your own problems from a JSONL file, and the data config group."""
import json
import logging
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from rlef.data import load_problems
from rlef.data.jsonl import load_jsonl

CONF = str(Path(__file__).resolve().parents[2] / "conf")


def problem(name, split=None):
    row = {"name": name, "description": "Add two numbers.",
           "public_tests": {"input": ["1 2\n"], "output": ["3\n"]},
           "private_tests": {"input": ["2 2\n"], "output": ["4\n"]}}
    return {**row, "split": split} if split else row


def write(path, lines):
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def test_rows_without_split_serve_every_split(tmp_path):
    path = write(tmp_path / "p.jsonl", [problem("a"), problem("b", "train"), problem("c", "test")])
    assert [p.id for p in load_jsonl(path, "test")[0]] == ["a", "c"]
    assert [p.id for p in load_jsonl(path, "train")[0]] == ["a", "b"]


def test_bad_lines_are_reported_with_line_numbers_and_skipped(tmp_path, caplog):
    bad_tests = {**problem("x"), "private_tests": {"input": ["1\n"]}}
    path = write(tmp_path / "p.jsonl", [problem("a"), "{oops", bad_tests, problem("b", "holdout")])
    with caplog.at_level(logging.WARNING):
        problems, report = load_jsonl(path)
    assert [p.id for p in problems] == ["a"]
    assert report.rows == 4 and len(report.malformed) == 3
    for line in (2, 3, 4):
        assert f"p.jsonl:{line}" in caplog.text


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_jsonl(tmp_path / "nope.jsonl")


@pytest.mark.parametrize("group", ["rlef_mini", "code_contests", "humaneval", "jsonl"])
def test_every_data_config_composes(group):
    with initialize_config_dir(CONF, version_base="1.3"):
        cfg = compose("config", overrides=[f"data={group}"])
    assert cfg.data.name == group


def test_jsonl_group_loads_a_users_file(tmp_path):
    path = write(tmp_path / "mine.jsonl", [problem("mine")])
    with initialize_config_dir(CONF, version_base="1.3"):
        cfg = compose("config", overrides=["data=jsonl", f"data.path={path}"])
    assert [p.id for p in load_problems(cfg.data, "valid")] == ["mine"]


def test_unknown_split_is_rejected():
    with initialize_config_dir(CONF, version_base="1.3"):
        cfg = compose("config")
    with pytest.raises(ValueError, match="split must be one of"):
        load_problems(cfg.data, "dev")


def test_train_heldout_is_rlef_minis_alone():
    with initialize_config_dir(CONF, version_base="1.3"):
        mini = compose("config", overrides=["data=rlef_mini"])
        contests = compose("config", overrides=["data=code_contests"])
    heldout = load_problems(mini.data, "train_heldout")
    assert heldout and {p.split for p in heldout} == {"train_heldout"}
    with pytest.raises(ValueError, match="CodeContests has no train_heldout split"):
        load_problems(contests.data, "train_heldout")


def test_the_iteration_stream_repeats_each_problem_in_a_row_and_stays_a_function_of_the_iteration():
    from rlef.data import problems_for_iteration
    problems = load_problems(OmegaConf.create({"name": "rlef_mini", "path": None}), "train")[:10]
    once = [problems_for_iteration(problems, 4, 0, i) for i in range(3)]
    grouped = [problems_for_iteration(problems, 8, 0, i, repeats=2) for i in range(3)]
    assert [g[::2] for g in grouped] == once and all(g[::2] == g[1::2] for g in grouped)
    with pytest.raises(ValueError, match="rollouts_per_problem"):
        problems_for_iteration(problems, 7, 0, 0, repeats=2)
