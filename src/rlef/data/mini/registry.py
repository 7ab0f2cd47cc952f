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


@dataclass(frozen=True)
class Family:
    name: str
    category: str
    difficulty: int  # 1: one-liner, 2: a loop or two, 3: a small algorithm
    build: Callable[[random.Random], Variant]


FAMILIES: dict[str, Family] = {}


def family(name: str, category: str, difficulty: int):
    """Register `build(rng) -> Variant` as a family."""
    if category not in CATEGORIES:
        raise ValueError(f"family {name}: unknown category {category!r}")
    if difficulty not in (1, 2, 3):
        raise ValueError(f"family {name}: difficulty must be 1, 2 or 3")

    def register(build: Callable[[random.Random], Variant]) -> Callable[[random.Random], Variant]:
        if name in FAMILIES:
            raise ValueError(f"family {name} registered twice")
        FAMILIES[name] = Family(name, category, difficulty, build)
        return build

    return register
