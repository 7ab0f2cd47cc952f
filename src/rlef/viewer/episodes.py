"""A record (load.py) -> what the page shows of it: per turn the line diff against the previous
turn's code, the chrF to it (paper Fig. 4), the reward r_t (paper 2.2, without the KL term,
which rollouts do not log); per episode its outcome and the facets the page's filters count."""
from __future__ import annotations

import difflib
import random

from rlef.evaluation import chrf, record_turn_category

# rlef.ppo's rewards (rlef.ppo imports torch); tests/test_viewer.py pins the copy to turn_rewards.
PASS_REWARD, FAIL_REWARD, INVALID_CODE_PENALTY = 1.0, -1.0, -0.2
OUTCOMES = ("solved at turn 1", "recovered", "public only", "never solved", "infra error")
# (key, label) of every facet the page can filter on, in the order of its filter bar; a facet
# with a single value in a run is shown in the header instead.
FACETS = (("outcome", "outcome"), ("feedback", "feedback"), ("family", "family"),
          ("first_error", "error at turn 1"), ("last_error", "error at last turn"), ("copied", "re-emits code"),
          ("turns", "turns"), ("mode", "mode"), ("iteration", "iteration"), ("rank", "rank"),
          ("temperature", "temperature"), ("subset", "subset"))


def outcome(record: dict) -> str:
    """One of OUTCOMES. "public only": the last code passed the public tests, not the private ones
    (the episode stopped, believing it was right)."""
    turns = record["turns"]
    if record.get("infra_error"):
        return "infra error"
    if record["solved"]:
        return "solved at turn 1" if len(turns) == 1 else "recovered"
    return "public only" if turns and turns[-1].get("public_passed") else "never solved"


def turn_rewards(solved: bool, has_code: list[bool]) -> list[float]:
    """r_t as rlef.ppo.turn_rewards computes it: +-1 at the last turn, the invalid-code penalty
    at an earlier turn without code, 0 otherwise."""
    rewards = [0.0 if valid else INVALID_CODE_PENALTY for valid in has_code[:-1]]
    return rewards + [PASS_REWARD if solved else FAIL_REWARD]


def category(turn: dict) -> str:
    """The turn's error type as Fig. 3 counts it (rlef.evaluation.record_turn_category); "not run" for
    code never run on the public tests (the probe's second turn); "context_overflow" for a turn whose
    prompt did not fit the model's context (no reply at all; Fig. 3 counts it apart, turn_errors)."""
    if turn.get("code") is not None and turn.get("public_verdicts") is None and turn.get("context_overflow") is None:
        passed = turn.get("public_passed")
        return "not run" if passed is None else "passed" if passed else "failed"
    return record_turn_category(turn)


def line_opcodes(previous: str, current: str) -> list[list]:
    """difflib's opcodes from the previous code's lines to this code's; the page renders them
    from the two codes (split on "\\n", as JavaScript splits), so the diff costs a few numbers."""
    matcher = difflib.SequenceMatcher(None, previous.split("\n"), current.split("\n"), autojunk=False)
    return [list(op) for op in matcher.get_opcodes()]


def _view_turn(turn: dict, previous: str | None, index: int, reward: float | None) -> dict:
    code, reply = turn.get("code"), turn.get("response")
    view = {"user": turn.get("user"), "code": code, "verdicts": turn.get("public_verdicts"),
            "category": category(turn), "reward": reward, "tokens": turn.get("response_tokens")}
    if reply and (code is None or reply.strip() != f"```python\n{code}\n```"):
        view["reply"] = reply  # prose around the code, or no code block at all
    if turn.get("context_overflow") is not None:
        view["overflow"] = turn["context_overflow"]  # why no reply was sampled: the token counts and the limit
    if index and previous is not None and code is not None:
        view["same"] = code.strip() == previous.strip()
        view["chrf"] = 100.0 if code == previous else round(chrf(previous, code), 1)
        if code != previous:
            view["diff"] = line_opcodes(previous, code)
    return view


def view_episode(index: int, record: dict, statements: dict[str, str]) -> dict:
    """The page's record of one episode. The first user turn (the statement) goes to
    `statements`, once per problem, so 100 samples of a problem carry it once."""
    raw = record["turns"]
    infra = bool(record.get("infra_error"))
    # PPO rewards the answered turns only: an overflowed last turn has no reply (rlef.experience.collate).
    has_code = [t.get("code") is not None for t in raw if t.get("context_overflow") is None]
    rewards = [None] * len(raw) if infra or not has_code else \
        turn_rewards(record["solved"], has_code) + [None] * (len(raw) - len(has_code))
    turns, previous = [], None
    for k, (turn, reward) in enumerate(zip(raw, rewards)):
        turns.append(_view_turn(turn, previous, k, reward))
        previous = turn.get("code")
    if turns and turns[0]["user"] is not None:
        if statements.setdefault(record["problem"], turns[0]["user"]) == turns[0]["user"]:
            turns[0]["user"] = None  # the page reads it from statements
    facets = {"outcome": outcome(record), "family": record.get("family") or "",
              "first_error": turns[0]["category"] if turns else "",
              "last_error": turns[-1]["category"] if turns else "",
              "turns": str(len(turns)), "copied": _copied(turns), **record.get("facets", {})}
    return {"i": index, "problem": record["problem"], "family": record.get("family") or "",
            "solved": bool(record["solved"]), "infra_error": infra, "final_verdicts": record.get("final_verdicts"),
            "reward": None if infra or not has_code else round(sum(rewards[:len(has_code)]), 3),
            "solved_at": len(turns) if record["solved"] else None,
            "facets": facets, "tags": record.get("tags", {}), "turns": turns}


def _copied(turns: list[dict]) -> str:
    """Does a later turn re-emit the previous turn's code (the failure the paper's Fig. 4 measures)?"""
    if len(turns) < 2:
        return "one turn"
    return "yes" if any(t.get("same") for t in turns[1:]) else "no"


def subsample(records: list[dict], per_group: int, seed: int = 0) -> list[dict]:
    """At most `per_group` records of each training iteration (of the whole input otherwise),
    drawn with `seed`, in their original order."""
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        groups.setdefault(r.get("facets", {}).get("iteration", ""), []).append(i)
    rng = random.Random(seed)
    keep = sorted(i for members in groups.values() for i in rng.sample(members, min(per_group, len(members))))
    return [records[i] for i in keep]
