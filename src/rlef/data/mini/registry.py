"""The family registry: what a problem family must provide."""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

CATEGORIES = ("string", "arithmetic", "parsing", "counting", "sorting", "simulation", "grid",
              "number_theory", "greedy")


@dataclass(frozen=True)
class Variant:
    """One concrete problem of a family (parameters already drawn)."""

    title: str
    legend: str  # the story / task, competitive-programming style
    input_spec: str  # the "Input" section
    output_spec: str  # the "Output" section
    solution: str  # reference Python 3 program, stdin -> stdout
    make_input: Callable[[random.Random], str]  # one random test input (ends with "\n")
    # Hidden-spec families: the option this problem uses for its family's open output detail
    # (e.g. ", " for a separator). The statement never states it; the public tests show it.
    detail_option: str = ""


@dataclass(frozen=True)
class Family:
    name: str
    category: str
    difficulty: int  # 1: one-liner, 2: a loop or two, 3: a small algorithm
    build: Callable[[random.Random], Variant]
    # Hidden-spec families only (families_hidden.py): the kind of output detail the statement
    # leaves open, the options a problem draws it from, and a split fixed by that kind.
    detail: str = ""
    options: tuple[str, ...] = ()
    split: str = ""

    @property
    def single_turn_ceiling(self) -> float:
        """The chance of guessing the open detail without reading a test: one option in all."""
        return 1 / len(self.options) if self.options else 1.0


FAMILIES: dict[str, Family] = {}
# A registry of its own, shipped as its own file (rlef_hidden.jsonl.gz): rlef_mini's families,
# splits and bytes stay exactly as earlier results measured them.
HIDDEN_FAMILIES: dict[str, Family] = {}


def _registrar(registry: dict[str, Family], name: str, category: str, difficulty: int, **hidden):
    if category not in CATEGORIES:
        raise ValueError(f"family {name}: unknown category {category!r}")
    if difficulty not in (1, 2, 3):
        raise ValueError(f"family {name}: difficulty must be 1, 2 or 3")

    def register(build: Callable[[random.Random], Variant]) -> Callable[[random.Random], Variant]:
        if name in FAMILIES or name in HIDDEN_FAMILIES:
            raise ValueError(f"family {name} registered twice")
        registry[name] = Family(name, category, difficulty, build, **hidden)
        return build

    return register


def family(name: str, category: str, difficulty: int):
    """Register `build(rng) -> Variant` as a family."""
    return _registrar(FAMILIES, name, category, difficulty)


def hidden_family(name: str, category: str, detail: str, options: tuple[str, ...], split: str):
    """Register a hidden-spec family: `build(rng)` must draw `detail_option` from `options`."""
    if split not in ("train", "valid", "test"):
        raise ValueError(f"family {name}: split must be train, valid or test")
    if len(options) < 2:
        raise ValueError(f"family {name}: a hidden detail needs at least two options")
    return _registrar(HIDDEN_FAMILIES, name, category, 1, detail=detail, options=options, split=split)
