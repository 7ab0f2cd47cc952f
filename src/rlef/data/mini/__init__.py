"""rlef_mini: our own CPU-scale benchmark of small competitive-programming problems.

Families of problems (a statement, a reference solution and an input generator, with
parameters drawn per problem) live in families_*.py; build_mini (task=build_mini) turns
them into the shipped rlef_mini.jsonl.gz, with expected outputs computed by running the
reference solutions through the sandboxed executor.
"""
from rlef.data.mini.registry import FAMILIES, Family, Variant, family

# Importing the modules registers their families.
from rlef.data.mini import families_basic, families_math, families_text  # noqa: F401  isort: skip

__all__ = ["FAMILIES", "Family", "Variant", "family"]
