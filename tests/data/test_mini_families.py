"""Every registered rlef_mini family yields valid, distinct problems whose reference
solution runs cleanly in the sandbox on the inputs the family generates."""
import random

import pytest

from rlef.data.mini import FAMILIES
from rlef.data.mini.registry import CATEGORIES
from rlef.data.problem import Test
from rlef.execution.types import Job, Limits, Verdict

NAMES = sorted(FAMILIES)


def test_enough_families_across_categories():
    assert len(FAMILIES) >= 40
    assert {f.category for f in FAMILIES.values()} == set(CATEGORIES)


@pytest.mark.parametrize("name", NAMES)
def test_family_is_deterministic_given_the_seed(name):
    a, b = FAMILIES[name].build(random.Random(7)), FAMILIES[name].build(random.Random(7))
    assert (a.title, a.legend, a.solution) == (b.title, b.legend, b.solution)
    assert a.make_input(random.Random(3)) == b.make_input(random.Random(3))


@pytest.mark.parametrize("name", NAMES)
def test_family_draws_several_distinct_problems(name):
    variants = {(v.legend, v.solution) for v in (FAMILIES[name].build(random.Random(s)) for s in range(12))}
    assert len(variants) >= 4, f"{name}: only {len(variants)} distinct problems in 12 draws"


@pytest.mark.parametrize("name", NAMES)
def test_inputs_end_with_newline_and_are_small(name):
    variant = FAMILIES[name].build(random.Random(0))
    for seed in range(20):
        text = variant.make_input(random.Random(seed))
        assert text.endswith("\n") and len(text) < 5000


@pytest.mark.sandbox
@pytest.mark.parametrize("name", NAMES)
def test_reference_solution_runs_cleanly_with_varied_outputs(name, executor):
    jobs, outputs = [], set()
    for seed in range(3):
        variant = FAMILIES[name].build(random.Random(seed))
        inputs = [variant.make_input(random.Random(100 * seed + i)) for i in range(12)]
        jobs.append(Job(variant.solution, tuple(Test(i, "") for i in inputs), Limits(time_s=2.0)))
    for result in executor.run_batch(jobs):
        for t in result.tests:
            # expected "" so a non-empty answer reads WRONG_OUTPUT: that means "ran cleanly"
            assert t.verdict is Verdict.WRONG_OUTPUT, f"{name}: {t.verdict} {t.stderr_tail[-500:]}"
            outputs.add(t.observed)
    assert len(outputs) >= 6, f"{name}: outputs barely vary ({len(outputs)} distinct in 36 tests)"
