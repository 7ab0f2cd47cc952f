"""Estimators checked against brute force and hand values."""
import itertools
import random
from fractions import Fraction

import pytest

from rlef.evaluation import (
    Outcome,
    bootstrap,
    chrf,
    cluster_bootstrap,
    n_at_k,
    pass_at_k,
    ratio_bootstrap,
    rollouts_for_budget,
    successive_chrf,
    turn_category,
    turn_errors,
)


def brute_force_n_at_k(outcomes, submissions, drawn):
    """Enumerate every subset and every order of picking within it (the definition)."""
    total, count = Fraction(0), 0
    for subset in itertools.combinations(range(len(outcomes)), drawn):
        passers = [i for i in subset if outcomes[i].public_passed]
        others = [i for i in subset if not outcomes[i].public_passed]
        orders = [p + o for p in itertools.permutations(passers) for o in itertools.permutations(others)]
        hits = sum(any(outcomes[i].solved for i in order[:submissions]) for order in orders)
        total += Fraction(hits, len(orders))
        count += 1
    return float(total / count)


def test_pass_at_k_hand_values():
    assert pass_at_k(10, 0, 3) == 0.0
    assert pass_at_k(10, 10, 3) == 1.0
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)  # 1 - C(3,2)/C(4,2) = 1 - 3/6
    assert pass_at_k(5, 2, 1) == pytest.approx(0.4)


@pytest.mark.parametrize("seed", range(6))
def test_n_at_k_matches_brute_force_enumeration(seed):
    rng = random.Random(seed)
    outcomes = [Outcome(rng.random() < 0.5, rng.random() < 0.4) for _ in range(7)]
    for submissions, drawn in [(1, 1), (1, 3), (2, 4), (3, 5), (10, 7)]:
        assert n_at_k(outcomes, submissions, drawn) == pytest.approx(brute_force_n_at_k(outcomes, submissions, drawn))


def test_one_at_one_is_the_plain_solve_rate():
    outcomes = [Outcome(True, True), Outcome(False, False), Outcome(True, False), Outcome(False, True)]
    assert n_at_k(outcomes, 1, 1) == pytest.approx(0.5)


def test_public_test_filtering_prefers_passers():
    # One rollout passes public and private tests; 3 pass neither. 1 submission from all 4:
    # the filter always picks the passer.
    outcomes = [Outcome(True, True)] + [Outcome(False, False)] * 3
    assert n_at_k(outcomes, 1, 4) == 1.0


def test_budget_of_100_samples_buys_33_three_turn_rollouts():
    assert rollouts_for_budget(100, 3) == 33 and rollouts_for_budget(3, 3) == 1


def test_bootstrap_interval_contains_the_mean_and_narrows_with_more_problems():
    few = bootstrap([0.0, 1.0] * 5)
    many = bootstrap([0.0, 1.0] * 500)
    assert few.low <= few.mean <= few.high
    assert (many.high - many.low) < (few.high - few.low)


def test_cluster_bootstrap_of_singletons_is_the_problem_bootstrap():
    values = {f"p{i}": random.Random(i).random() for i in range(30)}
    assert cluster_bootstrap(values, {}, 500, seed=3) == bootstrap(list(values.values()), 500, seed=3)


def test_cluster_bootstrap_resamples_families_not_problems():
    # 10 families of 4 problems; the whole gain sits in family f0 (mean 0.1).
    gain = {f"f{f}/p{i}": float(f == 0) for f in range(10) for i in range(4)}
    family = {p: p.split("/")[0] for p in gain}
    by_problem, by_family = bootstrap(list(gain.values()), 2000), cluster_bootstrap(gain, family, 2000)
    assert by_problem.mean == by_family.mean == pytest.approx(0.1)
    assert by_problem.low > 0  # 40 independent problems: rarely none of the 4 gainers drawn (0.9^40)
    assert by_family.low == 0  # 10 families: f0 is left out of a third of the resamples (0.9^10)
    one_family = cluster_bootstrap({"a": 1.0, "b": 0.0}, {"a": "f", "b": "f"}, 100)
    assert (one_family.low, one_family.mean, one_family.high) == (0.5, 0.5, 0.5)


def test_identical_code_has_chrf_100_and_different_code_less():
    assert chrf("print(1)\n", "print(1)\n") == pytest.approx(100.0)
    assert chrf("print(1)\n", "x = input()\nprint(int(x) * 2)\n") < 50


def test_turn_category_names_the_first_failure():
    assert turn_category(None, False) == "no_code"
    assert turn_category(["PASSED", "TIMEOUT", "WRONG_OUTPUT"], False) == "TIMEOUT"
    assert turn_category(["PASSED"], True) == "passed"


def test_a_fix_is_filed_under_the_turn1_kind_not_the_kind_of_the_turn_before_it():
    """Fig. 3: errors at turn 1 by kind, and how many turns 2 and 3 fix."""
    record = {"turns": [{"code": None, "public_verdicts": None, "public_passed": False},
                        {"code": "a", "public_verdicts": ["TIMEOUT"], "public_passed": False},
                        {"code": "b", "public_verdicts": ["PASSED"], "public_passed": True}]}
    errors = turn_errors(record)
    assert errors.categories == ("no_code", "TIMEOUT", "passed") and errors.first == "no_code"
    assert errors.fixed_at == 3 and not errors.fixed_by(2) and errors.fixed_by(3)
    assert list(successive_chrf(record)) == [2]  # turn 1 has no code: no 1->2 pair
    assert successive_chrf(record)[2] == (pytest.approx(chrf("a", "b")), False)
    passed = {"turns": [{"code": "c", "public_verdicts": ["PASSED"], "public_passed": True}]}
    assert turn_errors(passed).fixed_at is None  # nothing to fix


def test_a_turn_that_overflowed_the_context_is_its_own_kind_not_missing_code():
    overflowed = {"code": None, "public_verdicts": None, "public_passed": False,
                  "context_overflow": "context overflow: a prompt of 90 tokens + max_new_tokens 16 = 106 tokens"}
    record = {"turns": [{"code": "a", "public_verdicts": ["WRONG_OUTPUT"], "public_passed": False}, overflowed]}
    assert turn_errors(record).categories == ("WRONG_OUTPUT", "context_overflow")
    assert turn_errors(record).fixed_at is None and successive_chrf(record) == {}


def test_ratio_bootstrap_pools_episodes_and_with_equal_denominators_is_the_cluster_bootstrap():
    """Equal denominators: the pooled ratio is the mean of per-problem rates, resampled the same way."""
    rates = {"a": 0.5, "b": 0.0, "c": 1.0, "d": 0.25}
    units = {p: (4 * r, 4) for p, r in rates.items()}
    families = {"a": "f", "b": "f"}
    assert ratio_bootstrap(units, families, 300, seed=1) == cluster_bootstrap(rates, families, 300, seed=1)
    pooled = ratio_bootstrap({"a": (1, 1), "b": (0, 9)}, {}, 300)
    assert pooled.mean == 0.1 and 0.0 <= pooled.low <= pooled.high <= 1.0  # 1 of 10 episodes, not (1 + 0) / 2


def test_ratio_bootstrap_of_nothing_to_count_is_none_not_zero():
    assert ratio_bootstrap({"a": (0, 0), "b": (0, 0)}, {}, 50) is None
