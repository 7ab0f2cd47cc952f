"""The family registry: what a problem family must provide."""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace

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
    # ((other option, its reference program), ...): Family.near_misses, filled in by build_mini.
    near_misses: tuple[tuple[str, str], ...] = ()


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
    # Copy families (families_copy.py) draw from dozens of options: near misses for the first
    # option (the plain default) and this many others, not for all. 0: every other option.
    near_miss_count: int = 0
    # False: the statement shows no example, as a hidden-spec one (the stated families, whose
    # single-turn problems stand in for the held-out kinds' statements).
    examples: bool = True

    @property
    def single_turn_ceiling(self) -> float:
        """The chance of guessing the open detail without reading a test: one option in all."""
        return 1 / len(self.options) if self.options else 1.0

    def near_misses(self, seed: str, variant: Variant) -> dict[str, str]:
        """{other option: the reference program for it} for the problem `build(Random(seed))`
        gave as `variant`: first turns right in everything except the open detail. Each is the
        same build replayed from the same seed with its one draw from `options` forced."""
        misses = {}
        for option in self._near_miss_options(seed, variant.detail_option):
            other = self.build(_ForcedOption(seed, self.options, option))
            if (other.detail_option, other.legend, other.input_spec, other.output_spec) != \
                    (option, variant.legend, variant.input_spec, variant.output_spec):
                raise ValueError(f"family {self.name}: forcing option {option!r} changed the problem itself")
            misses[option] = other.solution
        return misses

    def _near_miss_options(self, seed: str, drawn: str) -> list[str]:
        others = [o for o in self.options if o != drawn]
        if not self.near_miss_count or len(others) <= self.near_miss_count + 1:
            return others
        plain, rest = ([others[0]], others[1:]) if others[0] == self.options[0] else ([], others)
        return plain + random.Random(f"{seed}:near_misses").sample(rest, self.near_miss_count)


class _ForcedOption(random.Random):
    """A Random whose draw from `options` returns `option` and consumes the stream as usual, so
    every other draw of a family's build (the computation, the inputs) comes out the same."""

    def __init__(self, seed: str, options: tuple[str, ...], option: str):
        super().__init__(seed)
        self._options, self._option = tuple(options), option

    def choice(self, seq):
        drawn = super().choice(seq)
        return self._option if tuple(seq) == self._options else drawn


FAMILIES: dict[str, Family] = {}
# A registry of its own, shipped as its own file (rlef_hidden.jsonl.gz): rlef_mini's families,
# splits and bytes stay exactly as earlier results measured them.
HIDDEN_FAMILIES: dict[str, Family] = {}
# The copy families (families_copy.py), shipped as rlef_copy.jsonl.gz: train kinds of rlef_hidden
# whose option is a fresh literal per problem, so only reading the feedback finds it.
COPY_FAMILIES: dict[str, Family] = {}
# The stated families (families_stated.py), shipped as rlef_stated.jsonl.gz: single-turn SFT problems
# with the held-out kinds' computations, their detail stated, and plain-default anchors.
STATED_FAMILIES: dict[str, Family] = {}
# The drill families (families_drill.py), shipped as rlef_inferred.jsonl.gz: the inferred train kinds
# of rlef_hidden, every (statement, option) pair once, material for repair dialogues.
DRILL_FAMILIES: dict[str, Family] = {}


def _registrar(registry: dict[str, Family], name: str, category: str, difficulty: int, **hidden):
    if category not in CATEGORIES:
        raise ValueError(f"family {name}: unknown category {category!r}")
    if difficulty not in (1, 2, 3):
        raise ValueError(f"family {name}: difficulty must be 1, 2 or 3")

    def register(build: Callable[[random.Random], Variant]) -> Callable[[random.Random], Variant]:
        _claim(registry, Family(name, category, difficulty, build, **hidden))
        return build

    return register


def _claim(registry: dict[str, Family], fam: Family) -> None:
    """Add `fam` to `registry`; a name is one family across all registries."""
    if any(fam.name in r for r in (FAMILIES, HIDDEN_FAMILIES, COPY_FAMILIES, STATED_FAMILIES, DRILL_FAMILIES)):
        raise ValueError(f"family {fam.name} registered twice")
    registry[fam.name] = fam


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


def copy_family(name: str, category: str, detail: str, options: tuple[str, ...],
                build: Callable[[random.Random], Variant], near_miss_count: int = 2) -> None:
    """Register `build(rng)` (which draws `detail_option` from `options`, options[0] the plain
    default) as a copy family: every problem of it is in the train split."""
    if len(set(options)) != len(options) or len(options) < 10:
        raise ValueError(f"family {name}: a copy family needs at least ten distinct options")
    _registrar(COPY_FAMILIES, name, category, 1, detail=detail, options=options, split="train",
               near_miss_count=near_miss_count)(build)


def stated_family(name: str, category: str, build: Callable[[random.Random], Variant]) -> None:
    """Register `build(rng)` as a stated family: a regular train family (nothing left open) whose
    statements show no example."""
    _registrar(STATED_FAMILIES, name, category, 1, split="train", examples=False)(build)


def drill_family(source: Family, name: str) -> None:
    """Register `source` (a hidden-spec family) again under `name` as a drill family: the same build,
    detail and options, so its problems (and, seeded by name, their inputs) are new."""
    _claim(DRILL_FAMILIES, replace(source, name=name))


def subset_of(family: str) -> str:
    """"hidden" for the hidden-spec families (rlef_hidden's, the copy and the drill families, whose option
    only the feedback shows), "regular" for every other family or a problem without one."""
    return "hidden" if any(family in r for r in (HIDDEN_FAMILIES, COPY_FAMILIES, DRILL_FAMILIES)) else "regular"
