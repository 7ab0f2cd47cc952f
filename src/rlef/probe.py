"""The feedback-use probe: does a checkpoint's second turn depend on what the feedback says?

The paper's random-feedback analysis (Fig. 3-4, C.2), reduced to one turn so that it runs in
minutes on 2 CPU cores:
1. A frozen bank of failed first turns: the warm start's replies on held-out problems that
   failed their public tests, each with its true feedback and the feedback of a wrong program
   on another problem (random, paper C.2). Built once, committed, reused for every checkpoint.
   A second kind of bank (near_miss_bank) constructs the first turns instead: on hidden-spec
   problems, the reference program for another option of the open detail, so that a model
   which cannot compute the answer is still measured on reading the feedback.
2. For a checkpoint, turn 2 is sampled `samples` times per bank item under each condition:
   the true feedback, the random feedback, or no feedback (the retry prompt alone). A sample
   succeeds when its code passes the problem's private tests (the episode's reward).
3. The teacher-forced log-probability of the reference fix under each condition: a
   sampling-free view of the same question.
Every checkpoint sees the same first turn (the warm start's), so the conditions and the
checkpoints are compared on identical contexts.
"""
from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch

from rlef.data import Problem
from rlef.evaluation import chrf, cluster_bootstrap
from rlef.execution.executor import Executor
from rlef.execution.types import Limits
from rlef.feedback import extract_code, first_prompt, turn_feedback
from rlef.generation import GenerationBackend, SamplingParams
from rlef.rollout import NO_FEEDBACK_PROMPT, ChatFormat, Episode, Turn, judge_many
from rlef.sft import answer_tokens, right_padded

log = logging.getLogger(__name__)

CONDITIONS = ("true", "random", "none")


@dataclass(frozen=True)
class BankItem:
    """One failed first turn (a line of the bank's jsonl)."""

    item: int
    problem: str  # Problem.id
    family: str
    response: str  # the first reply as decoded text
    response_ids: list[int]  # the first reply's tokens, as sampled (stop token included)
    stopped: bool
    code: str  # the program extracted from the reply; it failed a public test
    true_feedback: str  # the second user turn an episode would show
    random_feedback: str  # the true feedback of a failed first turn on another problem
    random_source: str  # the problem that feedback came from
    statement_sha: str = ""  # sha1 of the problem's statement: a rebuilt benchmark must not reuse the bank

    def user_text(self, condition: str) -> str:
        return {"true": self.true_feedback, "random": self.random_feedback, "none": NO_FEEDBACK_PROMPT}[condition]


def bank_from_episodes(episodes: Sequence[Episode], per_problem: int, seed: int = 0) -> list[BankItem]:
    """Failed first turns with code (at most `per_problem` distinct programs per problem), each
    paired with the feedback of a failed first turn on another problem, of another family
    where one exists."""
    failed, seen = [], set()
    for e in episodes:
        turn = e.turns[0]
        if e.infra_error or turn.code is None or turn.public is None or turn.public.passed:
            continue
        if (e.problem.id, turn.code) in seen or sum(p.id == e.problem.id for p, _ in failed) >= per_problem:
            continue
        seen.add((e.problem.id, turn.code))
        failed.append((e.problem, turn))
    return _bank(failed, seed)


def near_miss_bank(problems: Sequence[Problem], executor: Executor, limits: Limits, tokenizer, per_problem: int,
                   seed: int = 0) -> list[BankItem]:
    """Constructed first turns: on each hidden-spec problem, up to `per_problem` of its near
    misses (the reference program written for another option of the open detail), as replies in
    the SFT answer format, with the feedback their public tests give. Every such turn is right
    except in what only the feedback shows, so turn 2 measures reading it, not computing."""
    rng = random.Random(f"{seed}:near_miss")
    picks = [(p, code) for p in problems if p.near_misses
             for code in rng.sample(p.near_misses, min(per_problem, len(p.near_misses)))]
    results = judge_many(executor, [(p, code, p.public_tests) for p, code in picks], limits, stop_on_failure=False)
    failed = []
    for (problem, code), result in zip(picks, results):
        if result.infra_error or result.passed:  # passed: the public tests cannot show this option
            log.warning("near miss of %s dropped: %s", problem.id, "infra error" if result.infra_error else "passed")
            continue
        ids = answer_tokens(code, tokenizer)
        text = tokenizer.decode(ids, skip_special_tokens=True)
        failed.append((problem, Turn(0, ids, [], True, text, code, result)))
    return _bank(failed, seed)


def _bank(failed: Sequence[tuple[Problem, Turn]], seed: int) -> list[BankItem]:
    """Bank items of failed first turns, each with a random feedback: another failure's, on
    another family where one exists (paper C.2)."""
    rng = random.Random(f"{seed}:bank")
    items = []
    for index, (problem, turn) in enumerate(failed):
        others = [j for j, (p, _) in enumerate(failed) if p.family != problem.family] or \
                 [j for j, (p, _) in enumerate(failed) if p.id != problem.id]
        if not others:
            raise ValueError("the random-feedback condition needs failed first turns on at least two problems")
        source, source_turn = failed[rng.choice(others)]
        items.append(BankItem(index, problem.id, problem.family, turn.text, list(turn.response), turn.stopped,
                              turn.code, turn_feedback(problem, turn.public),
                              turn_feedback(source, source_turn.public), source.id, statement_sha(problem)))
    return items


def statement_sha(problem: Problem) -> str:
    return hashlib.sha1(problem.description.encode()).hexdigest()


def item_record(item: BankItem) -> dict:
    return asdict(item)


def context(item: BankItem, problem: Problem, chat: ChatFormat, condition: str) -> list[int]:
    """The token context of turn 2: prompt, the banked first reply, the condition's user turn."""
    return (chat.first(first_prompt(problem)) + list(item.response_ids)
            + chat.next_user(item.user_text(condition), item.stopped))


def sample_second_turns(backend: GenerationBackend, tokenizer, executor: Executor, limits: Limits,
                        work: Sequence[tuple[BankItem, Problem, list[int]]], params: SamplingParams,
                        samples: int) -> list[dict]:
    """For each (item, problem, context): `samples` second turns, judged on the private tests.
    Returns one dict per entry of `work`: successes, copies of the first code, mean chrF to it,
    and under "second_turns" each sample's code (None: no code block) and whether it passed."""
    contexts = [ctx for _, _, ctx in work for _ in range(samples)]
    codes = [extract_code(tokenizer.decode(g.tokens, skip_special_tokens=True))
             for g in backend.generate(contexts, params)]
    owners = [i for i in range(len(work)) for _ in range(samples)]
    runnable = [(k, work[owners[k]][1], code) for k, code in enumerate(codes) if code is not None]
    results = judge_many(executor, [(p, code, p.judge_tests) for _, p, code in runnable], limits, stop_on_failure=True)
    passed = {k: r.passed for (k, _, _), r in zip(runnable, results)}
    out = [{"successes": 0, "samples": samples, "copies": 0, "chrf_sum": 0.0, "with_code": 0, "second_turns": []}
           for _ in work]
    for k, code in enumerate(codes):
        row, first = out[owners[k]], work[owners[k]][0].code
        row["successes"] += passed.get(k, False)
        row["second_turns"].append({"code": code, "passed": passed.get(k, False)})
        if code is not None:
            row["with_code"] += 1
            row["copies"] += code.strip() == first.strip()
            row["chrf_sum"] += chrf(first, code)
    return out


@torch.no_grad()
def reply_logprobs(model, examples: Sequence[tuple[list[int], list[int]]], pad_id: int,
                   batch_size: int = 8) -> list[tuple[float, int]]:
    """(sum of log-probs, number of tokens) of each reply given its context, teacher-forced at T=1."""
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(examples), batch_size):
        batch = [(c + r, [False] * len(c) + [True] * len(r)) for c, r in examples[start:start + batch_size]]
        ids, mask, attention = right_padded(batch, pad_id, device)
        logits = model(input_ids=ids, attention_mask=attention).logits[:, :-1].float()
        logp = torch.log_softmax(logits, -1).gather(-1, ids[:, 1:, None]).squeeze(-1)  # (B, T-1)
        targets = mask[:, 1:]
        out += [(total.item(), int(count)) for total, count in zip((logp * targets).sum(-1), targets.sum(-1))]
    return out

METRICS = ("success_rate", "ref_logprob_per_token")  # per bank item and condition, in probe.csv
SUBSETS = ("hidden", "regular", "all")


def item_values(rows: Sequence[dict], temperature: float, subset: str, metric: str) -> dict[str, dict[int, float]]:
    """{quantity: {item: value}} for one temperature, subset and metric of probe rows: each
    condition, then the paired differences true - random and true - none."""
    chosen = [r for r in rows if r["temperature"] == temperature and subset in ("all", r["subset"])]
    by = {c: {r["item"]: r[metric] for r in chosen if r["condition"] == c} for c in CONDITIONS}
    for other in ("random", "none"):
        by[f"true_minus_{other}"] = {i: v - by[other][i] for i, v in by["true"].items()}
    return by


def _estimate(values: dict[int, float], family_of: dict[int, str], resamples: int, seed: int) -> dict:
    e = cluster_bootstrap(values, family_of, resamples, seed)
    return {"value": e.mean, "ci_low": e.low, "ci_high": e.high, "items": len(values),
            "families": len(set(family_of[i] for i in values))}


def summarize(rows: Sequence[dict], resamples: int = 2000, seed: int = 0) -> list[dict]:
    """Per temperature and subset (hidden / regular / all): each condition's success rate and
    reference log-prob per token, and the paired differences true - random and true - none,
    each with a 95% CI that resamples families (bank items of one family are not independent).
    The log-prob is teacher-forced at T=1, so it repeats unchanged in every temperature's rows."""
    out, family_of = [], {r["item"]: r["family"] for r in rows}
    for temperature in sorted({r["temperature"] for r in rows}, reverse=True):
        for subset in SUBSETS:
            for metric in METRICS:
                by = item_values(rows, temperature, subset, metric)
                if not by["true"]:
                    break  # the bank has no item of this subset
                out += [{"temperature": temperature, "subset": subset, "metric": metric, "condition": name,
                         **_estimate(values, family_of, resamples, seed)} for name, values in by.items()]
    return out
