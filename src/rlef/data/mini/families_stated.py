"""Stated families: single-turn SFT material for a warm start whose first turns on the held-out
kinds compute the right thing, so the open detail is their only difficulty (issue 17, part 1).

The copy warm start wrote the wrong computation on 110 of its 127 failed first turns on
rlef_hidden's test families, and 8 more carried a train family's format onto them (a "-"
separator: experiments/feedback_use.md, section 11). Two sets of problems, shipped as
rlef_stated.jsonl.gz, all in the train split:
- st_*: the computations of the eight test families with the detail STATED ("counted from 1",
  "rounded up", "written OK for yes and FAIL for no") and without the open-detail sentence. They
  teach the computation and reading a statement, never reading feedback: no repair dialogue nor RL
  problem is built from them. The test families still leave the detail open, so a first turn there
  must guess it and only the feedback tells it.
- sp_*: the five train kinds that have a plain default (decoration, separator, line prefix, unit,
  quotation marks) with the hidden-spec wording ("... the way the judge expects" and the open-detail
  sentence) and the plain default as the answer, so that wording stops cueing a remembered format.
Neither set shows an example (a test family's statement shows none either).
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from rlef.data.mini import families_hidden as hidden
from rlef.data.mini.registry import HIDDEN_FAMILIES, Variant, stated_family

# The phrase a test family's Output section leaves the detail open with, per kind of detail.
_OPEN_PHRASES = {
    "0- or 1-based positions": "counted the way the judge expects",
    "rounding direction": "rounded the way the judge expects",
    "yes/no words": "written with the words for yes and no that the judge expects",
}
_STATED_OPTIONS = {"0-based": "counted from 0 (the first one is at position 0)",
                   "1-based": "counted from 1 (the first one is at position 1)",
                   "down": "rounded down", "up": "rounded up",
                   "to nearest": "rounded to the nearest integer (halves up)"}


def stated_phrase(option: str) -> str:
    """How a statement fixes `option` of a test kind."""
    if option in _STATED_OPTIONS:
        return _STATED_OPTIONS[option]
    yes, no = option.split("/")
    return f"written {yes} for yes and {no} for no"


def stated(build: Callable[[random.Random], Variant], kind: str, rng: random.Random) -> Variant:
    """The test family's problem `build(rng)`, its open detail stated and the open-detail sentence
    dropped: the same computation, input and reference program."""
    variant = build(rng)
    spec = variant.output_spec.removesuffix(f" {hidden.OPEN_DETAIL_NOTE}")
    if spec.count(_OPEN_PHRASES[kind]) != 1 or spec == variant.output_spec:
        raise ValueError(f"{variant.title!r}: its Output section no longer leaves the {kind} open as expected")
    return replace(variant, output_spec=spec.replace(_OPEN_PHRASES[kind], stated_phrase(variant.detail_option)))


def plain(build: Callable[..., Variant], option: str, rng: random.Random) -> Variant:
    """The train family's problem `build(rng)` with its detail forced to the plain default
    `option`, the reference program without the empty literals that option leaves in it."""
    variant = build(rng, options=(option,))
    return replace(variant, solution=variant.solution.replace("'' + ", "").replace(" + ''", ""))


for _test in [f for f in HIDDEN_FAMILIES.values() if f.split == "test"]:
    stated_family("st_" + _test.name.removeprefix("hs_"), _test.category,
                  partial(stated, _test.build, _test.detail))


# The plain default of each train kind that has one: printed as computed.
_PLAIN = {"decoration": (hidden.decorate_total, "x"), "separator": (hidden.separator_list, " "),
          "line prefix": (hidden.prefix_lines, ""), "unit suffix": (hidden.unit_suffix, ""),
          "quotation marks": (hidden.word_quote, "")}
for _kind, (_build, _plain) in _PLAIN.items():
    _train = next(f for f in HIDDEN_FAMILIES.values() if f.detail == _kind)
    stated_family("sp_" + _train.name.removeprefix("hs_"), _train.category, partial(plain, _build, _plain))
