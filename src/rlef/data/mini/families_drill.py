"""Drill families: the four train kinds of rlef_hidden whose option is no literal to copy (the
bounds, the precision and the order are inferred from numbers; the count header is where a line
goes), with every (statement, option) pair of each family once.

A hidden-spec statement does not depend on its option, so here every statement comes with all
of its options, each the fix of some repair dialogue: the statement cannot predict the fix, only
the feedback's expected output can. Material for repair dialogues only
(sft.repair_benchmark=rlef_inferred_copy): never RL problems, never a test. The families are
rlef_hidden's builds under new names, so their problems (and inputs) are new, and rlef_hidden's
files stay byte-identical. RL from the stated warm start recovered 1 of 104 failed first turns
of these kinds in training (experiments/feedback_use.md, section 21), 5 of 114 with 31 dialogues
on rlef_hidden's own problems (section 22).

Shipped as rlef_inferred.jsonl.gz:
    python src/run.py task=build_mini build_mini.benchmark=rlef_inferred build_mini.variants=16 build_mini.heldout=0
"""
from __future__ import annotations

from rlef.data.mini import families_hidden  # noqa: F401  registers HIDDEN_FAMILIES, read below
from rlef.data.mini.registry import HIDDEN_FAMILIES, drill_family

INFERRED_KINDS = ("hs_bound_count", "hs_count_header", "hs_order_filter", "hs_precision_mean")


def drill_name(kind: str) -> str:
    """The drill family of rlef_hidden's family `kind`: hs_bound_count -> drill_bound_count."""
    return "drill_" + kind.removeprefix("hs_")


for _kind in INFERRED_KINDS:
    drill_family(HIDDEN_FAMILIES[_kind], drill_name(_kind))
