"""The shipped rlef_mini benchmark: its shape, its splits, and that the generator rebuilds it."""
import gzip
import json
from collections import defaultdict

import pytest

from rlef.data.jsonl import load_jsonl
from rlef.data.mini import FAMILIES
from rlef.execution.types import Job, Limits
from rlef.tasks.build_mini import SHIPPED, build_rows, family_splits


@pytest.fixture(scope="module")
def shipped():
    problems, report = load_jsonl(SHIPPED)
    assert report.malformed == []
    return problems


def test_at_least_300_problems_from_at_least_40_families(shipped):
    assert len(shipped) >= 300
    assert len({p.family for p in shipped}) >= 40


def test_splits_are_disjoint_by_family(shipped):
    splits_of = defaultdict(set)
    for p in shipped:
        splits_of[p.family].add(p.split)
    assert {frozenset(s) for s in splits_of.values()} == {
        frozenset({"train"}), frozenset({"train", "train_heldout"}), frozenset({"valid"}), frozenset({"test"})}


def test_train_heldout_problems_are_new_problems_of_train_families(shipped):
    train = [p for p in shipped if p.split == "train"]
    heldout = [p for p in shipped if p.split == "train_heldout"]
    assert len(heldout) >= 40 and len({p.family for p in heldout}) >= 10
    assert {p.family for p in heldout} <= {p.family for p in train}
    seen = {(p.description.split("Input")[0], p.reference_solution) for p in train}
    assert all((p.description.split("Input")[0], p.reference_solution) not in seen for p in heldout)
    assert all(p.id.split("/")[1].startswith("h") for p in heldout)


def test_test_split_spans_every_category_and_difficulty(shipped):
    test = [p for p in shipped if p.split == "test"]
    assert {p.tags[0] for p in test} == {f.category for f in FAMILIES.values()}
    assert len({p.difficulty for p in test}) >= 2


def test_every_problem_has_one_or_two_public_and_ten_private_tests(shipped):
    for p in shipped:
        assert 1 <= len(p.public_tests) <= 2 and len(p.private_tests) >= 10, p.id
        assert p.public_tests[0].stdin.rstrip("\n") in p.description  # examples are in the statement


def test_shipped_families_are_the_registered_ones(shipped):
    assert {p.family for p in shipped} == set(FAMILIES)
    assert {p.family: p.split for p in shipped if p.split != "train_heldout"} == family_splits(FAMILIES)


@pytest.mark.sandbox
def test_generator_rebuilds_the_shipped_rows(executor):
    with gzip.open(SHIPPED, "rt") as f:
        rows = [json.loads(line) for line in f]
    names = sorted(FAMILIES)[::9]  # a spread of families keeps this fast
    rebuilt = build_rows(executor, names)
    assert rebuilt == [r for r in rows if r["family"] in names]


@pytest.mark.sandbox
@pytest.mark.slow
def test_reference_solutions_pass_all_their_tests(shipped, executor):
    jobs = [Job(p.reference_solution, p.public_tests + p.private_tests, Limits(time_s=p.time_limit_s))
            for p in shipped]
    failed = [p.id for p, r in zip(shipped, executor.run_batch(jobs)) if not r.passed]
    assert failed == []
