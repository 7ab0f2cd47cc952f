"""Per-iteration rollout statistics (rlef.train_metrics), on hand-built episodes."""
import pytest

from rlef.data.problem import Problem, Test
from rlef.rollout import Episode, Turn
from rlef.train_metrics import rollout_metrics

PROBLEM = Problem("p", "rlef_mini", "Print 1.", (Test("\n", "1\n"),), (Test("\n", "1\n"),))


def failed(*turns: tuple[int, str | None, str | None]) -> Episode:
    """turns: (reply tokens, code, overflow message) each; the episode is not solved."""
    return Episode(PROBLEM, [], [], [Turn(0, [5] * n, [-0.1] * n, True, "", code, overflow=overflow)
                                     for n, code, overflow in turns])


def test_context_overflows_are_counted_and_rewards_and_replies_are_over_answered_turns_as_ppo_sees_them():
    episodes = [failed((4, None, None), (0, None, "context overflow: ...")),  # trained: one turn, reward -1
                failed((0, None, "context overflow: ...")),  # its first prompt did not fit: nothing to reward
                failed((2, "print(0)", None), (2, "print(0)", None))]  # reward 0 - 1
    metrics = rollout_metrics(episodes, seconds=1.0)
    assert metrics["rollout/context_overflows"] == 2 and metrics["rollout/solve_rate"] == 0.0
    assert metrics["rollout/reward"] == pytest.approx(-1.0)  # not -1.2 for the first: its empty turn has no reward
    assert metrics["rollout/no_code_frac"] == pytest.approx(1 / 3)  # 3 replies, 1 without code
    assert metrics["rollout/response_tokens"] == pytest.approx(8 / 3)
