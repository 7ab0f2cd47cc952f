"""The feedback-use probe: bank construction, contexts, statistics and teacher-forced log-probs."""
import json

import pytest
import torch
from omegaconf import OmegaConf

from rlef.data.problem import Problem, Test
from rlef.execution.types import ExecutionResult, TestResult, Verdict
from rlef.feedback import first_prompt
from rlef.models import load_tokenizer, tiny_random_llama
from rlef.probe import CONDITIONS, BankItem, bank_from_episodes, context, reply_logprobs, statement_sha, summarize
from rlef.rollout import NO_FEEDBACK_PROMPT, ChatFormat, Episode, Turn
from rlef.tasks.probe import check_contexts, check_settings, read_bank


def problem(pid, family):
    return Problem(pid, "rlef_mini", f"statement {pid}", (Test("1\n", "2\n"),), (Test("3\n", "4\n"),),
                   family=family, reference_solution="print(int(input()) + 1)\n")


def failed_episode(p, code, observed="9\n"):
    result = ExecutionResult((TestResult(Verdict.WRONG_OUTPUT, "1\n", "2\n", observed),))
    return Episode(p, [1], [False], [Turn(1, [5, 6], [0.0, 0.0], True, f"```python\n{code}```", code, result)])


def test_bank_keeps_failed_first_turns_and_takes_random_feedback_from_another_family():
    a, b, c = problem("a/00", "fa"), problem("b/00", "fb"), problem("a/01", "fa")
    passed = failed_episode(a, "print(2)\n")
    passed.turns[0].public = ExecutionResult((TestResult(Verdict.PASSED, "1\n", "2\n", "2\n"),))
    episodes = [passed, failed_episode(a, "print(9)\n"), failed_episode(a, "print(8)\n", "8\n"),
                failed_episode(b, "print(7)\n", "7\n"), failed_episode(c, "print(9)\n")]
    items = bank_from_episodes(episodes, per_problem=1)
    assert [(i.problem, i.code) for i in items] == [("a/00", "print(9)\n"), ("b/00", "print(7)\n"),
                                                    ("a/01", "print(9)\n")]
    assert all("but got `9`" in i.true_feedback or "but got `7`" in i.true_feedback for i in items)
    # another family wherever one exists: b/00 is fb's only problem, fa has two
    assert items[0].random_source == items[2].random_source == "b/00" and items[1].random_source in ("a/00", "a/01")
    assert "but got `7`" in items[0].random_feedback and items[0].user_text("none") == NO_FEEDBACK_PROMPT


def test_the_three_contexts_differ_only_in_the_second_user_turn():
    tokenizer = load_tokenizer(OmegaConf.create({"kind": "smollm2_gguf"}))
    chat, p = ChatFormat(tokenizer), problem("a/00", "fa")
    item = BankItem(0, p.id, p.family, "r", tokenizer.encode("```python\nprint(9)\n```") + [tokenizer.eos_token_id],
                    True, "print(9)\n", "TRUE FEEDBACK", "RANDOM FEEDBACK", "b/00")
    head = chat.first(first_prompt(p)) + item.response_ids
    ids = {c: context(item, p, chat, c) for c in CONDITIONS}
    assert all(x[: len(head)] == head for x in ids.values())
    texts = {c: tokenizer.decode(x[len(head):]) for c, x in ids.items()}
    assert "TRUE FEEDBACK" in texts["true"] and "RANDOM FEEDBACK" in texts["random"]
    assert NO_FEEDBACK_PROMPT in texts["none"] and "FEEDBACK" not in texts["none"]


def test_summary_pairs_conditions_per_item():
    rows = [{"temperature": 1.0, "item": i, "family": f"f{i % 3}", "subset": "hidden", "condition": c,
             "success_rate": {"true": 0.5, "random": 0.25, "none": 0.0}[c] + (i % 2) * 0.1,
             "ref_logprob_per_token": -1.0} for i in range(12) for c in CONDITIONS]
    summary = {(s["subset"], s["metric"], s["condition"]): s for s in summarize(rows, resamples=200)}
    gap = summary[("hidden", "success_rate", "true_minus_random")]
    assert gap["value"] == pytest.approx(0.25) and gap["ci_low"] == pytest.approx(0.25)  # paired: no noise left
    assert summary[("all", "success_rate", "true_minus_none")]["value"] == pytest.approx(0.5)
    assert gap["families"] == 3 and gap["items"] == 12 and ("regular", "success_rate", "true") not in summary


def test_teacher_forced_logprob_is_the_sum_over_reply_tokens():
    model = tiny_random_llama(64).eval()
    ctx, reply = [1, 5, 7, 9], [11, 13, 2]
    (total, count), (short_total, _) = reply_logprobs(model, [(ctx, reply), (ctx[:2], reply)], pad_id=0)
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([ctx + reply])).logits[0].float(), -1)
    expected = sum(logp[len(ctx) - 1 + k, t].item() for k, t in enumerate(reply))
    assert count == 3 and total == pytest.approx(expected, abs=1e-4) and short_total != pytest.approx(total)


def test_bad_settings_and_a_bank_from_other_data_fail_in_one_line(tmp_path):
    good = {"samples": 1, "bank_rollouts": 1, "per_problem": 1, "temperatures": [1.0], "first_turns": "model"}
    for bad, message in [({"samples": 0}, "probe.samples"), ({"temperatures": []}, "temperatures"),
                         ({"first_turns": "warm"}, "first_turns")]:
        with pytest.raises(ValueError, match=message):
            check_settings(OmegaConf.create({**good, **bad}))
    bank = tmp_path / "bank.jsonl"
    bank.write_text(json.dumps({"item": 0, "problem": "gone/00", "family": "gone", "response": "", "response_ids": [],
                                "stopped": True, "code": "", "true_feedback": "", "random_feedback": "",
                                "random_source": ""}) + "\n")
    with pytest.raises(ValueError, match="not in the data"):
        read_bank(bank, {"a/00": problem("a/00", "fa")})


@pytest.mark.sandbox
def test_near_miss_bank_turns_each_other_option_into_a_first_turn_with_its_real_feedback(executor):
    from rlef.data import load_problems
    from rlef.execution.types import Limits
    from rlef.probe import near_miss_bank

    tokenizer = load_tokenizer(OmegaConf.create({"kind": "smollm2_gguf"}))
    test = load_problems(OmegaConf.create({"name": "rlef_hidden", "path": None}), "test")
    chosen = [next(p for p in test if p.family == f) for f in ("hs_yesno_number", "hs_index_list")]
    items = near_miss_bank(chosen + [problem("a/00", "fa")], executor, Limits(time_s=2), tokenizer, per_problem=2)
    assert [i.problem for i in items] == [chosen[0].id] * 2 + [chosen[1].id]  # 0/1-based: one other option
    for item in items:
        p = next(q for q in chosen if q.id == item.problem)
        assert item.code in p.near_misses and item.stopped and item.response_ids[-1] == tokenizer.eos_token_id
        assert item.code.strip() in item.response and "Expected" in item.true_feedback
        assert item.random_source != item.problem and item.statement_sha == statement_sha(p)
    assert items[0].code != items[1].code


def test_a_bank_context_with_no_room_for_a_reply_fails_in_one_line_before_sampling():
    from rlef.errors import BadInput

    items = [BankItem(i, f"p{i}", "f", "", [1], True, "print(0)\n", "t", "r", "q", "sha") for i in range(2)]
    work = [(items[0], None, [0] * 10), (items[1], None, [0] * 50)]
    check_contexts(work, 8, None)  # a backend that does not know its length samples everything
    check_contexts(work, 8, 58)  # 50 + 8 fits exactly
    with pytest.raises(BadInput, match=r"1 of 2 probe contexts .* item 1, context overflow: a prompt of 50 tokens"):
        check_contexts(work, 8, 57)


@pytest.mark.sandbox
@pytest.mark.slow
def test_probe_task_end_to_end_on_a_small_bank(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from rlef.data import load_problems
    from rlef.probe import item_record

    root = Path(__file__).resolve().parents[1]
    tokenizer = load_tokenizer(OmegaConf.create({"kind": "smollm2_gguf"}))
    hidden = load_problems(OmegaConf.create({"name": "rlef_mix", "path": None}), "test")[-2:]
    reply = tokenizer.encode("```python\nprint(0)\n```", add_special_tokens=False) + [tokenizer.eos_token_id]
    items = [BankItem(i, p.id, p.family, "", reply, True, "print(0)\n", f"feedback {i}", f"random {i}",
                      hidden[1 - i].id, statement_sha(p)) for i, p in enumerate(hidden)]
    bank = tmp_path / "bank.jsonl"
    bank.write_text("".join(json.dumps(item_record(i)) + "\n" for i in items))
    run = tmp_path / "run"
    command = [sys.executable, str(root / "src/run.py"), "experiment=feedback_probe", "model.kind=tiny_random",
               "model.name_or_path=tiny_random",
               f"probe.bank={bank}", "probe.samples=2", "rollout.max_new_tokens=8", "execution.workers=2",
               "probe.resamples=50", f"hydra.run.dir={run}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=root)
    assert out.returncode == 0, out.stderr[-3000:]
    import csv
    rows = list(csv.DictReader((run / "probe.csv").open()))
    assert len(rows) == 2 * 3 * 2 and {r["condition"] for r in rows} == set(CONDITIONS)
    assert all(int(r["samples"]) == 2 and float(r["ref_logprob"]) < 0 for r in rows)
    summary = list(csv.DictReader((run / "probe_summary.csv").open()))
    assert {(s["subset"], s["condition"]) for s in summary} >= {("hidden", "true_minus_random"), ("all", "none")}
    assert (run / "probe_bank.jsonl").read_text() == bank.read_text()


@pytest.mark.sandbox
@pytest.mark.slow
def test_near_miss_probe_builds_its_bank_when_missing(tmp_path):
    import csv
    import subprocess
    import sys
    from pathlib import Path

    root, bank, run = Path(__file__).resolve().parents[1], tmp_path / "near_miss.jsonl", tmp_path / "run"
    command = [sys.executable, str(root / "src/run.py"), "experiment=feedback_probe_near_miss",
               "model.kind=tiny_random", "model.name_or_path=tiny_random", f"probe.bank={bank}",
               "probe.max_problems=2", "probe.samples=1", "rollout.max_new_tokens=8", "probe.resamples=50",
               f"hydra.run.dir={run}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=root)
    assert out.returncode == 0, out.stderr[-3000:]
    items = [json.loads(line) for line in bank.read_text().splitlines()]
    assert len(items) >= 2 and all(i["family"].startswith("hs_") and "Expected" in i["true_feedback"] for i in items)
    rows = list(csv.DictReader((run / "probe.csv").open()))
    assert len(rows) == len(items) * 3 and {r["subset"] for r in rows} == {"hidden"}
    turns = [json.loads(line) for line in (run / "second_turns.jsonl").read_text().splitlines()]
    assert len(turns) == len(rows) and {t["condition"] for t in turns} == {"true", "random", "none"}
    assert all(set(t) >= {"item", "code", "passed", "sample"} for t in turns)


def test_copy_and_drill_families_are_hidden_spec_and_rlef_mini_families_regular():
    from rlef.data.mini import COPY_FAMILIES, DRILL_FAMILIES, FAMILIES, HIDDEN_FAMILIES, subset_of
    assert {subset_of(f) for f in (*HIDDEN_FAMILIES, *COPY_FAMILIES, *DRILL_FAMILIES)} == {"hidden"}
    assert {subset_of(f) for f in FAMILIES} == {"regular"}
