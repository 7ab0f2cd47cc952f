"""task=eval end to end on tiny_random: every output file, every episode traced."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from rlef.data.jsonl import load_jsonl
from rlef.evaluation import turn_analysis
from rlef.feedback import first_prompt, no_code_prompt
from rlef.models import load_tokenizer
from rlef.rollout import ChatFormat

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.sandbox
@pytest.mark.slow
def test_eval_writes_metrics_results_and_every_episode(tmp_path):
    command = [sys.executable, str(ROOT / "src/run.py"), "experiment=smoke", "model=tiny_random",
               "eval.max_problems=2", "eval.rollouts_per_problem=2", "rollout.max_new_tokens=8",
               "execution.workers=2", f"hydra.run.dir={tmp_path}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    modes = {r["mode"]: r for r in metrics["results"]}
    assert set(modes) == {"multi_turn", "single_turn"}
    assert modes["multi_turn"]["metric"] == "1@3" and modes["multi_turn"]["problems"] == 2
    assert 0.0 <= modes["multi_turn"]["solve_rate_ci_low"] <= modes["multi_turn"]["solve_rate_ci_high"] <= 1.0
    assert "error_types_per_turn" in modes["multi_turn"]["analysis"]
    samples = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    assert len([s for s in samples if s["mode"] == "multi_turn"]) == 2 * 2
    assert len([s for s in samples if s["mode"] == "single_turn"]) == 2 * 2 * 3  # equal sample budget
    assert all(len(s["turns"]) == 1 for s in samples if s["mode"] == "single_turn")
    # Fig. 3 and 4 in metrics.json are what rlef.analysis.turns reads from samples.jsonl
    multi = [s for s in samples if s["mode"] == "multi_turn"]
    assert modes["multi_turn"]["analysis"] == json.loads(json.dumps(turn_analysis(multi)))
    with (tmp_path / "results.csv").open() as f:
        assert [row["mode"] for row in csv.DictReader(f)] == ["multi_turn", "single_turn"]
    assert (tmp_path / "per_family.csv").exists() and (tmp_path / "run_info.json").exists()
    assert f"python -m rlef.viewer {tmp_path}" in (tmp_path / "run.log").read_text()


@pytest.mark.sandbox
@pytest.mark.slow
def test_our_own_model_ends_an_episode_whose_dialogue_outgrows_its_context_and_the_eval_goes_on(tmp_path):
    """model.kind=tiny_random with a context that fits the long problem's first turn, not its second: that
    episode ends on an overflowed turn 2, recorded and counted as for a chat server; the short one goes on."""
    rows = [{"name": name, "description": text, "public_tests": {"input": ["1 2\n"], "output": ["3\n"]},
             "private_tests": {"input": ["5 5\n"], "output": ["10\n"]}}
            for name, text in (("short", "Print a+b."), ("long", "Print a+b. " + "Read the input carefully. " * 60))]
    (tmp_path / "problems.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    problems = {p.id: p for p in load_jsonl(tmp_path / "problems.jsonl")[0]}
    chat = ChatFormat(load_tokenizer(OmegaConf.create({"kind": "tiny_random"})))
    long = len(chat.first(first_prompt(problems["long"])))
    length = long + len(chat.next_user(no_code_prompt(), response_stopped=False)) + 8  # a reply of >= 1 token overflows
    run = tmp_path / "run"
    command = [sys.executable, str(ROOT / "src/run.py"), "task=eval", "model=tiny_random",
               f"model.max_position_embeddings={length}", "data=jsonl", f"data.path={tmp_path / 'problems.jsonl'}",
               "eval.rollouts_per_problem=1", "eval.single_turn_baseline=false", "eval.bootstrap_resamples=10",
               "rollout.max_new_tokens=8", "execution.workers=1", f"hydra.run.dir={run}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    [row] = json.loads((run / "metrics.json").read_text())["results"]
    assert row["context_overflows"] == 1 and row["infra_errors"] == 0 and row["episodes"] == 2
    episodes = {s["problem"]: s for s in map(json.loads, (run / "samples.jsonl").read_text().splitlines())}
    cut, ok = episodes["long"]["turns"], episodes["short"]["turns"]
    assert len(cut) == 2 and "context_overflow" not in cut[0] and cut[1]["response"] == "" and cut[1]["code"] is None
    assert f"context length of {length}" in cut[1]["context_overflow"]
    assert len(ok) == 3 and not any("context_overflow" in t for t in ok)


def test_a_missing_model_directory_is_named_in_one_clear_error(tmp_path):
    """eval of a run's policy_best before its first validation: the path, not a hub error."""
    missing = tmp_path / "run" / "policy_best"
    command = [sys.executable, str(ROOT / "src/run.py"), "experiment=smoke", "model.kind=hf",
               f"model.name_or_path={missing}", f"hydra.run.dir={tmp_path / 'eval'}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode != 0
    assert f"model.name_or_path={missing}: no such directory" in out.stderr
    assert "Repo id" not in out.stderr


def test_a_directory_given_to_the_embedded_gguf_model_is_refused_not_replaced_by_the_base_model(tmp_path):
    """model.kind=smollm2_gguf ignores name_or_path: a checkpoint there would be evaluated as the base."""
    from omegaconf import OmegaConf

    from rlef.errors import BadInput
    from rlef.models import load_model, load_tokenizer

    cfg = OmegaConf.create({"kind": "smollm2_gguf", "name_or_path": str(tmp_path), "dtype": "float32", "attn": "sdpa"})
    for load in (load_tokenizer, lambda c: load_model(c, None)):
        with pytest.raises(BadInput, match=f"name_or_path={tmp_path} is a local path.*set model.kind=hf"):
            load(cfg)


def test_hub_ids_and_existing_directories_pass_through(tmp_path):
    from rlef.models import hf_source

    assert hf_source("meta-llama/Llama-3.1-8B-Instruct") == "meta-llama/Llama-3.1-8B-Instruct"
    assert hf_source(str(tmp_path)) == str(tmp_path)


def test_an_unusable_problem_file_stops_in_one_line_before_anything_loads(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"name": "a", "description": "x", "public_tests": {"input": ["1\\n"], "output": ["1\\n"]}}\n'
                   "not json\n")
    command = [sys.executable, str(ROOT / "src/run.py"), "task=eval", "data=jsonl", f"data.path={bad}",
               f"hydra.run.dir={tmp_path / 'eval'}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    line = out.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: {bad}: no usable test problem in 2 rows")
    assert f"{bad}:2: not JSON" in line and f"{bad}:1: no public or no private tests" in line
    assert "executor" not in out.stderr and "sandbox" not in out.stderr  # nothing started


def test_table3_and_b3_baselines_are_refused_together_and_on_a_chat_server_before_anything_starts():
    from omegaconf import OmegaConf

    from rlef.errors import BadInput
    from rlef.tasks.evaluate import check_baselines

    def cfg(**eval_overrides):
        return OmegaConf.create({"eval": {"few_shot_repairs": 0, "repair_model": None, "single_turn_samples": None,
                                          "sample_budget": 3, **eval_overrides},
                                 "model": {"kind": "hf"}, "rollout": {"engine": "hf"}})

    check_baselines(cfg(repair_model="/some/model"))
    tiny = cfg(repair_model="/some/model")
    tiny.model.kind = "tiny_random"
    check_baselines(tiny)
    with pytest.raises(BadInput, match="two baselines"):
        check_baselines(cfg(few_shot_repairs=2, repair_model="/some/model"))
    chat = cfg(repair_model="/some/model")
    chat.model.kind = "openai"
    with pytest.raises(BadInput, match="our own HF decoder"):
        check_baselines(chat)
    engine = cfg(repair_model="/some/model")
    engine.rollout.engine = "vllm"
    with pytest.raises(BadInput, match="our own HF decoder"):
        check_baselines(engine)


def test_the_single_turn_pool_is_the_same_budget_unless_set_and_never_below_k():
    from rlef.errors import BadInput
    from rlef.tasks.evaluate import check_baselines, eval_modes

    def cfg(pool, baseline=True, turns=3):
        return OmegaConf.create({"eval": {"few_shot_repairs": 0, "repair_model": None, "rollouts_per_problem": 8,
                                          "single_turn_baseline": baseline, "single_turn_samples": pool,
                                          "sample_budget": 3},
                                 "model": {"kind": "hf"}, "rollout": {"engine": "hf", "max_turns": turns}})

    assert eval_modes(cfg(None)) == [("multi_turn", 3, 8), ("single_turn", 1, 24)]
    assert eval_modes(cfg(8)) == [("multi_turn", 3, 8), ("single_turn", 1, 8)]
    assert eval_modes(cfg(8, baseline=False)) == [("multi_turn", 3, 8)]
    assert eval_modes(cfg(None, turns=1)) == [("multi_turn", 1, 8)]  # one turn: the baseline is the run itself
    with pytest.raises(BadInput, match="single_turn_samples=2 is below the sample budget k=3"):
        check_baselines(cfg(2))
