"""results/ files come from run directories, with their command written next to them."""
import csv
import json
import warnings

from rlef.analysis.collect import collect


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


def test_feedback_use_counts_recoveries_and_repeated_code_per_iteration(tmp_path):
    def episode(*turns):  # (code, public_passed) per turn
        return {"turns": [{"code": c, "public_passed": ok} for c, ok in turns]}

    rollouts = tmp_path / "run" / "rollouts"
    rollouts.mkdir(parents=True)
    first = [episode(("print(1)", True)),  # solved at once: not counted
             episode(("print(1)", False), ("print(2)", True)),  # recovered, changed code
             episode(("print(1)", False), ("print(1)", False), ("print(1)", False))]  # repeated, never passed
    (rollouts / "iter000000_rank0.jsonl").write_text("".join(json.dumps(e) + "\n" for e in first[:2]))
    (rollouts / "iter000000_rank1.jsonl").write_text(json.dumps(first[2]) + "\n")
    (rollouts / "iter000001_rank0.jsonl").write_text(json.dumps(episode(("", False), ("x=1", False))) + "\n")
    (tmp_path / "run" / "run_info.json").write_text(json.dumps({"argv": ["src/run.py"], "git_sha": "abc",
                                                                "git_dirty": False, "started": "now", "host": "h"}))
    (tmp_path / "run" / "iterations.csv").write_text("iteration\n0\n1\n")
    written = collect(tmp_path / "run", tmp_path / "results" / "train_z")
    with written[2].open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["episodes"], r["failed_turn1"], r["recovered"]) for r in rows] == [("3", "2", "1"), ("1", "1", "0")]
    assert float(rows[0]["recovery_rate"]) == 0.5 and float(rows[0]["same_code_turn2"]) == 0.5
    assert 0 < float(rows[0]["chrf_turn1_2"]) < 100  # mean of an identical pair (100) and a changed one
    assert rows[1]["same_code_turn2"] == "" and rows[1]["chrf_turn1_2"] == ""  # no code in turn 1: no pair
    assert "train_z_feedback.csv" in written[1].read_text()
