"""ppo.py against hand-computed values and a plain-loop reference."""
import math

import pytest
import torch

from rlef import ppo


def test_solved_episode_gets_plus_one_at_the_last_turn_only():
    assert ppo.turn_rewards(True, [True, True, True]).tolist() == [0.0, 0.0, 1.0]


def test_intermediate_reply_without_code_is_penalised_in_multi_turn():
    assert ppo.turn_rewards(False, [False, True, True]).tolist() == pytest.approx([-0.2, 0.0, -1.0])


def test_no_intermediate_penalty_in_single_turn_training():
    assert ppo.turn_rewards(False, [False]).tolist() == [-1.0]


def test_final_reply_without_code_never_scores_better_than_wrong_code():
    no_code = ppo.turn_rewards(False, [True, False]).sum()
    wrong = ppo.turn_rewards(False, [True, True]).sum()
    assert no_code <= wrong


def test_kl_is_the_mean_token_log_ratio_not_the_sum():
    logp = torch.tensor([[-1.0, -2.0, -3.0, 0.0]])
    ref = torch.tensor([[-1.5, -2.5, -3.5, 0.0]])
    mask = torch.tensor([[True, True, True, False]])
    assert ppo.kl_penalty(logp, ref, mask).item() == pytest.approx(0.5)  # (0.5*3)/3


def test_returns_are_rewards_to_go():
    assert ppo.returns(torch.tensor([-0.2, 0.0, 1.0])).tolist() == pytest.approx([0.8, 1.0, 1.0])
    assert ppo.returns(torch.tensor([1.0, 1.0]), gamma=0.5).tolist() == pytest.approx([1.5, 1.0])


def test_advantage_is_shared_by_all_tokens_of_a_turn():
    logp = torch.zeros(1, 4, requires_grad=True)
    mask = torch.ones(1, 4, dtype=torch.bool)
    loss, _ = ppo.policy_loss(logp, torch.zeros(1, 4), torch.zeros(1, 4), torch.tensor([2.0]), mask)
    loss.backward()
    assert torch.allclose(logp.grad, torch.full((1, 4), -2.0 / 4))


def reference_policy_loss(logp, old, behaviour, adv, mask, clip):
    total, count = 0.0, 0
    for b in range(len(logp)):
        for t in range(len(logp[0])):
            if mask[b][t]:
                r = math.exp(logp[b][t] - old[b][t])
                w = min(math.exp(logp[b][t] - behaviour[b][t]), 1.0)
                total += -w * min(r * adv[b], max(min(r, 1 + clip), 1 - clip) * adv[b])
                count += 1
    return total / count


def test_vectorised_policy_loss_matches_the_plain_loop():
    g = torch.Generator().manual_seed(0)
    logp, old, beh = (torch.randn(3, 5, generator=g) * 0.3 - 1 for _ in range(3))
    adv = torch.randn(3, generator=g)
    mask = torch.rand(3, 5, generator=g) > 0.3
    loss, stats = ppo.policy_loss(logp, old, beh, adv, mask, clip=0.2)
    assert loss.item() == pytest.approx(reference_policy_loss(logp.tolist(), old.tolist(), beh.tolist(),
                                                              adv.tolist(), mask.tolist(), 0.2), rel=1e-5)
    assert 0 <= stats["losses/clipfrac"] <= 1


def test_off_policy_weight_is_capped_at_one_and_carries_no_gradient():
    logp = torch.tensor([[0.0]], requires_grad=True)
    loss, stats = ppo.policy_loss(logp, torch.zeros(1, 1), torch.tensor([[-5.0]]), torch.tensor([1.0]),
                                  torch.ones(1, 1, dtype=torch.bool))
    assert stats["losses/offpolicy_weight"].item() == 1.0
    loss.backward()
    assert logp.grad.item() == pytest.approx(-1.0)  # the gradient of ratio * A only


def test_value_loss_is_clipped_around_the_old_value():
    old, target = torch.tensor([0.0]), torch.tensor([1.0])
    far = ppo.value_loss(torch.tensor([1.0]), old, target, clip=0.2)
    assert far.item() == pytest.approx(0.5 * 0.8 ** 2)  # max(0, (0.2-1)^2)


def test_explained_variance_is_one_for_a_perfect_critic():
    target = torch.tensor([1.0, -1.0, 0.5])
    assert ppo.explained_variance(target, target).item() == pytest.approx(1.0)


def test_normalised_advantages_have_zero_mean_unit_std():
    adv = ppo.normalize(torch.tensor([1.0, 2.0, 3.0, 10.0]))
    assert adv.mean().abs() < 1e-6 and adv.std().item() == pytest.approx(1.0, rel=1e-4)


def test_normalisation_over_ranks_uses_the_whole_iteration_statistics():
    """Two ranks' shares, each normalised with the summed statistics, equal the normalised whole."""
    whole = torch.tensor([1.0, 2.0, 3.0, 10.0, -4.0])
    shares = [whole[:2], whole[2:]]
    total = sum(torch.stack([torch.tensor(float(s.numel())), s.sum(), (s ** 2).sum()]) for s in shares)
    together = torch.cat([ppo.normalize(s, all_reduce=lambda _: total) for s in shares])
    assert together.tolist() == pytest.approx(ppo.normalize(whole).tolist(), abs=1e-6)
    assert ppo.normalize(whole).tolist() == pytest.approx(((whole - whole.mean()) / whole.std()).tolist(), abs=1e-6)
