"""experiment=table1 as a sweep, and the sweep -> table step (rlef.analysis.table)."""
import csv
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from rlef.analysis.table import bar_panels, read_sweep, sweep_rows, write

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ["mode", "turns", "metric", "solve_rate", "solve_rate_ci_low", "solve_rate_ci_high", "problems",
          "model", "data", "split", "temperature"]


def job(sweep: Path, name: str, model: str, split: str, metric: str, rates: dict[str, float], finished=True,
        experiment="table1"):
    """One sweep job directory as task=eval leaves it (only the files the table reads)."""
    path = sweep / name
    (path / ".hydra").mkdir(parents=True)
    choices = {"model": model, "experiment": experiment}
    OmegaConf.save(OmegaConf.create({"hydra": {"runtime": {"choices": choices}}}), path / ".hydra" / "hydra.yaml")
    if not finished:
        return path
    OmegaConf.save(OmegaConf.create({"eval": {"rollouts_per_problem": 200}}), path / "config.yaml")
    with (path / "results.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows({"mode": mode, "turns": 3 if mode == "multi_turn" else 1, "metric": metric,
                          "solve_rate": rate, "solve_rate_ci_low": rate - 0.05, "solve_rate_ci_high": rate + 0.05,
                          "problems": 117, "model": f"/ckpt/{model}", "data": "code_contests", "split": split,
                          "temperature": 0.2 if metric == "1@3" else 1.0} for mode, rate in rates.items())
    (path / "metrics.json").write_text("{}")
    (path / "run_info.json").write_text(json.dumps({"git_sha": "abc", "git_dirty": False, "host": "h",
                                                    "started": "now", "argv": ["src/run.py", "-m",
                                                                               "experiment=table1"]}))
    return path


def test_each_job_is_one_cell_and_the_markdown_pivots_them(tmp_path):
    sweep = tmp_path / "multirun"
    job(sweep, "0", "llama31_8b", "valid", "1@3", {"multi_turn": 0.10})
    job(sweep, "1", "llama31_8b", "test", "1@3", {"multi_turn": 0.12})
    job(sweep, "2", "rlef_8b", "test", "1@3", {"multi_turn": 0.20})
    job(sweep, "3", "llama31_8b", "valid", "10@100", {"multi_turn": 0.25})
    job(sweep, "10", "rlef_8b", "valid", "10@100", {"multi_turn": 0.30}, finished=False)
    csv_path, md, _ = write(sweep, tmp_path / "results" / "table1")
    with csv_path.open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["model"], r["split"], r["metric"], float(r["solve_rate"])) for r in rows] == [
        ("llama31_8b", "valid", "1@3", 0.10), ("llama31_8b", "test", "1@3", 0.12), ("rlef_8b", "test", "1@3", 0.20),
        ("llama31_8b", "valid", "10@100", 0.25)]
    text = md.read_text()
    assert "| model | valid 1@3 | valid 10@100 | test 1@3 |" in text  # the paper's column order
    assert "| rlef_8b | - | - | 20.0 [15.0, 25.0] |" in text  # a cell no job scored is '-'
    assert "not finished): 10" in text and "python src/run.py -m experiment=table1" in text


PAPER_HEADER = "experiment,model,arm,eval_set,split,metric,mode,percent,source\n"
FAKE_SOURCE = "arXiv 2410.02089vX, Table 1 (made up for this test)"


def test_the_figure_of_a_table_is_its_cells_as_bars_grouped_by_the_first_row_key(tmp_path):
    """Table 4's layout (training arm x inference mode down): a panel per column, a group per arm, a bar
    per mode, each (rate, low, high) in %; the png is written beside the table."""
    sweep = tmp_path / "multirun"
    job(sweep, "0", "warm", "test", "1@3", {"multi_turn": 0.10, "single_turn": 0.06})
    job(sweep, "1", "rlef", "test", "1@3", {"multi_turn": 0.20, "single_turn": 0.08})
    layout = {"tables": [], "rows": ["model", "mode"], "columns": ["split", "metric"], "figure": None,
              "analysis": None}
    result = replace(read_sweep(sweep), layout=layout)
    assert bar_panels(result) == {("", "test 1@3", "solve rate (%)"): {
        "warm": {"single_turn": pytest.approx((6.0, 1.0, 11.0)), "multi_turn": pytest.approx((10.0, 5.0, 15.0))},
        "rlef": {"single_turn": pytest.approx((8.0, 3.0, 13.0)), "multi_turn": pytest.approx((20.0, 15.0, 25.0))}}}
    _, md, png = write(sweep, tmp_path / "results" / "table1")  # Table 1's layout: one bar per model and cell
    assert png.read_bytes()[:4] == b"\x89PNG" and "Figure: `table1.png`" in md.read_text()


def test_a_paper_number_sits_beside_the_row_it_matches_and_tiny_random_gets_none(tmp_path):
    """The llama31_8b row's cell is a paper line's: its number and source; tiny_random's, no counterpart."""
    paper = tmp_path / "paper.csv"
    paper.write_text(PAPER_HEADER + f'table1,llama31_8b,,,test,1@3,multi_turn,12.5,"{FAKE_SOURCE}"\n')
    sweep = tmp_path / "multirun"
    job(sweep, "0", "llama31_8b", "test", "1@3", {"multi_turn": 0.10})
    job(sweep, "1", "tiny_random", "test", "1@3", {"multi_turn": 0.06})
    csv_path, md, _ = write(sweep, tmp_path / "results" / "table1", paper=paper)
    with csv_path.open() as f:
        rows = {r["model"]: r for r in csv.DictReader(f)}
    assert (rows["llama31_8b"]["paper_solve_rate"], rows["llama31_8b"]["paper_source"]) == ("0.125", FAKE_SOURCE)
    assert rows["tiny_random"]["paper_solve_rate"] == rows["tiny_random"]["paper_source"] == ""
    text = md.read_text()
    assert "| tiny_random | 6.0 [1.0, 11.0] |" in text  # ours, in its own table
    assert f"Paper (solve rate in %, as printed in {FAKE_SOURCE}; - where it has no number):" in text
    assert "| llama31_8b | 12.5 |" in text and "| tiny_random | - |" in text


def test_a_tiny_random_sweep_has_empty_paper_columns_and_says_the_paper_has_no_such_rows(tmp_path):
    paper = tmp_path / "paper.csv"
    paper.write_text(PAPER_HEADER + f'table1,llama31_8b,,,test,1@3,multi_turn,12.5,"{FAKE_SOURCE}"\n')
    job(tmp_path / "s", "0", "tiny_random", "test", "1@3", {"multi_turn": 0.02})
    job(tmp_path / "other", "0", "llama31_8b", "test", "1@3", {"multi_turn": 0.1}, experiment="private_feedback")
    for sweep in ("s", "other"):  # a different experiment's same-named cell is not table1's
        csv_path, md, _ = write(tmp_path / sweep, tmp_path / sweep / "table", paper=paper)
        with csv_path.open() as f:
            assert [(r["paper_solve_rate"], r["paper_source"]) for r in csv.DictReader(f)] == [("", "")]
        assert "| - |" not in md.read_text() and "Paper: " in md.read_text()
    assert "the paper has no such rows" in (tmp_path / "s" / "table.md").read_text()
    assert "holds no number for experiment private_feedback" in (tmp_path / "other" / "table.md").read_text()


def test_two_jobs_for_one_cell_are_refused(tmp_path):
    sweep = tmp_path / "multirun"
    job(sweep, "0", "llama31_8b", "test", "1@3", {"multi_turn": 0.1})
    job(sweep, "1", "llama31_8b", "test", "1@3", {"multi_turn": 0.2})
    with pytest.raises(ValueError, match="same cell"):
        sweep_rows(sweep)


def test_a_directory_that_is_not_a_sweep_is_named(tmp_path):
    with pytest.raises(ValueError, match="no sweep jobs"):
        write(tmp_path, tmp_path / "t")
    job(tmp_path / "s", "0", "llama31_8b", "test", "1@3", {}, finished=False)
    with pytest.raises(ValueError, match="no job has finished"):
        write(tmp_path / "s", tmp_path / "t")


@pytest.mark.sandbox
@pytest.mark.slow
def test_the_table1_sweep_runs_and_tabulates_on_tiny_random(tmp_path):
    """The real `-m experiment=table1`, narrowed to one model on the bundled data: 2 splits x 2 protocols."""
    command = [sys.executable, str(ROOT / "src/run.py"), "-m", "experiment=table1", "model=tiny_random",
               "data=rlef_mini", "eval.max_problems=1", "eval.rollouts_per_problem=1", "rollout.max_new_tokens=8",
               "execution.workers=2", f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    rows, missing = sweep_rows(tmp_path / "sweep")
    assert missing == []
    cells = {(r["split"], r["metric"], r["temperature"], r["mode"]) for r in rows}
    assert cells == {(s, m, t, "multi_turn") for s in ("valid", "test") for m, t in (("1@3", 0.2), ("10@100", 1.0))}
    assert {r["model"] for r in rows} == {"tiny_random"} and all(r["problems"] == 1 for r in rows)
