"""rlef_copy: the train kinds of rlef_hidden with a fresh literal per problem."""
import gzip
import json
import random

import pytest
from omegaconf import OmegaConf

from rlef.data import SHIPPED_COPY, load_problems
from rlef.data.mini import COPY_FAMILIES, HIDDEN_FAMILIES
from rlef.data.mini.registry import _ForcedOption, copy_family
from rlef.data.problem import Test
from rlef.execution.types import Job, Limits
from rlef.tasks.build_mini import build_rows

# The command of the shipped file (tasks/build_mini.py's docstring): 40 problems and 8 held out per family.
VARIANTS, HELDOUT = 40, 8


@pytest.fixture(scope="module")
def rows():
    with gzip.open(SHIPPED_COPY, "rt") as f:
        return [json.loads(line) for line in f]


def test_rows_are_train_material_with_mostly_new_literals(rows):
    assert {r["split"] for r in rows} == {"train", "train_heldout"}
    train = [r for r in rows if r["split"] == "train"]
    assert len(train) == VARIANTS * len(COPY_FAMILIES)
    assert len({(r["family"], r["hidden_detail"]["option"]) for r in train}) >= len(train) / 2
    assert len(load_problems(OmegaConf.create({"name": "rlef_copy", "path": None}), "train")) == len(train)


def test_no_option_is_one_of_the_same_kind_in_rlef_hidden_nor_of_a_test_kind():
    test_options = {o for fam in HIDDEN_FAMILIES.values() if fam.split == "test" for o in fam.options}
    for fam in COPY_FAMILIES.values():
        (same_kind,) = [f for f in HIDDEN_FAMILIES.values() if f.detail == fam.detail]
        assert same_kind.split == "train"
        assert not set(fam.options) & (set(same_kind.options) | test_options), fam.name


def test_near_misses_are_the_plain_default_and_two_others_drawn(rows):
    for r in rows:
        fam, detail = COPY_FAMILIES[r["family"]], r["hidden_detail"]
        misses = set(detail["near_misses"])
        assert detail["option"] not in misses and misses <= set(fam.options)
        plain = detail["option"] == fam.options[0]
        assert (fam.options[0] in misses) != plain and len(misses) == 3 - plain, r["name"]


def test_a_copy_family_needs_many_distinct_options():
    with pytest.raises(ValueError, match="ten distinct"):
        copy_family("hc_bad", "string", "x", ("a", "b"), lambda rng: None)


@pytest.mark.sandbox
def test_generator_rebuilds_the_shipped_rows(rows, executor):
    names = sorted(COPY_FAMILIES)[::2]
    built = build_rows(executor, names, variants=VARIANTS, heldout=HELDOUT, families=COPY_FAMILIES)
    assert built == [r for r in rows if r["family"] in names]


@pytest.mark.sandbox
def test_the_public_tests_tell_every_option_of_the_pool_apart(rows, executor):
    """On one problem per family, the program for every other option of the whole pool fails the
    public tests: each literal is readable from the feedback, none is accepted by the checker."""
    jobs, names = [], []
    for name, fam in COPY_FAMILIES.items():
        row = next(r for r in rows if r["family"] == name)
        seed = f"0:{name}:{_attempt(fam, row)}"
        tests = tuple(Test(i, o) for i, o in zip(row["public_tests"]["input"], row["public_tests"]["output"]))
        for option in fam.options:
            if option != row["hidden_detail"]["option"]:
                jobs.append(Job(fam.build(_ForcedOption(seed, fam.options, option)).solution, tests, Limits(time_s=2)))
                names.append((name, option))
    assert len(jobs) > 150
    assert [n for n, res in zip(names, executor.run_batch(jobs)) if res.passed] == []


def _attempt(fam, row) -> int:
    """The build attempt that drew this row (build_mini seeds attempt k with '<seed>:<family>:<k>')."""
    for attempt in range(50):
        if fam.build(random.Random(f"0:{fam.name}:{attempt}")).solution == row["solutions"]["solution"][0]:
            return attempt
    raise AssertionError(f"{row['name']}: no attempt rebuilds it")


def test_rlef_hidden_copy_trains_on_both_and_validates_on_rlef_hidden(bundled_ids):
    load = bundled_ids
    assert load("rlef_hidden_copy", "train") == load("rlef_hidden", "train") + load("rlef_copy", "train")
    assert load("rlef_hidden_copy", "valid") == load("rlef_hidden", "valid")
    assert load("rlef_hidden_copy", "test") == load("rlef_hidden", "test")
