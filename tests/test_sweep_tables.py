"""The table step on sweeps whose jobs differ in more than model, split and metric (table2's
benchmarks, turn_limit's turn limit and feedback): cells keyed by the sweep's own keys, laid out
as the experiment's `table:` block says. Table 1's layout: tests/test_table.py."""
import csv
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from rlef.analysis.table import figure_series, read_sweep, sweep_rows, write

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ["mode", "turns", "metric", "solve_rate", "solve_rate_ci_low", "solve_rate_ci_high", "problems",
          "model", "data", "split", "temperature"]
TINY = ["model=tiny_random", "eval.max_problems=1", "eval.rollouts_per_problem=1", "rollout.max_new_tokens=8",
        "execution.workers=2"]


def job(sweep: Path, name: str, overrides: dict, rate: float, table: dict | None = None, with_overrides=True):
    """A finished eval job as task=eval leaves it: its overrides, choices, config and results."""
    path = sweep / name
    (path / ".hydra").mkdir(parents=True)
    if with_overrides:
        OmegaConf.save(OmegaConf.create([f"{k}={v}" for k, v in overrides.items()]), path / ".hydra" / "overrides.yaml")
    OmegaConf.save(OmegaConf.create({"hydra": {"runtime": {"choices": {"model": "rlef_8b_no_feedback"}}}}),
                   path / ".hydra" / "hydra.yaml")
    cfg = {"eval": {"rollouts_per_problem": 200}, "rollout": {"feedback": overrides["rollout.feedback"]}}
    OmegaConf.save(OmegaConf.create(cfg | ({"table": table} if table else {})), path / "config.yaml")
    with (path / "results.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerow({"mode": "multi_turn", "turns": 3, "metric": "1@3", "solve_rate": rate,
                         "solve_rate_ci_low": rate - 0.05, "solve_rate_ci_high": rate + 0.05, "problems": 117,
                         "model": "/ckpt", "data": "code_contests", "split": "test", "temperature": 0.2})
    (path / "metrics.json").write_text("{}")
    (path / "run_info.json").write_text(json.dumps({"git_sha": "abc", "git_dirty": False, "host": "h",
                                                    "started": "now", "argv": ["src/run.py", "-m"]}))


NO_FEEDBACK_RL = {"rows": ["model", "rollout.feedback"], "columns": ["split", "metric"]}


def test_jobs_that_differ_only_in_a_swept_key_are_two_cells(tmp_path):
    """no_feedback_rl: the same model, split and metric, with and without feedback at inference."""
    for name, feedback, rate in (("0", "none", 0.1), ("1", "execution", 0.3)):
        job(tmp_path / "s", name, {"rollout.feedback": feedback, "eval.split": "test"}, rate, NO_FEEDBACK_RL)
    csv_path, md, _ = write(tmp_path / "s", tmp_path / "t")
    with csv_path.open() as f:
        assert [(r["rollout.feedback"], r["solve_rate"]) for r in csv.DictReader(f)] == [("none", "0.1"),
                                                                                          ("execution", "0.3")]
    text = md.read_text()
    assert "| model | rollout.feedback | test 1@3 |" in text
    assert "| rlef_8b_no_feedback | none | 10.0 [5.0, 15.0] |" in text
    assert "| rlef_8b_no_feedback | execution | 30.0 [25.0, 35.0] |" in text


def test_without_the_jobs_own_overrides_the_same_two_jobs_collide(tmp_path):
    """What table1's keys alone (model, split, metric, mode) would do with them."""
    for name, feedback in (("0", "none"), ("1", "execution")):
        job(tmp_path / "s", name, {"rollout.feedback": feedback}, 0.1, with_overrides=False)
    with pytest.raises(ValueError, match="same cell"):
        sweep_rows(tmp_path / "s")


def test_a_layout_without_room_for_a_swept_key_is_refused_by_name(tmp_path):
    for name, feedback in (("0", "none"), ("1", "execution")):
        job(tmp_path / "s", name, {"rollout.feedback": feedback}, 0.1, {"rows": ["model"]})
    with pytest.raises(ValueError, match="differ in rollout.feedback"):
        write(tmp_path / "s", tmp_path / "t")
    assert not (tmp_path / "t.csv").exists()  # nothing half-written


def test_a_layout_naming_a_key_no_job_has_is_refused(tmp_path):
    job(tmp_path / "s", "0", {"rollout.feedback": "none"}, 0.1, {"rows": ["model", "rollout.feedbak"]})
    with pytest.raises(ValueError, match="rollout.feedbak, which no job has"):
        sweep_rows(tmp_path / "s")


def run_sweep(tmp_path: Path, *overrides: str, env: dict | None = None, tiny: list[str] = TINY) -> Path:
    """The real `python src/run.py -m ...` on tiny_random, one problem, one rollout per job."""
    sweep = tmp_path / "sweep"
    command = [sys.executable, str(ROOT / "src/run.py"), "-m", *overrides, *tiny, f"hydra.sweep.dir={sweep}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT,
                         env={**os.environ, **(env or {})})
    assert out.returncode == 0, out.stderr[-3000:]
    return sweep


def evalplus_files(tmp_path: Path) -> dict[str, str]:
    """One problem each of HumanEval+ and MBPP+, in EvalPlus's release schema."""
    add = {"task_id": "HumanEval/53", "entry_point": "add", "atol": 0, "contract": "",
           "prompt": 'def add(x: int, y: int):\n    """Add two numbers x and y"""\n',
           "canonical_solution": "    return x + y\n", "test": "", "base_input": [[0, 1], [2, 3]],
           "plus_input": [[5, -5]]}
    similar = {"task_id": "Mbpp/2", "entry_point": "similar_elements", "atol": 0,
               "prompt": '"""\nWrite a function to find the shared elements from the given two lists.\n"""',
               "canonical_solution": "\ndef similar_elements(a, b):\n  return tuple(set(a) & set(b))\n",
               "test": [], "base_input": [[[3, 4], [4, 10]]], "plus_input": [[[], [1]]]}
    paths = {"RLEF_HUMANEVAL_PLUS": tmp_path / "HumanEvalPlus.jsonl.gz", "RLEF_MBPP_PLUS": tmp_path / "MbppPlus.jsonl"}
    with gzip.open(paths["RLEF_HUMANEVAL_PLUS"], "wt") as f:
        f.write(json.dumps(add) + "\n")
    paths["RLEF_MBPP_PLUS"].write_text(json.dumps(similar) + "\n")
    return {k: str(v) for k, v in paths.items()}


@pytest.mark.sandbox
@pytest.mark.slow
def test_the_table2_sweep_puts_each_benchmark_and_mode_in_its_own_column(tmp_path):
    """HumanEval+ and MBPP+ are both split test at 1@3: only the sweep's eval_set tells them apart."""
    sweep = run_sweep(tmp_path, "experiment=table2", "eval_set=humaneval_plus,mbpp_plus", env=evalplus_files(tmp_path))
    result = read_sweep(sweep)
    old_keys = [(r["model"], r["split"], r["metric"], r["mode"]) for r in result.rows]
    assert len(set(old_keys)) == 2 < len(old_keys)  # table1's identity would merge the benchmarks
    cells = {(r["eval_set"], r["mode"]): r["data"] for r in result.rows}
    assert cells == {(b, m): b for b in ("humaneval_plus", "mbpp_plus") for m in ("single_turn", "multi_turn")}
    _, md, _ = write(sweep, tmp_path / "results" / "table2")
    lines = md.read_text().splitlines()
    header = ("| model | humaneval_plus single_turn | humaneval_plus multi_turn | mbpp_plus single_turn "
              "| mbpp_plus multi_turn |")
    assert header in lines and "experiment=table2" in md.read_text()
    assert "Solve rate in %, 95% bootstrap CI over problems:" in lines  # one table: no title of its own
    body = lines[lines.index(header) + 2]
    assert body.startswith("| tiny_random | ") and body.count("[") == 4 and "-" not in body.split("|")[2:-1]


@pytest.mark.sandbox
@pytest.mark.slow
def test_the_turn_limit_sweep_tabulates_and_plots_limit_against_feedback(tmp_path):
    """Two turn limits x true and random feedback, pass@1: rows by limit, columns by feedback."""
    sweep = run_sweep(tmp_path, "experiment=turn_limit", "data=rlef_mini", "rollout.max_turns=1,2", "protocol=pass1")
    csv_path, md, png = write(sweep, tmp_path / "results" / "turn_limit")
    with csv_path.open() as f:
        rows = list(csv.DictReader(f))
    assert sorted((r["rollout.max_turns"], r["rollout.feedback"], r["metric"]) for r in rows) == [
        ("1", "execution", "1@1"), ("1", "random", "1@1"), ("2", "execution", "1@2"), ("2", "random", "1@2")]
    text = md.read_text()
    assert "tiny_random multi_turn (solve rate" in text
    assert "| rollout.max_turns | execution pass1 | random pass1 |" in text
    assert sum(line.startswith(("| 1 | ", "| 2 | ")) and line.count("[") == 2 for line in text.splitlines()) == 2
    series = figure_series(read_sweep(sweep))
    assert list(series) == ["pass1"]
    assert {line: [p[0] for p in points] for line, points in series["pass1"].items()} == {
        "tiny_random execution": [1, 2], "tiny_random random": [1, 2]}
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"


def turn(verdicts, code="x = 1", passed=False):
    """One turn of a samples.jsonl episode: public verdicts (None: no code), code, public pass."""
    return {"code": None if verdicts is None else code, "public_verdicts": verdicts, "public_passed": passed}


# Two problems, four episodes: turn-1 outcomes WRONG_OUTPUT (fixed at turn 2), EXCEPTION (never
# fixed), passed, no code (fixed at turn 3); chrF pairs 1->2 in the first two, 2->3 in the last two.
EPISODES = [
    ("p1", [turn(["WRONG_OUTPUT"], "print(1)"), turn(["PASSED"], "print(2)", True)], True),
    ("p1", [turn(["PASSED", "EXCEPTION"], "a"), turn(["WRONG_OUTPUT"], "b"), turn(["WRONG_OUTPUT"], "b")], False),
    ("p2", [turn(["PASSED"], "ok", True)], True),
    ("p2", [turn(None), turn(["EXCEPTION"], "c = 1"), turn(["PASSED"], "c = 2", True)], False),
]
ERROR_RECOVERY = {"analysis": "error_recovery", "tables": ["split"], "rows": ["model", "rollout.feedback"],
                  "columns": []}


def episodes_job(sweep: Path, name: str, feedback: str, table: dict, finished: bool = True,
                 families: dict[str, str] | None = None) -> None:
    """A finished multi-turn eval job with EPISODES in its samples.jsonl (`families`: problem -> family)."""
    job(sweep, name, {"rollout.feedback": feedback}, 0.5, table)
    cfg = {"eval": {"rollouts_per_problem": 2}, "rollout": {"feedback": feedback, "max_turns": 3}, "table": table}
    OmegaConf.save(OmegaConf.create(cfg), sweep / name / "config.yaml")
    with (sweep / name / "samples.jsonl").open("w") as f:
        f.writelines(json.dumps({"mode": "multi_turn", "problem": p, "family": (families or {}).get(p), "turns": turns,
                                 "solved": solved, "infra_error": False}) + "\n" for p, turns, solved in EPISODES)
    if not finished:
        (sweep / name / "metrics.json").unlink()


def test_error_recovery_counts_each_turn1_kind_and_what_later_turns_fixed(tmp_path):
    from rlef.analysis.turns import recovery_rows

    episodes_job(tmp_path, "0", "execution", ERROR_RECOVERY)
    records = [json.loads(line) for line in (tmp_path / "0" / "samples.jsonl").read_text().splitlines()]
    rows = {r["kind"]: r for r in recovery_rows(records, 3)}
    got = {k: (r["errors"], r["share"], r["fixed_by_turn2"], r["fixed_by_turn3"], r["solved"]) for k, r in rows.items()}
    assert got["WRONG_OUTPUT"] == (1, 0.25, 1.0, 1.0, 1.0)
    assert got["EXCEPTION"] == (1, 0.25, 0.0, 0.0, 0.0)  # the first failing verdict names the kind
    assert got["no_code"] == (1, 0.25, 0.0, 1.0, 0.0)  # fixed by turn 3 on the public tests, not solved
    assert got["any_error"] == (3, 0.75, 1 / 3, 2 / 3, 1 / 3)
    assert got["TIMEOUT"] == (0, 0.0, None, None, None)  # no such error: no rate, not a rate of 0
    assert rows["any_error"]["share_ci_low"] <= 0.75 <= rows["any_error"]["share_ci_high"]


def test_chrf_rows_pair_successive_codes_and_count_unchanged_ones(tmp_path):
    from rlef.analysis.turns import chrf_rows
    from rlef.evaluation import chrf

    episodes_job(tmp_path, "0", "execution", ERROR_RECOVERY)
    records = [json.loads(line) for line in (tmp_path / "0" / "samples.jsonl").read_text().splitlines()]
    first, second = chrf_rows(records, 3)
    assert (first["transition"], first["pairs"], first["unchanged"]) == ("1->2", 2, 0.0)  # no code at turn 1: no pair
    assert first["chrf"] == pytest.approx((chrf("print(1)", "print(2)") + chrf("a", "b")) / 2)
    assert (second["transition"], second["pairs"], second["unchanged"]) == ("2->3", 2, 0.5)
    assert second["chrf"] == pytest.approx((100 + chrf("c = 1", "c = 2")) / 2)


def test_the_table_step_and_task_evals_metrics_count_the_same_errors_recoveries_and_chrf(tmp_path):
    """Fig. 3 and 4 are defined once (rlef.evaluation): the table step's point estimates are
    metrics.json's counts pooled, on the same samples.jsonl, infra errors left out by both."""
    from rlef.analysis.turns import chrf_rows, episodes, recovery_rows
    from rlef.evaluation import turn_analysis

    episodes_job(tmp_path, "0", "execution", ERROR_RECOVERY)
    infra = {"mode": "multi_turn", "problem": "p2", "family": None, "turns": [turn(["INFRA_ERROR"])],
             "solved": False, "infra_error": True}
    with (tmp_path / "0" / "samples.jsonl").open("a") as f:
        f.write(json.dumps(infra) + "\n")
    records = [json.loads(line) for line in (tmp_path / "0" / "samples.jsonl").read_text().splitlines()]
    # what task=eval writes: every multi-turn record, through metrics.json's JSON
    analysis = json.loads(json.dumps(turn_analysis(r for r in records if r["mode"] == "multi_turn")))
    first, recoveries = analysis["error_types_per_turn"]["1"], analysis["recoveries"]
    assert "INFRA_ERROR" not in first and sum(first.values()) == 4
    assert recoveries == {"WRONG_OUTPUT->passed@2": 1, "no_code->passed@3": 1}  # filed under the turn-1 kind
    for row in recovery_rows(episodes(tmp_path / "0"), 3):
        kinds = [k for k in first if k != "passed"] if row["kind"] == "any_error" else [row["kind"]]
        assert row["errors"] == sum(first.get(k, 0) for k in kinds), row["kind"]
        for k in (2, 3):
            fixed = sum(recoveries.get(f"{kind}->passed@{j}", 0) for kind in kinds for j in range(2, k + 1))
            assert (row[f"fixed_by_turn{k}"] or 0) * row["errors"] == pytest.approx(fixed), (row["kind"], k)
    table = {r["transition"]: r["chrf"] for r in chrf_rows(episodes(tmp_path / "0"), 3)}
    assert table == pytest.approx(analysis["chrf_successive_turns"])


def test_the_error_recovery_table_has_a_row_per_arm_and_a_column_per_kind_that_occurred(tmp_path):
    for name, feedback in (("0", "execution"), ("1", "random")):
        episodes_job(tmp_path / "s", name, feedback, ERROR_RECOVERY)
    csv_path, md, png = write(tmp_path / "s", tmp_path / "t")
    with csv_path.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 7 and {r["rollout.feedback"] for r in rows} == {"execution", "random"}
    text = md.read_text()
    assert "| model | rollout.feedback | WRONG_OUTPUT | EXCEPTION | no_code | any_error |" in text  # no TIMEOUT
    assert "test: turn-1 outcome, % of episodes, 95% CI resampling problems (families):" in text
    assert "| rlef_8b_no_feedback | random | 25.0 [" in text and "Paper numbers: none" in text
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_runs_made_one_by_one_get_an_analysis_table_with_a_row_per_checkpoint(tmp_path):
    """feedback_eval's runs: no `table:` block, one model choice, checkpoints apart by
    model.name_or_path; --analysis tabulates their episodes with a row per checkpoint."""
    for name in ("warm", "rlef"):
        episodes_job(tmp_path / "evals", name, "execution", None)
        (tmp_path / "evals" / name / ".hydra" / "overrides.yaml").write_text(
            f"- experiment=feedback_eval\n- model.name_or_path=/ckpt/{name}\n")
    csv_path, md, png = write(tmp_path / "evals", tmp_path / "t", analysis="chrf")
    with csv_path.open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["model.name_or_path"], r["transition"]) for r in rows] == [
        ("/ckpt/rlef", "1->2"), ("/ckpt/rlef", "2->3"), ("/ckpt/warm", "1->2"), ("/ckpt/warm", "2->3")]
    text = md.read_text()
    assert "| model | model.name_or_path | 1->2 | 2->3 |" in text and "| rlef_8b_no_feedback | /ckpt/warm |" in text
    assert f"python -m rlef.analysis.table {tmp_path / 'evals'} {tmp_path / 't'} --analysis chrf" in text


def test_a_run_that_names_its_model_choice_gets_one_model_column(tmp_path):
    """table4_cpu's runs name a model choice (model=...), feedback_eval's a checkpoint: `model` is then
    one of the keys the runs differ in, and a row label once."""
    for name, override in (("warm", "model.name_or_path=/ckpt/warm"), ("rlef", "model=smollm2_rlef_stated")):
        episodes_job(tmp_path / "evals", name, "execution", None)
        (tmp_path / "evals" / name / ".hydra" / "overrides.yaml").write_text(f"- {override}\n")
    _, md, _ = write(tmp_path / "evals", tmp_path / "t", analysis="chrf")
    headers = [line for line in md.read_text().splitlines() if line.startswith("| model")]
    assert headers and set(headers) == {"| model | model.name_or_path | 1->2 | 2->3 |"}


def test_hidden_spec_and_regular_families_get_tables_of_their_own(tmp_path):
    """rlef_mix's test split: each analysis also comes for the hidden-spec and the regular families apart."""
    families = {"p1": "hs_round_ratio", "p2": "linear_combination"}
    for name in ("warm", "rlef"):
        episodes_job(tmp_path / "evals", name, "execution", None, families=families)
        (tmp_path / "evals" / name / ".hydra" / "overrides.yaml").write_text(
            f"- experiment=feedback_eval\n- model.name_or_path=/ckpt/{name}\n")
    csv_path, md, _ = write(tmp_path / "evals", tmp_path / "t", analysis="error_recovery")
    with csv_path.open() as f:
        rows = [r for r in csv.DictReader(f) if r["model.name_or_path"] == "/ckpt/warm" and r["kind"] == "any_error"]
    assert {r["subset"]: int(r["episodes"]) for r in rows} == {"all": 4, "hidden": 2, "regular": 2}
    text = md.read_text()
    assert all(f"test {s}: turn-1 outcome, % of episodes" in text for s in ("all", "hidden", "regular"))


def test_an_analysis_of_an_unfinished_sweep_is_refused_naming_the_job(tmp_path):
    episodes_job(tmp_path / "s", "0", "execution", ERROR_RECOVERY)
    episodes_job(tmp_path / "s", "1", "random", ERROR_RECOVERY, finished=False)
    with pytest.raises(ValueError, match=r"jobs 1 have not finished \(no metrics.json\)"):
        write(tmp_path / "s", tmp_path / "t")
    assert not (tmp_path / "t.csv").exists()


def test_an_analysis_of_a_sweep_with_two_jobs_in_one_cell_is_refused(tmp_path):
    for name in ("0", "1"):
        episodes_job(tmp_path / "s", name, "execution", ERROR_RECOVERY)
    (tmp_path / "s" / "1" / ".hydra" / "overrides.yaml").write_text("- rollout.feedback=execution\n")
    with pytest.raises(ValueError, match="same cell"):
        write(tmp_path / "s", tmp_path / "t")


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.parametrize(("experiment", "columns"), [
    ("error_recovery_cpu", "| model | rollout.feedback | no_code | any_error |"),
    ("chrf_cpu", "| model | 1->2 | 2->3 |")])
def test_the_cpu_analysis_sweeps_run_down_to_their_table_and_figure(tmp_path, experiment, columns):
    """The CPU-scale sweep as configured (data, split, feedback arms) on tiny_random, whose replies
    have no code: every first turn is no_code, and no two successive turns have code to compare."""
    sweep = run_sweep(tmp_path, f"experiment={experiment}", "eval.rollouts_per_problem=2")
    csv_path, md, png = write(sweep, tmp_path / "results" / experiment)
    text = md.read_text()
    assert columns in text and f"experiment={experiment}" in text and "rlef_mix" in csv_path.read_text()
    if experiment == "chrf_cpu":
        assert "| tiny_random | n/a | n/a |" in text
    else:
        assert "| tiny_random | random | 100.0 [100.0, 100.0] | 100.0 [100.0, 100.0] |" in text
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"


def run_task(run_dir: Path, *overrides: str) -> subprocess.CompletedProcess:
    """One `python src/run.py ...` (no sweep) into run_dir."""
    command = [sys.executable, str(ROOT / "src/run.py"), *overrides, "execution.workers=2", f"hydra.run.dir={run_dir}"]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)


# A successful two-turn episode in samples.jsonl's schema, as task=mine keeps them.
MINED = {"problem": "p", "family": None, "solved": True, "temperature": 0.5, "turns": [
    {"user": "Provide a Python solution: print 3.", "response": "```python\nprint(2)\n```", "stopped": True},
    {"user": "Your code failed the following tests: ...", "response": "```python\nprint(3)\n```", "stopped": True}]}


@pytest.mark.sandbox
@pytest.mark.slow
def test_the_cpu_table3_runs_mining_sft_and_every_arm_down_to_its_table(tmp_path):
    """Table 3 at CPU scale on tiny_random: mining (which keeps nothing from a random model, and SFT
    then refuses its empty file in one line), SFT on a mined trajectory, the four arms' sweep with
    that model standing in for the warm start, SFT and RLEF models, and the table; then the same
    model as B.3's repair model (eval.repair_model)."""
    tiny = ["model=tiny_random", "rollout.max_new_tokens=8"]
    mined = run_task(tmp_path / "mine", "experiment=table3_mine_cpu", *tiny, "mine.max_problems=1",
                     "mine.rollouts_per_problem=2")
    assert mined.returncode == 0, mined.stderr[-3000:]
    assert (tmp_path / "mine" / "trajectories.jsonl").read_text() == ""
    with (tmp_path / "mine" / "mine.csv").open() as f:
        batches = list(csv.DictReader(f))
    assert sum(int(b["episodes"]) for b in batches) == 2 and all(0.1 <= float(b["temperature"]) <= 1 for b in batches)
    empty = run_task(tmp_path / "sft0", "experiment=table3_sft_cpu", *tiny,
                     f"sft.trajectories={tmp_path / 'mine' / 'trajectories.jsonl'}")
    assert empty.returncode == 2 and "holds no trajectory" in empty.stderr
    (tmp_path / "mined.jsonl").write_text(json.dumps(MINED) + "\n")
    trained = run_task(tmp_path / "sft", "experiment=table3_sft_cpu", *tiny,
                       f"sft.trajectories={tmp_path / 'mined.jsonl'}")
    assert trained.returncode == 0, trained.stderr[-3000:]
    model = str(tmp_path / "sft" / "model")
    env = {"RLEF_WARM_COPY": model, "RLEF_SFT_COPY": model, "RLEF_RLEF_COPY": model}
    sweep = run_sweep(tmp_path, "experiment=table3_cpu", env=env, tiny=[t for t in TINY if t != "model=tiny_random"])
    assert json.loads((sweep / "1" / "few_shot.json").read_text())[0]["role"] == "user"  # few_shot_copy's prompt
    csv_path, md, _ = write(sweep, tmp_path / "results" / "table3")
    with csv_path.open() as f:
        assert [r["arm"] for r in csv.DictReader(f)] == ["warm_copy", "few_shot_copy", "sft_copy", "rlef_copy"]
    assert "| arm | test 1@3 |" in md.read_text() and "| few_shot_copy | " in md.read_text()
    two = run_task(tmp_path / "two", "task=eval", *TINY, "data=rlef_mini", f"eval.repair_model={model}")
    assert two.returncode == 0, two.stderr[-3000:]


def saved_tiny_random(folder: Path) -> Path:
    """tiny_random's model and tokenizer as a save_pretrained directory (the CPU arms' model.kind=hf)."""
    from rlef.models import load_tokenizer, tiny_random_llama

    tokenizer = load_tokenizer(OmegaConf.load(ROOT / "conf" / "model" / "tiny_random.yaml"))
    tiny_random_llama(len(tokenizer)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.mark.sandbox
@pytest.mark.slow
def test_the_cpu_table4_and_no_feedback_sweeps_run_every_arm_down_to_their_tables(tmp_path):
    """Table 4 and no-feedback RL at CPU scale, with one saved tiny_random model standing in for the stated
    warm start and each of its RL arms: Table 4's rows are arm x inference mode; no_feedback_rl's are the
    no-feedback policy under each inference-time feedback."""
    model = str(saved_tiny_random(tmp_path / "tiny"))
    env = {f"RLEF_{arm}_STATED": model for arm in ("WARM", "RLEF", "SINGLE", "NOFB")}
    tiny = [t for t in TINY if t != "model=tiny_random"]
    table4 = run_sweep(tmp_path / "t4", "experiment=table4_cpu", env=env, tiny=tiny)
    csv_path, md, png = write(table4, tmp_path / "results" / "table4")
    assert png.read_bytes()[:4] == b"\x89PNG"  # the table as bars: an arm a group, a mode a bar
    with csv_path.open() as f:
        cells = [(r["model"], r["mode"]) for r in csv.DictReader(f)]
    arms = ["smollm2_warm_stated", "smollm2_single_stated", "smollm2_rlef_stated"]
    assert sorted(cells) == sorted((arm, mode) for arm in arms for mode in ("multi_turn", "single_turn"))
    assert "| model | mode | test 1@3 |" in md.read_text()
    nofb = run_sweep(tmp_path / "nofb", "experiment=no_feedback_rl_cpu", env=env, tiny=tiny)
    csv_path, md, _ = write(nofb, tmp_path / "results" / "no_feedback_rl")
    with csv_path.open() as f:
        rows = list(csv.DictReader(f))
    assert sorted({(r["model"], r["rollout.feedback"]) for r in rows}) == [
        ("smollm2_nofb_stated", "execution"), ("smollm2_nofb_stated", "none")]
    assert "| model | rollout.feedback | test 1@3 |" in md.read_text()


@pytest.mark.sandbox
@pytest.mark.slow
def test_the_table2_api_sweep_evaluates_a_served_model_into_table2s_layout(tmp_path):
    """The paper's GPT-4o rows: table2's jobs through a chat server (the scripted one of
    test_chat_api, on loopback), one row per served model name."""
    from test_chat_api import WRONG_REPLY, ScriptedServer

    solves_add = "```python\ndef add(x: int, y: int):\n    return x + y\n```"
    server = ScriptedServer(answer=lambda messages: solves_add if "def add" in messages[0]["content"] else WRONG_REPLY)
    try:
        sweep = run_sweep(tmp_path, "experiment=table2_api", "eval_set=humaneval_plus,mbpp_plus",
                          "model.name_or_path=fake", f"model.base_url={server.url}", "model.api_key_env=null",
                          env=evalplus_files(tmp_path),
                          tiny=["eval.rollouts_per_problem=1", "eval.bootstrap_resamples=20", "execution.workers=2"])
    finally:
        server.close()
    assert all(c["model"] == "fake" and c["temperature"] == 0.2 for c in server.chats)
    _, md, _ = write(sweep, tmp_path / "results" / "table2_api")
    lines = md.read_text().splitlines()
    header = ("| model.name_or_path | humaneval_plus single_turn | humaneval_plus multi_turn | mbpp_plus single_turn "
              "| mbpp_plus multi_turn |")
    assert header in lines and "experiment=table2_api" in md.read_text()
    cells = [c.strip() for c in lines[lines.index(header) + 2].split("|")[1:-1]]
    assert cells[0] == "fake" and [c.split()[0] for c in cells[1:]] == ["100.0", "100.0", "0.0", "0.0"]
