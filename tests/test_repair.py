"""Repair dialogues for the warm start: a real wrong reply, its real feedback, loss on the fix only."""
import difflib
import random

import pytest
from omegaconf import OmegaConf

from rlef.data import load_problems
from rlef.execution.types import Limits
from rlef.feedback import FEEDBACK_HEADER, first_prompt
from rlef.models import load_tokenizer
from rlef.repair import perturbed, repair_dialogues, wrong_candidates
from rlef.rollout import ChatFormat
from rlef.sft import answer_tokens, repair_count, repair_example
from rlef.tasks.sft import check_repair_settings, repair_problems


def test_perturbation_moves_exactly_one_integer_literal():
    code = "a = int(input())\nprint(a * 3 + 10)\n"
    out = perturbed(code, random.Random(0))
    assert out != code and len(out.splitlines()) == 2
    assert sum(x != y for x, y in zip(code.split(), out.split())) == 1
    assert perturbed("print(input())\n", random.Random(0)) is None


def test_repair_count_makes_the_share_and_rejects_a_bad_one():
    assert repair_count(80, 0.2) == 20 and repair_count(80, 0.0) == 0
    with pytest.raises(ValueError, match="repair_share"):
        repair_count(80, 1.0)


@pytest.mark.sandbox
def test_dialogues_hold_failing_code_its_real_feedback_and_the_loss_on_the_reference(executor):
    problems = load_problems(OmegaConf.create({"name": "rlef_mix", "path": None}), "train")[::7]
    dialogues = repair_dialogues(problems, 30, executor, Limits(time_s=2))
    assert len(dialogues) >= 15  # a sparse subset: few siblings, and a moved literal can still pass
    for d in dialogues:
        assert d.feedback.startswith(FEEDBACK_HEADER) and d.wrong_code != d.problem.reference_solution
    tokenizer = load_tokenizer(OmegaConf.create({"kind": "smollm2_gguf"}))
    ids, mask = repair_example(dialogues[0], ChatFormat(tokenizer), tokenizer)
    target = answer_tokens(dialogues[0].problem.reference_solution, tokenizer)
    assert [t for t, m in zip(ids, mask) if m] == target and ids[-len(target):] == target
    assert dialogues[0].feedback in tokenizer.decode(ids)


def test_repair_benchmark_picks_the_dialogue_problems_and_a_bad_name_fails():
    cfg = OmegaConf.create({"sft": {"repair_share": 0.4, "repair_benchmark": "rlef_hidden", "split": "train"}})
    check_repair_settings(cfg.sft)
    sources = repair_problems(cfg, [])
    assert sources and all(p.family.startswith("hs_") for p in sources)
    cfg.sft.repair_benchmark = None
    mine = load_problems(OmegaConf.create({"name": "rlef_mini"}), "train")[:3]
    assert repair_problems(cfg, mine) == mine
    cfg.sft.repair_benchmark = "rlef_hiden"
    with pytest.raises(ValueError, match="sft.repair_benchmark"):
        check_repair_settings(cfg.sft)


def test_wrong_candidates_come_from_the_closest_siblings():
    family = [p for p in load_problems(OmegaConf.create({"name": "rlef_hidden"}), "train")
              if p.family == "hs_decorate_total"]
    target = family[0]
    closeness = {s.reference_solution: difflib.SequenceMatcher(None, s.reference_solution,
                                                               target.reference_solution).ratio()
                 for s in family[1:] if s.reference_solution != target.reference_solution}
    closest = sorted(closeness, key=closeness.get, reverse=True)[:3]
    for seed in range(5):
        siblings = [c for c in wrong_candidates(target, family, random.Random(seed)) if c in closeness]
        assert siblings and set(siblings) <= set(closest)


@pytest.mark.sandbox
def test_copy_dialogues_show_the_fresh_literal_in_the_feedback_only(executor):
    """rlef_copy (sft.repair_benchmark=rlef_copy): the literal the fix prints is in the feedback's
    expected output, so the fix can copy it from there."""
    from rlef.data.mini import COPY_FAMILIES
    problems = load_problems(OmegaConf.create({"name": "rlef_copy", "path": None}), "train")[::8]
    dialogues = repair_dialogues(problems, len(problems), executor, Limits(time_s=2))
    assert len(dialogues) >= len(problems) - 2
    options = {p.id: o for fam in COPY_FAMILIES.values() for p in problems if p.family == fam.name
               for o in fam.options if p.reference_solution.count(repr(o)) and o}
    shown = [d for d in dialogues if d.problem.id in options]
    assert len(shown) >= len(dialogues) // 2
    for d in shown:
        literal = options[d.problem.id].format(i=1).strip()
        assert literal in d.feedback.split("but got")[0], (d.problem.id, literal, d.feedback)


@pytest.mark.sandbox
def test_few_shot_examples_are_repair_dialogues_on_train_problems_never_an_evaluated_one(executor):
    """eval.few_shot_repairs (paper Table 3): the examples would show an evaluated problem's solution."""
    from rlef.repair import few_shot_messages

    data = OmegaConf.create({"name": "rlef_mini", "path": None})
    train = load_problems(data, "train")
    evaluated = train[:150]  # as if these were evaluated: none of them may be an example
    messages = few_shot_messages(train, evaluated, 2, executor, Limits(time_s=2))
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"] * 2
    examples = {m["content"] for m in messages[::4]}
    assert not examples & {first_prompt(p) for p in evaluated}
    assert examples <= {first_prompt(p) for p in train}
    assert all(m["content"].startswith(FEEDBACK_HEADER) for m in messages[2::4])
    with pytest.raises(ValueError, match="few_shot_repairs=2"):
        few_shot_messages(train, train, 2, executor, Limits(time_s=2))
