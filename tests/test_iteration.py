"""One RL iteration as plain code (rlef.iteration), on tiny_random, with no Lightning."""
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from rlef.data.problem import Problem, Test
from rlef.execution.types import ExecutionResult, TestResult, Verdict
from rlef.iteration import Ranks, TorchOptimization, ppo_update, reseed, solve_rate, updates_per_iteration
from rlef.models import PolicyCritic, tiny_random_llama
from rlef.rollout import Episode, Turn

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = Problem("p", "rlef_mini", "Print 1.", (Test("\n", "1\n"),), (Test("\n", "1\n"),))
VOCAB = 64


def algo(**overrides):
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=[f"algo.{k}={v}" for k, v in overrides.items()])
    return cfg.algo


def episodes(count: int) -> list[Episode]:
    """`count` episodes of one or two turns and different lengths; every other one solved."""
    out = []
    for i in range(count):
        e, turns = Episode(PROBLEM, [], []), 1 + i % 2
        for t in range(turns):
            prompt, response = [3 + (i + t) % 7] * (2 + t), [(5 + i * 3 + k) % VOCAB for k in range(2 + (i + t) % 4)]
            e.tokens += prompt
            e.policy_mask += [False] * len(prompt)
            e.turns.append(Turn(len(e.tokens), response, [-2.0 - 0.1 * k for k in range(len(response))], True, "",
                                "print(1)"))
            e.tokens += response
            e.policy_mask += [True] * len(response)
        if i % 2 == 0:
            e.final = e.turns[-1].public = ExecutionResult((TestResult(Verdict.PASSED, "\n", "1\n", "1\n"),))
        out.append(e)
    return out


def trained(settings, optimizer=torch.optim.SGD, ranks=None, seed=0):
    reseed(seed, 0, 0)
    model = PolicyCritic(tiny_random_llama(VOCAB, seed=3), critic="separate")
    opt = optimizer(model.param_groups(settings.lr, settings.critic_lr, 0.0))
    stats = ppo_update(model, episodes(8), settings, TorchOptimization(model, opt), ranks or Ranks(), pad_id=0)
    return model, stats


def test_an_iteration_makes_the_configured_updates_and_moves_policy_and_critic_but_not_the_reference():
    settings = algo(rollouts_per_iteration=8, minibatch_size=4, micro_batch_size=2, ppo_epochs=2, lr=1e-3,
                    critic_lr=1e-3)
    before = PolicyCritic(tiny_random_llama(VOCAB, seed=3), critic="separate")
    model, stats = trained(settings, torch.optim.AdamW)
    assert stats["updates"] == updates_per_iteration(settings) == 4
    for key in ("losses/policy", "losses/value", "losses/clipfrac", "kl/ref", "losses/explained_variance", "lr/policy"):
        assert key in stats, key
    moved = {name: not torch.equal(p, before.state_dict()[name]) for name, p in model.state_dict().items()}
    assert any(v for k, v in moved.items() if k.startswith("policy."))
    assert any(v for k, v in moved.items() if k.startswith(("critic_body.", "value_head.")))
    assert not any(v for k, v in moved.items() if k.startswith("reference."))


@pytest.mark.parametrize("micro", [1, 3])
def test_micro_batching_leaves_the_update_unchanged(micro):
    """One minibatch of all 8 episodes: however they are cut into micro-batches, the accumulated
    gradient (tokens weighted over the whole minibatch) and so the SGD step are the same."""
    common = {"rollouts_per_iteration": 8, "minibatch_size": 8, "ppo_epochs": 1, "lr": 0.5, "critic_lr": 0.5}
    whole, _ = trained(algo(micro_batch_size=8, **common))
    cut, _ = trained(algo(micro_batch_size=micro, **common))
    for (name, a), b in zip(whole.state_dict().items(), cut.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-5), name


def test_filler_batches_of_a_rank_with_fewer_micro_batches_change_nothing():
    """Another rank has one micro-batch more (its max says so): this rank adds a weight-0 copy."""
    settings = algo(rollouts_per_iteration=8, minibatch_size=8, micro_batch_size=4, ppo_epochs=1, lr=0.5,
                    critic_lr=0.5)
    alone, _ = trained(settings)
    more = Ranks(reduce=lambda value, op: value + 1 if op == "max" else value)
    padded, _ = trained(settings, ranks=more)
    for (name, a), b in zip(alone.state_dict().items(), padded.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), name


def test_solve_rate_counts_over_ranks():
    two_ranks = Ranks(reduce=lambda value, op: value * 2)  # another rank with the same episodes
    assert solve_rate(episodes(4), two_ranks) == 0.5 and solve_rate([], Ranks()) == 0.0
