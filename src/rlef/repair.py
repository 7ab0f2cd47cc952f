"""Multi-turn repair dialogues for the warm start: a wrong first reply, the executor's real
feedback on it, then the reference solution.

The paper's starting points (Llama 3.1 Instruct) already fix some errors from feedback before
RLEF (Fig. 3); a model fine-tuned on single-turn answers fixes none, so RL has no repair
behaviour to reinforce. A small share of these dialogues in the warm start gives it one.
Unlike the paper's SFT baseline (Table 3: successful multi-turn trajectories mined from the
model itself), the wrong replies here are synthetic:
- another problem's reference solution from the same family, one of the three closest (for
  hidden-spec families the closest is usually the same computation with another output detail,
  so the fix differs from the wrong reply in what the feedback shows);
- or the reference with one integer literal moved by one.
A candidate that passes the problem's public tests is no wrong reply and is dropped.

The same dialogues, as chat messages, are the few-shot baseline's examples (paper Table 3:
eval.few_shot_repairs of them before the problem; few_shot_messages).
"""
from __future__ import annotations

import difflib
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rlef.data import Problem
from rlef.errors import BadInput
from rlef.execution.executor import Executor
from rlef.execution.types import Limits
from rlef.feedback import first_prompt, turn_feedback
from rlef.rollout import judge_many

_INT_LITERAL = re.compile(r"(?<![\w.])\d+(?![\w.])")
CANDIDATES_PER_DIALOGUE = 3  # tried in one batch; the first that fails its public tests is kept


@dataclass(frozen=True)
class RepairDialogue:
    problem: Problem
    wrong_code: str  # the first reply's program
    feedback: str  # the second user turn, exactly as an episode would show it


def perturbed(code: str, rng: random.Random) -> str | None:
    """`code` with one integer literal moved by one, or None if it has none."""
    literals = list(_INT_LITERAL.finditer(code))
    if not literals:
        return None
    m = rng.choice(literals)
    value = int(m.group()) + rng.choice((-1, 1)) if m.group() != "0" else 1
    return code[:m.start()] + str(value) + code[m.end():]


def wrong_candidates(problem: Problem, siblings: Sequence[Problem], rng: random.Random) -> list[str]:
    """Candidate wrong first replies, in the order they are tried."""
    others = list(dict.fromkeys(s.reference_solution for s in siblings if s.id != problem.id
                                and s.reference_solution and s.reference_solution != problem.reference_solution))
    others.sort(key=lambda code: -difflib.SequenceMatcher(None, code, problem.reference_solution).ratio())
    others = rng.sample(others[:3], min(3, len(others)))  # one of the closest three: a problem used twice varies
    mutated = [c for c in (perturbed(problem.reference_solution, rng) for _ in range(2)) if c]
    ordered = [*others[:2], *mutated] if rng.random() < 0.75 else [*mutated, *others[:2]]
    return list(dict.fromkeys(ordered))[:CANDIDATES_PER_DIALOGUE]


def repair_dialogues(problems: Sequence[Problem], count: int, executor: Executor, limits: Limits,
                     seed: int = 0) -> list[RepairDialogue]:
    """Up to `count` dialogues over `problems` (each used about count / len(problems) times, with
    fresh candidates each time). Fewer when candidates keep passing the public tests."""
    usable = [p for p in problems if p.reference_solution]
    if count <= 0 or not usable:
        return []
    rng = random.Random(f"{seed}:repair")
    by_family = defaultdict(list)
    for p in usable:
        by_family[p.family or p.id].append(p)
    slots = [usable[i % len(usable)] for i in rng.sample(range(max(count, len(usable))), count)]
    tries = [(slot, p, code) for slot, p in enumerate(slots)
             for code in wrong_candidates(p, by_family[p.family or p.id], rng)]
    results = judge_many(executor, [(p, code, p.public_tests) for _, p, code in tries], limits, stop_on_failure=False)
    kept: dict[int, RepairDialogue] = {}
    for (slot, p, code), result in zip(tries, results):
        if slot not in kept and not result.passed and not result.infra_error:
            kept[slot] = RepairDialogue(p, code, turn_feedback(p, result))
    return [kept[s] for s in sorted(kept)]


def answer_text(code: str) -> str:
    """A reply in the paper's answer format: the code in a ```python block, nothing else."""
    return f"```python\n{code.rstrip()}\n```"


def dialogue_messages(dialogue: RepairDialogue) -> list[dict]:
    """A repair dialogue as the chat messages an episode would hold: the problem, the wrong reply,
    its real feedback, the reference."""
    return [{"role": "user", "content": first_prompt(dialogue.problem)},
            {"role": "assistant", "content": answer_text(dialogue.wrong_code)},
            {"role": "user", "content": dialogue.feedback},
            {"role": "assistant", "content": answer_text(dialogue.problem.reference_solution)}]


# Ours: the paper does not say which train problems its examples are; the shortest statements and
# solutions leave the context to the problem being solved.
FEW_SHOT_POOL = 100


def few_shot_messages(train: Sequence[Problem], evaluated: Sequence[Problem], count: int, executor: Executor,
                      limits: Limits, seed: int = 0) -> list[dict]:
    """`count` repair dialogues on distinct train problems, as chat messages to put before every
    episode's first prompt (paper Table 3's few-shot baseline). No evaluated problem is ever an
    example (nor one with the same statement): the examples would show its solution."""
    banned = {p.id for p in evaluated} | {p.description for p in evaluated}
    pool = [p for p in train if p.reference_solution and p.id not in banned and p.description not in banned]
    pool = sorted(pool, key=lambda p: len(p.description) + len(p.reference_solution))[:FEW_SHOT_POOL]
    dialogues = repair_dialogues(pool, count, executor, limits, seed)
    if len(dialogues) < count:
        raise BadInput(f"eval.few_shot_repairs={count}, but only {len(dialogues)} repair dialogues could be built "
                       f"from {len(pool)} train problems with reference solutions")
    return [m for d in dialogues for m in dialogue_messages(d)]
