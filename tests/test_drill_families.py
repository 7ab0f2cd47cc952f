"""rlef_inferred: every option of every statement of the four inferred train kinds, for repair dialogues."""
import gzip
import json
from collections import defaultdict

import pytest

from rlef.data import SHIPPED_HIDDEN, SHIPPED_INFERRED
from rlef.data.mini import DRILL_FAMILIES, HIDDEN_FAMILIES
from rlef.data.mini.families_drill import INFERRED_KINDS, drill_name
from rlef.tasks.build_mini import build_rows

# The command of the shipped file (families_drill.py's docstring).
VARIANTS, HELDOUT = 16, 0


def _rows(path):
    with gzip.open(path, "rt") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def rows():
    return _rows(SHIPPED_INFERRED)


def test_drill_families_are_the_inferred_train_kinds_under_new_names():
    assert sorted(DRILL_FAMILIES) == sorted(map(drill_name, INFERRED_KINDS))
    for kind in INFERRED_KINDS:
        source, drill = HIDDEN_FAMILIES[kind], DRILL_FAMILIES[drill_name(kind)]
        assert source.split == "train" and drill.split == "train"
        assert (drill.detail, drill.options, drill.build) == (source.detail, source.options, source.build)
    assert {fam.detail for fam in DRILL_FAMILIES.values()} == {"inclusive or exclusive bound", "count header",
                                                               "order", "precision"}


def test_every_statement_comes_with_every_option(rows):
    """What the drill is for: a statement never predicts its fix, only the feedback can."""
    options = defaultdict(set)
    for r in rows:
        assert r["split"] == "train" and r["family"] in DRILL_FAMILIES
        options[(r["family"], r["description"])].add(r["hidden_detail"]["option"])
    for (family, _), seen in options.items():
        assert seen == set(DRILL_FAMILIES[family].options), family
    assert len(rows) == sum(len(seen) for seen in options.values()) == 54


def test_the_statements_are_rlef_hidden_train_statements_of_the_same_kinds(rows):
    hidden = {(r["family"], r["description"]) for r in _rows(SHIPPED_HIDDEN)
              if r["family"] in INFERRED_KINDS and r["split"] == "train"}
    kind_of = {drill_name(kind): kind for kind in INFERRED_KINDS}
    drill = {(kind_of[r["family"]], r["description"]) for r in rows}
    assert hidden <= drill
    assert not {r["name"] for r in rows} & {r["name"] for r in _rows(SHIPPED_HIDDEN)}


def test_rlef_inferred_copy_lists_the_drill_problems_first(bundled_ids):
    """feedback_warm_drill's slot arithmetic: repair_dialogues fills slots over the problems in this
    order, so 308 slots over 254 problems give the 54 drill problems two dialogues each."""
    load = bundled_ids
    assert load("rlef_inferred_copy", "train") == load("rlef_inferred", "train") + load("rlef_copy", "train")
    assert len(load("rlef_inferred", "train")) == 54


@pytest.mark.sandbox
def test_generator_rebuilds_the_shipped_rows(rows, executor):
    built = build_rows(executor, sorted(DRILL_FAMILIES), variants=VARIANTS, heldout=HELDOUT, families=DRILL_FAMILIES)
    assert built == rows


def test_a_drill_family_cannot_take_a_registered_name():
    from rlef.data.mini.registry import drill_family
    for taken in ("drill_bound_count", "hs_decorate_total"):
        with pytest.raises(ValueError, match="registered twice"):
            drill_family(HIDDEN_FAMILIES["hs_bound_count"], taken)
