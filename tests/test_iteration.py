"""One RL iteration as plain code (rlef.iteration), on tiny_random, with no Lightning."""
import math
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from rlef import experience
from rlef.data.problem import Problem, Test
from rlef.execution.types import ExecutionResult, Limits, TestResult, Verdict
from rlef.feedback import first_prompt, no_code_prompt
from rlef.generation import SamplingParams
from rlef.iteration import Ranks, TorchOptimization, collect, ppo_update, reseed, solve_rate, updates_per_iteration
from rlef.models import PolicyCritic, load_tokenizer, tiny_random_llama
from rlef.rollout import ChatFormat, Episode, RolloutConfig, Turn

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


@pytest.mark.sandbox
def test_an_iteration_on_rollouts_that_overflowed_the_context_trains_on_their_answered_turns(executor):
    """Our decoder's real rollouts on a policy whose context fits the short problem's first turn only: that
    episode overflows at turn 2 (trained on turn 1), the long one at turn 1 (left out); the update is finite."""
    tokenizer = load_tokenizer(OmegaConf.create({"kind": "smollm2_gguf"}))
    short = Problem("short", "rlef_mini", "Print 1.", PROBLEM.public_tests, PROBLEM.private_tests)
    long = Problem("long", "rlef_mini", "Print 1. " + "Read the input carefully. " * 60, PROBLEM.public_tests,
                   PROBLEM.private_tests)
    chat = ChatFormat(tokenizer)
    length = len(chat.first(first_prompt(short))) + len(chat.next_user(no_code_prompt(), False)) + 8
    model = PolicyCritic(tiny_random_llama(len(tokenizer), seed=3, max_position_embeddings=length), critic="separate")
    reseed(0, 0, 0)
    episodes = collect(model.policy, tokenizer, executor, [short, short, long], RolloutConfig(
        sampling=SamplingParams(max_new_tokens=8)), OmegaConf.create({"max_batch": 4, "stop_after_code": False}),
        Limits(time_s=2), seed=0)
    assert [len(e.turns) for e in episodes] == [2, 2, 1] and all(e.turns[-1].overflow for e in episodes)
    assert all(experience.trained_length(e) <= length for e in episodes)  # no position past the model's
    settings = algo(rollouts_per_iteration=3, minibatch_size=3, micro_batch_size=2, ppo_epochs=1, lr=1e-3,
                    critic_lr=1e-3)
    optimizer = torch.optim.AdamW(model.param_groups(settings.lr, settings.critic_lr, 0.0))
    stats = ppo_update(model, episodes, settings, TorchOptimization(model, optimizer), Ranks(), tokenizer.pad_token_id)
    # Each short episode's one answered turn takes the failure, -1 (were the empty turn kept, its no-code
    # reply would be penalised mid-episode: returns -1.2 and -1, mean -1.1).
    assert stats["updates"] == 1 and stats["returns/mean"] == pytest.approx(-1.0, abs=1e-3)
    assert all(math.isfinite(stats[k]) for k in ("losses/policy", "losses/value", "losses/entropy", "kl/ref"))
    assert all(torch.isfinite(p).all() for p in model.parameters())
