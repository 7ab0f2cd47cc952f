"""results/ files come from run directories, with their command written next to them."""
import csv
import dataclasses
import json
import warnings
from pathlib import Path

import pytest

from rlef.analysis.collect import collect
from rlef.data import Problem, Test
from rlef.execution.types import ExecutionResult, TestResult, Verdict
from rlef.rollout import Episode, Turn


def test_collect_copies_csvs_and_records_the_command(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "run_info.json").write_text(json.dumps({"argv": ["src/run.py", "experiment=eval_cpu"], "git_sha": "abc",
                                                   "git_dirty": False, "started": "now", "host": "h"}))
    (run / "metrics.json").write_text(json.dumps({"results": [{"mode": "multi_turn", "analysis": {"x": 1}}]}))
    (run / "results.csv").write_text("mode,solve_rate\nmulti_turn,0.1\n")
    (run / "per_family.csv").write_text("family,multi_turn\na,0.1\n")
    written = collect(run, tmp_path / "results" / "eval_x")
    assert (tmp_path / "results" / "eval_x.csv").read_text() == "mode,solve_rate\nmulti_turn,0.1\n"
    assert "python src/run.py experiment=eval_cpu" in (tmp_path / "results" / "eval_x.md").read_text()
    assert json.loads(written[2].read_text()) == {"multi_turn": {"x": 1}}


def test_collect_of_a_training_run_copies_iterations_and_the_selected_checkpoint(tmp_path):
    run = tmp_path / "run"
    (run / "policy_best").mkdir(parents=True)
    (run / "run_info.json").write_text(json.dumps({"argv": ["src/run.py", "experiment=rlef_cpu"], "git_sha": "abc",
                                                   "git_dirty": False, "started": "now", "host": "h"}))
    (run / "iterations.csv").write_text("iteration,rollout/reward\n0,-0.5\n")
    (run / "policy_best" / "selection.json").write_text('{"iteration": 3}\n')
    collect(run, tmp_path / "results" / "train_x")
    assert (tmp_path / "results" / "train_x_iterations.csv").read_text() == "iteration,rollout/reward\n0,-0.5\n"
    page = (tmp_path / "results" / "train_x.md").read_text()
    assert "python src/run.py experiment=rlef_cpu" in page and '{"iteration": 3}' in page


def test_training_curves_are_drawn_from_an_iterations_csv(tmp_path):
    from rlef.analysis.plots import training_curves

    csv_path = tmp_path / "run_iterations.csv"
    csv_path.write_text("iteration,rollout/reward,rollout/solve_rate,kl/ref,losses/value,val/solve_rate\n"
                        "0,-0.5,0.2,0,0.5,\n1,-0.3,0.3,0.001,0.4,0.1\n")
    with warnings.catch_warnings(record=True) as caught:  # panels this CSV lacks: no empty legend
        warnings.simplefilter("always")
        png = training_curves(csv_path, tmp_path / "figures" / "run.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [w for w in caught if "legend" in str(w.message)]


def test_a_resumed_training_run_lists_every_start(tmp_path):
    from omegaconf import OmegaConf

    from rlef.provenance import record_run

    run = tmp_path / "run"
    record_run(run, OmegaConf.create({"a": 1}))
    record_run(run, OmegaConf.create({"a": 1}))
    assert len((run / "run_history.jsonl").read_text().splitlines()) == 2
    (run / "iterations.csv").write_text("iteration\n0\n")
    page = collect(run, tmp_path / "results" / "train_y")[1].read_text()
    assert page.count("- 20") == 2  # two dated starts


ADD = Problem("add/00", "rlef_mini", "Print a+b.", (Test("1 2\n", "3\n"),), (Test("5 5\n", "10\n"),), family="adding")


def episode(turns: list[tuple[str | None, tuple[str, ...]]], final: tuple[str, ...] | None = None) -> Episode:
    """An Episode as EpisodeRunner leaves it: (code, public verdicts) per turn (no code: not run);
    final: the judge's verdicts on the last code (an INFRA_ERROR there makes it an infra-error episode)."""
    def result(verdicts):
        return ExecutionResult(tuple(TestResult(Verdict(v), "1 2\n", "3\n", "") for v in verdicts))

    built = [Turn(0, [1], [0.0], True, "", code, None if code is None else result(verdicts))
             for code, verdicts in turns]
    judged = None if final is None else result(final)
    return Episode(ADD, [], [], built, judged, infra_error=bool(judged and judged.infra_error))


def training_run(run: Path, iterations: dict[tuple[int, int], list[Episode]]) -> Path:
    """A finished training run whose rollouts/ the trainer's own writer filled, per (iteration, rank)."""
    from rlef.iteration import write_rollouts

    run.mkdir(parents=True)
    for (iteration, rank), episodes in iterations.items():
        write_rollouts(run, iteration, rank, episodes)
    (run / "run_info.json").write_text(json.dumps({"argv": ["src/run.py"], "git_sha": "abc", "git_dirty": False,
                                                   "started": "now", "host": "h"}))
    (run / "iterations.csv").write_text("iteration\n" + "".join(f"{i}\n" for i in sorted({i for i, _ in iterations})))
    return run


def feedback_rows(run: Path, target: Path) -> list[dict]:
    written = collect(run, target)
    assert f"{target.name}_feedback.csv" in written[1].read_text()
    with written[2].open() as f:
        return list(csv.DictReader(f))


def test_feedback_use_counts_recoveries_and_repeated_code_per_iteration(tmp_path):
    run = training_run(tmp_path / "run", {
        (0, 0): [episode([("print(1)", ("PASSED",))], ("PASSED",)),  # solved at once: not counted
                 episode([("print(1)", ("WRONG_OUTPUT",)), ("print(2)", ("PASSED",))], ("PASSED",))],  # recovered
        (0, 1): [episode([("print(1)", ("WRONG_OUTPUT",))] * 3, ("WRONG_OUTPUT",))],  # repeated, never passed
        (1, 0): [episode([(None, ()), ("x=1", ("EXCEPTION",))], ("EXCEPTION",)),  # no code at turn 1: no pair
                 episode([("x=1", ("WRONG_OUTPUT",)), ("x=2", ("PASSED",))], ("INFRA_ERROR",))],  # scores nothing
    })
    rows = feedback_rows(run, tmp_path / "results" / "train_z")
    assert [(r["episodes"], r["failed_turn1"], r["recovered"]) for r in rows] == [("3", "2", "1"), ("1", "1", "0")]
    assert float(rows[0]["recovery_rate"]) == 0.5 and float(rows[0]["same_code_turn2"]) == 0.5
    assert 0 < float(rows[0]["chrf_turn1_2"]) < 100  # mean of an identical pair (100) and a changed one
    assert rows[1]["same_code_turn2"] == "" and rows[1]["chrf_turn1_2"] == ""


def test_the_feedback_csv_per_family_pools_a_familys_episodes_over_all_iterations(tmp_path):
    """Which kinds of problem the reading was rewarded on: one row per family, iterations pooled."""
    sub = Problem("sub/00", "rlef_mini", "Print a-b.", (Test("3 2\n", "1\n"),), (Test("5 5\n", "0\n"),),
                  family="subtracting")
    recovered = episode([("print(1)", ("WRONG_OUTPUT",)), ("print(3)", ("PASSED",))], ("PASSED",))
    stuck = episode([("print(1)", ("WRONG_OUTPUT",))] * 3, ("WRONG_OUTPUT",))
    run = training_run(tmp_path / "run", {(0, 0): [recovered, dataclasses.replace(stuck, problem=sub)],
                                          (1, 0): [stuck, dataclasses.replace(recovered, problem=sub)],
                                          (1, 1): [dataclasses.replace(stuck, problem=sub)]})
    written = collect(run, tmp_path / "results" / "train_f")
    with written[3].open() as f:
        rows = {r["family"]: r for r in csv.DictReader(f)}
    assert written[3].name == "train_f_feedback_families.csv"
    assert "train_f_feedback_families.csv" in written[1].read_text()  # train.md names it
    counts = [(r["episodes"], r["failed_turn1"], r["recovered"]) for r in rows.values()]
    assert list(rows) == ["adding", "subtracting"] and counts == [("2", "2", "1"), ("3", "3", "1")]
    assert float(rows["subtracting"]["recovery_rate"]) == pytest.approx(1 / 3)


def test_a_single_turn_run_has_no_feedback_to_use(tmp_path):
    run = training_run(tmp_path / "run", {(0, 0): [episode([("print(1)", ("WRONG_OUTPUT",))], ("WRONG_OUTPUT",))]})
    row, = feedback_rows(run, tmp_path / "results" / "train_s")
    assert (row["episodes"], row["failed_turn1"], row["recovery_rate"]) == ("1", "0", "")


def test_the_feedback_csv_and_task_evals_metrics_count_the_same_failures_recoveries_and_chrf(tmp_path):
    """Fig. 3/4's per-episode facts are defined once (rlef.evaluation): the same episodes, written by
    the trainer as rollouts and by task=eval as samples.jsonl, give the feedback CSV's row and
    metrics.json's turn_analysis the same counts, infra errors left out by both."""
    from rlef.analysis.turns import chrf_rows
    from rlef.evaluation import turn_analysis
    from rlef.rollout import episode_record

    episodes = [
        episode([("a = 1", ("WRONG_OUTPUT",)), ("a = 2", ("EXCEPTION",)), ("a = 3", ("PASSED",))], ("PASSED",)),
        episode([(None, ()), ("b = 1", ("PASSED",))], ("WRONG_OUTPUT",)),  # fixed on the public tests, not solved
        episode([("c = 1", ("PASSED",))], ("PASSED",)),
        episode([("d = 1", ("PASSED", "TIMEOUT"))] * 3, ("TIMEOUT",)),  # the same code three times
        episode([("e = 1", ("WRONG_OUTPUT",)), ("e = 2", ("PASSED",))], ("INFRA_ERROR",)),
    ]
    row, = feedback_rows(training_run(tmp_path / "run", {(0, 0): episodes[:3], (0, 1): episodes[3:]}),
                         tmp_path / "results" / "train_e")
    samples = [json.loads(json.dumps({"mode": "multi_turn", **episode_record(e)})) for e in episodes]
    analysis = json.loads(json.dumps(turn_analysis(samples)))  # what task=eval writes to metrics.json
    first = analysis["error_types_per_turn"]["1"]
    assert int(row["episodes"]) == sum(first.values()) == 4
    assert int(row["failed_turn1"]) == sum(n for kind, n in first.items() if kind != "passed") == 3
    assert int(row["recovered"]) == sum(analysis["recoveries"].values()) == 2
    assert float(row["chrf_turn1_2"]) == pytest.approx(analysis["chrf_successive_turns"]["1->2"])
    one_two = chrf_rows([s for s in samples if not s["infra_error"]], 3)[0]
    assert (one_two["pairs"], float(row["same_code_turn2"])) == (2, one_two["unchanged"]) == (2, 0.5)
