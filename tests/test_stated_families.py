"""rlef_stated: the held-out kinds' computations with their detail stated, and plain-default anchors."""
import gzip
import json
import random

import pytest
from omegaconf import OmegaConf

from rlef.data import SHIPPED_STATED, load_problems
from rlef.data.mini import HIDDEN_FAMILIES, STATED_FAMILIES
from rlef.data.mini.families_hidden import OPEN_DETAIL_NOTE
from rlef.data.mini.families_stated import stated, stated_phrase
from rlef.data.mini.registry import Variant
from rlef.tasks.build_mini import build_rows

# The command of the shipped file (tasks/build_mini.py's docstring): up to 12 problems per family.
VARIANTS = 12
TEST_FAMILIES = {name: fam for name, fam in HIDDEN_FAMILIES.items() if fam.split == "test"}


@pytest.fixture(scope="module")
def rows():
    with gzip.open(SHIPPED_STATED, "rt") as f:
        return [json.loads(line) for line in f]


def test_one_stated_family_per_test_family_and_one_anchor_per_plain_default_kind():
    stated_names = {n for n in STATED_FAMILIES if n.startswith("st_")}
    assert stated_names == {"st_" + n.removeprefix("hs_") for n in TEST_FAMILIES}
    anchors = {n.removeprefix("sp_") for n in STATED_FAMILIES if n.startswith("sp_")}
    assert anchors == {"decorate_total", "separator_list", "prefix_lines", "unit_suffix", "word_quote"}
    assert all(fam.split == "train" and not fam.detail and not fam.examples for fam in STATED_FAMILIES.values())


def test_stated_problems_state_the_detail_and_keep_the_test_familys_computation():
    for name, fam in TEST_FAMILIES.items():
        for attempt in range(5):
            seed = f"0:{name}:{attempt}"
            open_variant, variant = fam.build(random.Random(seed)), STATED_FAMILIES["st_" + name[3:]].build(
                random.Random(seed))
            assert variant.solution == open_variant.solution and variant.legend == open_variant.legend
            assert OPEN_DETAIL_NOTE not in variant.output_spec and "judge" not in variant.output_spec
            assert stated_phrase(open_variant.detail_option) in variant.output_spec


def test_the_stated_phrase_of_every_test_option_tells_it():
    phrases = {o: stated_phrase(o) for fam in TEST_FAMILIES.values() for o in fam.options}
    assert len(set(phrases.values())) == len(phrases)
    assert phrases["1-based"].startswith("counted from 1")
    assert phrases["OK/FAIL"] == "written OK for yes and FAIL for no"


def test_stated_refuses_a_statement_that_leaves_nothing_open():
    def closed(rng):
        return Variant("t", "l", "i", "Print it.", "print(1)\n", lambda r: "\n", detail_option="up")
    with pytest.raises(ValueError, match="no longer leaves the rounding direction open"):
        stated(closed, "rounding direction", random.Random(0))


def test_shipped_rows_show_no_example_and_anchors_print_the_plain_default(rows, bundled_ids):
    assert {r["split"] for r in rows} == {"train"} and "hidden_detail" not in rows[0]
    assert len(rows) == len(bundled_ids("rlef_stated", "train")) >= 100
    for r in rows:
        assert "Example" not in r["description"], r["name"]
        assert (OPEN_DETAIL_NOTE in r["description"]) == r["family"].startswith("sp_"), r["name"]
    for r in [r for r in rows if r["family"] == "sp_decorate_total"]:
        assert all(out.strip().isdigit() for out in r["public_tests"]["output"]), r["name"]
    for r in [r for r in rows if r["family"] == "sp_separator_list"]:
        assert all(set(out.strip()) <= set("0123456789 ") for out in r["public_tests"]["output"]), r["name"]


def test_rlef_mix_stated_adds_train_problems_only(bundled_ids):
    load = bundled_ids
    assert load("rlef_mix_stated", "train") == load("rlef_mix", "train") + load("rlef_stated", "train")
    for split in ("valid", "test", "train_heldout"):
        assert load("rlef_mix_stated", split) == load("rlef_mix", split)


def test_no_stated_statement_is_a_held_out_problems_statement(rows):
    held_out = {p.description for p in load_problems(OmegaConf.create({"name": "rlef_hidden", "path": None}), "test")}
    assert not held_out & {r["description"] for r in rows}


@pytest.mark.sandbox
def test_generator_rebuilds_the_shipped_rows(rows, executor):
    names = sorted(STATED_FAMILIES)[::3]
    built = build_rows(executor, names, variants=VARIANTS, heldout=0, families=STATED_FAMILIES)
    assert built == [r for r in rows if r["family"] in names]
