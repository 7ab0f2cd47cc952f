"""The paper's metrics (3.1): n@k solve rates with unbiased estimators, bootstrap confidence
intervals, and the per-turn analyses of Fig. 3 (error types, recoveries) and Fig. 4 (chrF
between successive turns' code). Pure functions over episode summaries; no models here.

n@k: with a budget of k LLM samples, submit n programs; a problem is solved if any
submission passes the private tests. A multi-turn rollout of up to T turns spends T
samples, so with k = 100 and T = 3 one draws floor(100 / 3) = 33 rollouts. The n
submissions are chosen among the drawn rollouts' final programs: those passing the public
tests first (uniformly at random among them), then the others (uniformly at random).
The estimate is the exact expectation of that procedure over random draws of the k-sample
subset from the N >= k rollouts we generated (the idea of Chen et al. 2021's pass@k
estimator, extended to submission filtering as in Li et al. 2022).

Fig. 3 and Fig. 4 (right) read one episode (a samples.jsonl record) through turn_errors and
successive_chrf, defined here once: task=eval's metrics.json (turn_analysis), the
error_recovery / chrf tables (rlef.analysis.turns) and a training run's per-iteration feedback
use (rlef.analysis.collect, from rollouts/iter*_rank*.jsonl, which rlef.rollout.episode_record
writes in samples.jsonl's schema) count the same per-episode facts.
"""
from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from math import comb


@dataclass(frozen=True)
class Outcome:
    """What n@k needs from one rollout."""

    public_passed: bool  # the final program passes the public tests
    solved: bool  # the final program passes the private tests


def pass_at_k(n: int, c: int, k: int) -> float:
    """Chen et al. (2021): P(at least one of k samples drawn from n, c correct, is correct)."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    return 1.0 if n - c < k else 1.0 - comb(n - c, k) / comb(n, k)


def _p_success_given_draw(a: int, b: int, c: int, d: int, submissions: int) -> float:
    """a: public-pass & solved, b: public-pass & unsolved, c: public-fail & solved, d: rest."""
    passers = a + b
    if passers >= submissions:  # all submissions come from the public passers
        return 1.0 - comb(b, submissions) / comb(passers, submissions)
    if a > 0:
        return 1.0
    rest = min(submissions - passers, c + d)
    return 1.0 - comb(d, rest) / comb(c + d, rest) if rest else 0.0


def n_at_k(outcomes: Sequence[Outcome], submissions: int, rollouts_drawn: int) -> float:
    """Expected solve rate when `rollouts_drawn` of the N rollouts are drawn uniformly without
    replacement and `submissions` of them are submitted (public-test passers first)."""
    n = len(outcomes)
    if not 1 <= rollouts_drawn <= n:
        raise ValueError(f"need 1 <= rollouts drawn ({rollouts_drawn}) <= rollouts available ({n})")
    counts = Counter((o.public_passed, o.solved) for o in outcomes)
    A, B, C, D = counts[(True, True)], counts[(True, False)], counts[(False, True)], counts[(False, False)]
    m, total, expected = rollouts_drawn, comb(n, rollouts_drawn), 0.0
    for a in range(min(A, m) + 1):
        for b in range(min(B, m - a) + 1):
            for c in range(min(C, m - a - b) + 1):
                d = m - a - b - c
                if d > D:
                    continue
                weight = comb(A, a) * comb(B, b) * comb(C, c) * comb(D, d)
                expected += weight * _p_success_given_draw(a, b, c, d, min(submissions, m))
    return expected / total


def rollouts_for_budget(samples: int, turns: int) -> int:
    """A budget of `samples` LLM calls buys floor(samples / turns) rollouts of `turns` turns."""
    return max(1, samples // turns)


def scores_by_problem(outcomes: Iterable[tuple[str, Outcome]], submissions: int, budget: int,
                      turns: int) -> dict[str, float]:
    """n@k per problem from (problem id, outcome) pairs, one per rollout (infra errors already
    left out)."""
    by_problem: dict[str, list[Outcome]] = defaultdict(list)
    for pid, outcome in outcomes:
        by_problem[pid].append(outcome)
    drawn = rollouts_for_budget(budget, turns)
    return {pid: n_at_k(outs, submissions, min(drawn, len(outs))) for pid, outs in by_problem.items()}


@dataclass(frozen=True)
class Estimate:
    mean: float
    low: float  # 2.5th percentile of the bootstrap distribution
    high: float  # 97.5th percentile

    def as_dict(self, name: str) -> dict:
        return {name: self.mean, f"{name}_ci_low": self.low, f"{name}_ci_high": self.high}


def bootstrap(per_problem: Sequence[float], resamples: int = 200, seed: int = 0) -> Estimate:
    """Mean over problems with a 95% percentile-bootstrap CI (resampling problems; paper:
    200 resamples)."""
    if not per_problem:
        raise ValueError("no problems to average")
    rng = random.Random(seed)
    n = len(per_problem)
    means = sorted(sum(rng.choices(per_problem, k=n)) / n for _ in range(resamples))
    return _percentiles(sum(per_problem) / n, means)


def cluster_key(pid: str, cluster_of: Mapping[str, str]) -> str:
    """A problem's cluster (rlef_mini: its family); a problem without one is a cluster of its own."""
    return cluster_of.get(pid) or pid


def cluster_bootstrap(per_problem: Mapping[str, float], cluster_of: Mapping[str, str], resamples: int = 200,
                      seed: int = 0) -> Estimate:
    """Mean over problems with a 95% CI that resamples whole clusters of problems (rlef_mini:
    families, whose problems share one solution idea, so are not independent draws); each
    resample averages all problems of the drawn clusters. A problem without a cluster is its own."""
    if not per_problem:
        raise ValueError("no problems to average")
    clusters: dict[str, list[float]] = defaultdict(list)
    for pid, value in per_problem.items():
        clusters[cluster_key(pid, cluster_of)].append(value)
    groups = [(sum(values), len(values)) for values in clusters.values()]
    rng = random.Random(seed)

    def mean(drawn: Sequence[tuple[float, int]]) -> float:
        return sum(total for total, _ in drawn) / sum(count for _, count in drawn)

    means = sorted(mean(rng.choices(groups, k=len(groups))) for _ in range(resamples))
    return _percentiles(mean(groups), means)


def ratio_bootstrap(units: Mapping[str, tuple[float, float]], cluster_of: Mapping[str, str],
                    resamples: int = 200, seed: int = 0) -> Estimate | None:
    """sum(numerators) / sum(denominators) over units (problems), with a 95% CI that resamples
    whole clusters (families; a problem without one is its own), for rates whose denominator
    varies by problem: the share of one problem's episodes that fail with a timeout at turn 1,
    the share of its turn-1 timeouts fixed by turn 3 (Fig. 3), its mean chrF (Fig. 4). Weighting
    by the denominator counts every episode once, as the paper's pooled rates do; resampling
    problems keeps one problem's correlated episodes together. None when no unit has a
    denominator; a resample that draws none is left out of the percentiles."""
    clusters: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for pid, (num, den) in units.items():
        pair = clusters[cluster_key(pid, cluster_of)]
        pair[0], pair[1] = pair[0] + num, pair[1] + den
    groups = list(clusters.values())
    total = sum(den for _, den in groups)
    if not total:
        return None
    rng = random.Random(seed)
    ratios = []
    for _ in range(resamples):
        drawn = rng.choices(groups, k=len(groups))
        den = sum(d for _, d in drawn)
        if den:
            ratios.append(sum(n for n, _ in drawn) / den)
    return _percentiles(sum(n for n, _ in groups) / total, sorted(ratios))


def _percentiles(mean: float, resampled_means: Sequence[float]) -> Estimate:
    """The point estimate with the 2.5th and 97.5th percentiles of sorted resampled means."""
    last = len(resampled_means) - 1
    return Estimate(mean, resampled_means[int(0.025 * last)], resampled_means[int(0.975 * last)])


def chrf(previous: str, current: str) -> float:
    """chrF of a turn's code against the previous turn's (paper Fig. 4): 100 = unchanged."""
    import sacrebleu

    return sacrebleu.sentence_chrf(current, [previous]).score


def turn_category(public_verdicts: Sequence[str] | None, public_passed: bool) -> str:
    """The error type of one turn for Fig. 3: passed, no_code, or the first failing verdict."""
    if public_verdicts is None:
        return "no_code"
    if public_passed:
        return "passed"
    return next((v for v in public_verdicts if v != "PASSED"), "passed")


def scored_episodes(records: Iterable[dict]) -> list[dict]:
    """The episodes the per-turn analyses count: infra errors left out, as everywhere (they score
    nothing, rlef.rollout); an INFRA_ERROR verdict would otherwise show up as a kind of error."""
    return [r for r in records if not r["infra_error"]]


@dataclass(frozen=True)
class TurnErrors:
    """Fig. 3 of one episode: what went wrong at each turn, and which turn fixed it."""

    categories: tuple[str, ...]  # (turns,) turn_category of each turn (context_overflow: the turn got no reply)
    fixed_at: int | None  # first turn k >= 2 whose code passes the public tests after turn 1 failed; None: none

    @property
    def first(self) -> str:
        """The turn-1 kind Fig. 3 files the episode under (not the kind of the turn before the fix)."""
        return self.categories[0]

    def fixed_by(self, turn: int) -> bool:
        """Fig. 3's "fixed by turn k": some turn 2..k passed the public tests (the model's view; the
        private tests decide `solved`)."""
        return self.fixed_at is not None and self.fixed_at <= turn


def record_turn_category(turn: dict) -> str:
    """turn_category of one samples.jsonl turn (rlef.rollout.episode_record). A turn whose prompt outgrew
    the context got no reply: not the model's missing code, a kind of its own, context_overflow."""
    if turn.get("context_overflow") is not None:
        return "context_overflow"
    return turn_category(turn.get("public_verdicts"), bool(turn.get("public_passed")))


def turn_errors(record: dict) -> TurnErrors:
    """A samples.jsonl record (rlef.rollout.episode_record) -> its TurnErrors."""
    turns = record["turns"]
    categories = tuple(record_turn_category(t) for t in turns)
    later = (k for k, t in enumerate(turns[1:], start=2) if t["public_passed"])
    return TurnErrors(categories, None if categories[0] == "passed" else next(later, None))


def successive_chrf(record: dict) -> dict[int, tuple[float, bool]]:
    """Fig. 4 (right) of one episode: t -> (chrF of turn t+1's code against turn t's, whether it is
    unchanged), for every t where both turns have code (a reply without code has nothing to compare)."""
    codes = [t["code"] for t in record["turns"]]
    return {t: (chrf(codes[t - 1], codes[t]), codes[t - 1] == codes[t])
            for t in range(1, len(codes)) if codes[t - 1] is not None and codes[t] is not None}


def turn_analysis(records: Iterable[dict]) -> dict:
    """metrics.json's Fig. 3 and Fig. 4 summary of a run's multi-turn episodes (samples.jsonl
    records): per turn, how many turns fell in each category; per turn-1 kind and turn k, how many
    episodes turn k fixed ("<kind>->passed@<k>"); per transition t->t+1, the mean chrF over the
    episodes where both turns have code. rlef.analysis.turns pools the same per problem, with CIs."""
    categories: dict[int, Counter] = defaultdict(Counter)
    recoveries: Counter = Counter()
    similarity: dict[str, list[float]] = defaultdict(list)
    for record in scored_episodes(records):
        errors = turn_errors(record)
        for turn, name in enumerate(errors.categories, start=1):
            categories[turn][name] += 1
        if errors.fixed_at is not None:
            recoveries[f"{errors.first}->passed@{errors.fixed_at}"] += 1
        for t, (score, _) in successive_chrf(record).items():
            similarity[f"{t}->{t + 1}"].append(score)
    return {"error_types_per_turn": {t: dict(c) for t, c in categories.items()},
            "recoveries": dict(recoveries),
            "chrf_successive_turns": {k: sum(v) / len(v) for k, v in similarity.items()}}
