"""rlef_mini: our own CPU-scale benchmark of small competitive-programming problems.

Families of problems (a statement, a reference solution and an input generator, with
parameters drawn per problem) live in families_*.py; build_mini (task=build_mini) turns
them into the shipped rlef_mini.jsonl.gz, with expected outputs computed by running the
reference solutions through the sandboxed executor. families_hidden.py holds the hidden-spec
families (statements that leave one output detail to the public tests), shipped apart as
rlef_hidden.jsonl.gz; families_copy.py the copy families (the same kinds with a fresh literal per
problem), shipped as rlef_copy.jsonl.gz; families_stated.py the stated families (single-turn SFT
problems with the held-out kinds' computations, their detail stated), shipped as rlef_stated.jsonl.gz;
families_drill.py the drill families (the inferred train kinds, every option of every statement), shipped
as rlef_inferred.jsonl.gz.
"""
from rlef.data.mini.registry import (
    COPY_FAMILIES,
    DRILL_FAMILIES,
    FAMILIES,
    HIDDEN_FAMILIES,
    STATED_FAMILIES,
    Family,
    Variant,
    family,
    hidden_family,
    subset_of,
)

# Importing the modules registers their families (families_hidden: into HIDDEN_FAMILIES, families_copy:
# into COPY_FAMILIES, families_stated: into STATED_FAMILIES).
from rlef.data.mini import families_basic, families_copy, families_hidden, families_math, families_text  # noqa: F401  isort: skip
from rlef.data.mini import families_drill, families_stated  # noqa: F401  isort: skip

__all__ = ["COPY_FAMILIES", "DRILL_FAMILIES", "FAMILIES", "HIDDEN_FAMILIES", "STATED_FAMILIES", "Family", "Variant",
           "family", "hidden_family", "subset_of"]
