"""Episodes -> PPO tensors, and the policy + turn-level critic module, on hand-built episodes."""
from dataclasses import replace

import pytest
import torch
from omegaconf import OmegaConf

from rlef import experience
from rlef.data.problem import Problem, Test
from rlef.execution.types import ExecutionResult, TestResult, Verdict
from rlef.models import PolicyCritic, tiny_random_llama
from rlef.rollout import Episode, Turn

PROBLEM = Problem("p", "rlef_mini", "Print 1.", (Test("\n", "1\n"),), (Test("\n", "1\n"),))
VOCAB = 64


def episode(spec, solved: bool) -> Episode:
    """spec: [(prompt_len, response_len, has_code)] per turn; ids are arbitrary."""
    e = Episode(PROBLEM, [], [])
    for prompt, response, has_code in spec:
        e.tokens += [3] * prompt
        e.policy_mask += [False] * prompt
        e.turns.append(Turn(len(e.tokens), [5] * response, [-0.1 * (i + 1) for i in range(response)], True, "",
                            "print(1)" if has_code else None))
        e.tokens += [5] * response
        e.policy_mask += [True] * response
    e.final = ExecutionResult((TestResult(Verdict.PASSED, "\n", "1\n", "1\n"),)) if solved else None
    if solved:  # the reward needs the public tests passed too
        e.turns[-1].public = e.final
    return e


def test_collate_lays_out_turns_values_and_rewards():
    a = episode([(3, 2, True), (2, 3, False), (2, 1, True)], solved=False)
    b = episode([(4, 2, True)], solved=True)
    batch = experience.collate([a, b], pad_id=0)
    assert batch.tokens.shape == (2, 13) and batch.attention[1].sum() == 6
    assert batch.value_index.tolist() == [[2, 6, 11], [3, 0, 0]]  # last prompt token of each turn
    assert batch.turn_mask.tolist() == [[True, True, True], [True, False, False]]
    assert batch.rewards[0].tolist() == pytest.approx([0.0, -0.2, -1.0])  # no-code penalty mid-episode
    assert batch.rewards[1].tolist() == [1.0, 0.0, 0.0]
    turn_tokens = batch.turn_of_token[0][batch.response_mask[0]].tolist()
    assert turn_tokens == [0, 0, 1, 1, 1, 2]
    assert batch.behaviour_logp[0, 3:5].tolist() == pytest.approx([-0.1, -0.2])


def overflowed(e: Episode, prompt: int) -> Episode:
    """`e` with one more turn whose prompt of `prompt` tokens overflowed the context (rollout.context_overflow)."""
    longer = Episode(e.problem, e.tokens + [7] * prompt, e.policy_mask + [False] * prompt, list(e.turns), e.final)
    longer.turns.append(Turn(len(longer.tokens), [], [], False, "", None, overflow="context overflow: ..."))
    return longer


def test_an_overflowed_last_turn_adds_no_token_value_or_reward_to_training():
    """Its feedback prompt (possibly past the model's positions) and its empty reply stay out: the batch
    is the episode's answered turns, whose last one takes the failure's reward."""
    for spec in ([(3, 2, True)], [(3, 2, True), (2, 3, False)]):
        answered = episode(spec, solved=False)
        cut = experience.collate([overflowed(answered, prompt=50)], pad_id=0)
        whole = experience.collate([answered], pad_id=0)
        for name in ("tokens", "attention", "response_mask", "turn_of_token", "value_index", "turn_mask", "rewards",
                     "behaviour_logp"):
            assert torch.equal(getattr(cut, name), getattr(whole, name)), name
    assert cut.rewards.tolist() == [[0.0, -1.0]]


def test_an_episode_whose_first_prompt_overflowed_is_a_one_token_row_with_no_turn():
    """Only ever a weight-0 filler (iteration.ppo_update trains on none): its row must stay harmless."""
    alone = experience.collate([overflowed(Episode(PROBLEM, [], []), prompt=50)], pad_id=0)
    assert alone.tokens.shape == (1, 1) and not alone.response_mask.any() and not alone.turn_mask.any()
    assert alone.turn_mask.shape == (1, 1)  # per_turn_kl stacks over at least one turn


def test_single_turn_training_has_no_intermediate_penalty():
    batch = experience.collate([episode([(3, 2, False)], solved=False)], 0)
    assert batch.rewards.tolist() == [[-1.0]]


def test_per_turn_kl_is_the_geometric_mean_log_ratio_of_each_response():
    batch = experience.collate([episode([(2, 2, True), (1, 4, True)], False)], 0)
    x = torch.zeros(batch.tokens.shape)
    x[0, 2:4] = torch.tensor([1.0, 3.0])  # turn 0: mean 2
    x[0, 5:9] = 1.0  # turn 1: mean 1
    x[0, 0] = 100.0  # a prompt token never counts
    assert experience.per_turn_kl(x, torch.zeros_like(x), batch).tolist() == [[2.0, 1.0]]


def scored(batch, kl, values):
    return experience.EpisodeBatch(**{**batch.__dict__, "kl": kl, "old_values": values,
                                      "old_logp": torch.zeros(batch.tokens.shape)})


def test_advantages_are_kl_shaped_returns_minus_values_normalised_over_turns():
    a = experience.collate([episode([(2, 1, True), (2, 1, True)], solved=True)], 0)
    b = experience.collate([episode([(2, 1, True)], solved=False)], 0)
    a = scored(a, torch.tensor([[0.2, 0.4]]), torch.tensor([[0.5, 0.1]]))
    b = scored(b, torch.tensor([[0.0]]), torch.tensor([[0.0]]))
    out = experience.assign_advantages([a, b], kl_beta=0.05, gamma=1.0)
    # R = r - 0.05 KL: turn rewards (0, +1) -> (-0.01, 0.98); returns (0.97, 0.98)
    assert out[0].returns[0].tolist() == pytest.approx([0.97, 0.98])
    raw = torch.tensor([0.97 - 0.5, 0.98 - 0.1, -1.0])
    expected = (raw - raw.mean()) / raw.std()
    assert torch.cat([out[0].advantages[0], out[1].advantages[0]]).tolist() == pytest.approx(expected.tolist(),
                                                                                               abs=1e-5)

def test_filler_batches_of_weight_zero_stay_out_of_the_advantage_statistics():
    """Filler batches keep ranks in step; they must not shift the real batches' advantages."""
    a = scored(experience.collate([episode([(2, 1, True), (2, 1, True)], solved=True)], 0),
               torch.tensor([[0.2, 0.4]]), torch.tensor([[0.5, 0.1]]))
    b = scored(experience.collate([episode([(2, 1, True)], solved=False)], 0),
               torch.tensor([[0.0]]), torch.tensor([[0.0]]))
    alone = experience.assign_advantages([a, b], kl_beta=0.05, gamma=1.0)
    padded = experience.assign_advantages([a, b, replace(b, weight=0.0)], kl_beta=0.05, gamma=1.0)
    assert [x.advantages.tolist() for x in padded[:2]] == [x.advantages.tolist() for x in alone]
    assert padded[2].advantages.abs().sum() == 0



@pytest.fixture(params=["separate", "shared"])
def model(request):
    return PolicyCritic(tiny_random_llama(VOCAB, seed=1), critic=request.param)


def test_token_logprobs_match_a_full_softmax_and_values_start_at_zero(model):
    tokens = torch.randint(1, VOCAB, (2, 9))
    attention = torch.ones_like(tokens)
    mask = torch.zeros(2, 9, dtype=torch.bool)
    mask[:, 5:] = True
    logp, entropy, values = model(tokens, attention, mask)
    full = torch.log_softmax(model.policy(input_ids=tokens).logits.float(), -1)
    expected = full[:, :-1].gather(-1, tokens[:, 1:, None]).squeeze(-1)
    assert torch.allclose(logp[:, 5:], expected[:, 4:], atol=1e-5)
    assert (logp[:, :5] == 0).all() and (entropy[:, 5:] > 0).all()
    assert torch.equal(values, torch.zeros_like(values))  # zero-initialised head
    ref = model.reference_logprobs(tokens, attention, mask)
    assert torch.allclose(ref, logp, atol=1e-6)  # rho = the initial policy


def test_param_groups_split_policy_and_critic_and_skip_the_frozen_reference(model):
    groups = {g["name"]: g for g in model.param_groups(1e-6, 1e-5, 0.1)}
    policy_ids = {id(p) for p in groups["policy"]["params"]}
    critic_ids = {id(p) for p in groups["critic"]["params"]}
    reference_ids = {id(p) for p in model.reference.parameters()}
    assert not policy_ids & critic_ids and not (policy_ids | critic_ids) & reference_ids
    assert groups["critic"]["lr"] == 1e-5
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    assert trainable == policy_ids | critic_ids
    assert (model.critic_body is None) == (model.critic_mode == "shared")


def test_lora_policy_with_adapter_off_reference_keeps_no_second_copy():
    lora = OmegaConf.create({"enabled": True, "r": 4, "alpha": 8, "dropout": 0.0,
                             "target_modules": ["q_proj", "v_proj"]})
    model = PolicyCritic(tiny_random_llama(VOCAB), critic="shared", reference="adapter_off", lora=lora)
    assert model.reference is None
    policy_params = model.param_groups(1e-6, 1e-6, 0.0)[0]["params"]
    assert policy_params and all("lora" in n for n, p in model.policy.named_parameters() if p.requires_grad)
    tokens = torch.randint(1, VOCAB, (1, 6))
    mask = torch.ones(1, 6, dtype=torch.bool)
    with torch.no_grad():
        for name, p in model.policy.named_parameters():
            if "lora_B" in name:
                p.fill_(0.1)  # move the adapter away from its zero start
    logp = model(tokens, torch.ones_like(tokens), mask)[0]
    ref = model.reference_logprobs(tokens, torch.ones_like(tokens), mask)
    assert not torch.allclose(logp, ref)


def test_bad_layouts_fail_with_a_clear_message():
    with pytest.raises(ValueError, match="algo.critic"):
        PolicyCritic(tiny_random_llama(VOCAB), critic="twin")
    with pytest.raises(ValueError, match="lora.enabled"):
        PolicyCritic(tiny_random_llama(VOCAB), reference="adapter_off")


def test_ppo_updates_raise_the_rewarded_response_and_fit_the_critic():
    """End to end on one scored batch: the solved episode's response must gain probability, the
    failed one's must lose it, and V(c) must move towards the returns (distinct prompts)."""
    torch.manual_seed(0)
    model = PolicyCritic(tiny_random_llama(VOCAB, seed=2), critic="separate")
    good, bad = episode([(4, 3, True)], solved=True), episode([(4, 3, True)], solved=False)
    good.tokens[4:7] = good.turns[0].response = [7, 8, 9]
    bad.tokens[4:7] = bad.turns[0].response = [10, 11, 12]
    bad.tokens[:4] = [4, 4, 4, 4]
    batch = experience.collate([good, bad], 0)
    before = experience.score(model, batch)
    batch = experience.assign_advantages([before], kl_beta=0.05, gamma=1.0)[0]
    batch.behaviour_logp = batch.old_logp.clone()
    optimizer = torch.optim.AdamW(model.param_groups(1e-3, 1e-2, 0.0))
    for _ in range(5):
        p_loss, v_loss, stats = experience.micro_batch_loss(model, batch, 0.2, 0.2, 1.0)
        optimizer.zero_grad()
        (p_loss + v_loss).backward()
        optimizer.step()
    after = experience.score(model, batch)
    gain = (after.old_logp - before.old_logp).sum(-1)
    assert gain[0] > 0 > gain[1]
    assert after.kl[0, 0] > 0  # moved away from rho
    assert (after.old_values - batch.returns).abs().sum() < (before.old_values - batch.returns).abs().sum()
    assert set(stats) >= {"losses/clipfrac", "losses/approx_kl", "losses/entropy", "losses/value"}


def test_the_reference_stays_in_eval_mode_when_the_module_trains():
    model = PolicyCritic(tiny_random_llama(VOCAB)).train()
    assert model.policy.training and not model.reference.training


@pytest.mark.parametrize("critic", ["separate", "shared"])
def test_gradient_checkpointing_changes_memory_not_the_gradients(critic):
    def gradients(checkpointing: bool) -> dict:
        model = PolicyCritic(tiny_random_llama(VOCAB), critic=critic, checkpointing=checkpointing).train()
        tokens = torch.randint(1, VOCAB, (2, 12))
        mask = torch.zeros(2, 12, dtype=torch.bool)
        mask[:, 6:] = True
        logp, _, values = model(tokens, torch.ones_like(tokens), mask)
        (logp.sum() + values.pow(2).sum()).backward()
        return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    torch.manual_seed(0)
    plain = gradients(False)
    torch.manual_seed(0)
    checkpointed = gradients(True)
    assert plain.keys() == checkpointed.keys() and len(plain) > 10
    assert all(torch.allclose(plain[n], checkpointed[n], atol=1e-6) for n in plain)
    model = PolicyCritic(tiny_random_llama(VOCAB), critic=critic, checkpointing=True)
    assert model.policy.is_activation_checkpointing
    assert critic == "shared" or model.critic_body.is_activation_checkpointing
