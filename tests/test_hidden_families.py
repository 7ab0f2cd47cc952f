"""rlef_hidden: statements that leave one output detail to the public tests."""
import gzip
import json
from collections import defaultdict
from difflib import SequenceMatcher

import pytest
from omegaconf import OmegaConf

from rlef.data import SHIPPED_HIDDEN, load_problems
from rlef.data.jsonl import load_jsonl
from rlef.data.mini import FAMILIES, HIDDEN_FAMILIES
from rlef.execution.types import Job, Limits
from rlef.tasks.build_mini import SHIPPED, build_rows, splits_of


@pytest.fixture(scope="module")
def rows():
    with gzip.open(SHIPPED_HIDDEN, "rt") as f:
        return [json.loads(line) for line in f]


def test_at_least_12_families_of_at_least_3_problems_each(rows):
    per_family = defaultdict(int)
    for r in rows:
        per_family[r["family"]] += r["split"] != "train_heldout"
    assert len(per_family) >= 12 and min(per_family.values()) >= 3
    assert set(per_family) == set(HIDDEN_FAMILIES) and not set(HIDDEN_FAMILIES) & set(FAMILIES)


def test_test_kinds_are_never_trained_on(rows):
    kinds = defaultdict(set)
    for fam in HIDDEN_FAMILIES.values():
        kinds[fam.split].add(fam.detail)
    assert kinds["test"] and not kinds["test"] & (kinds["train"] | kinds["valid"])
    assert {r["family"]: r["split"] for r in rows if r["split"] != "train_heldout"} == splits_of(HIDDEN_FAMILIES)


def test_statements_show_no_example_and_rows_name_their_option(rows):
    for r in rows:
        fam = HIDDEN_FAMILIES[r["family"]]
        assert "Example" not in r["description"], r["name"]
        detail = r["hidden_detail"]
        assert detail["kind"] == fam.detail and detail["option"] in fam.options
        assert set(detail["near_misses"]) == set(fam.options) - {detail["option"]}
        assert 0 < fam.single_turn_ceiling <= 0.5


def test_bundled_names_and_the_jsonl_loader_read_the_same_problems():
    hidden = load_problems(OmegaConf.create({"name": "rlef_hidden", "path": None}), "test")
    mini = load_problems(OmegaConf.create({"name": "rlef_mini", "path": None}), "test")
    mix = load_problems(OmegaConf.create({"name": "rlef_mix", "path": None}), "test")
    assert [p.id for p in mix] == [p.id for p in mini + hidden]
    assert load_jsonl(SHIPPED_HIDDEN, "test")[0] == hidden  # data=jsonl data.path=... reads the same schema
    assert load_jsonl(SHIPPED, "test")[0] == mini


@pytest.mark.sandbox
def test_generator_rebuilds_the_shipped_rows(rows, executor):
    names = sorted(HIDDEN_FAMILIES)[::4]
    assert build_rows(executor, names, families=HIDDEN_FAMILIES) == [r for r in rows if r["family"] in names]


@pytest.mark.sandbox
def test_public_tests_tell_the_options_apart(rows, executor):
    """Same family, same computation, another option: its solution must fail this problem's
    public tests, or the detail would not be readable from the feedback."""
    def story(r):
        return r["description"].split("Input")[0]
    pairs = [(a, b) for a in rows for b in rows if a["family"] == b["family"] and story(a) == story(b)
             and a["hidden_detail"]["option"] != b["hidden_detail"]["option"]]
    assert len(pairs) >= 20
    jobs = [Job(b["solutions"]["solution"][0], tuple(load_jsonl_tests(a)), Limits(time_s=2)) for a, b in pairs]
    passed = [(a["name"], b["name"]) for (a, b), r in zip(pairs, executor.run_batch(jobs)) if r.passed]
    assert passed == []


@pytest.mark.sandbox
def test_every_near_miss_fails_the_public_tests_and_differs_from_the_reference_only_in_its_option(rows, executor):
    """The near misses (the probe's constructed first turns) are the same program with another
    option: wrong on the public tests, so the feedback shows the expected detail."""
    pairs = [(r, code) for r in rows for code in r["hidden_detail"]["near_misses"].values()]
    for r, code in pairs:
        reference = r["solutions"]["solution"][0]
        assert code != reference and SequenceMatcher(None, code, reference).ratio() > 0.8, r["name"]
    jobs = [Job(code, tuple(load_jsonl_tests(r)), Limits(time_s=2)) for r, code in pairs]
    assert [r["name"] for (r, _), res in zip(pairs, executor.run_batch(jobs)) if res.passed] == []


def test_a_malformed_near_miss_field_is_a_row_error():
    from rlef.data.schema import problems_from_rows
    with gzip.open(SHIPPED_HIDDEN, "rt") as f:
        row = json.loads(f.readline())
    problems, _ = problems_from_rows([row], "train", "x", "rlef_mini")
    assert problems[0].near_misses == tuple(row["hidden_detail"]["near_misses"].values())
    row["hidden_detail"]["near_misses"] = {"a": 3}
    problems, report = problems_from_rows([row], "train", "x", "rlef_mini")
    assert not problems and "near_misses" in report.malformed[0]


def load_jsonl_tests(row):
    from rlef.data.problem import Test
    return [Test(i, o) for i, o in zip(row["public_tests"]["input"], row["public_tests"]["output"])]
