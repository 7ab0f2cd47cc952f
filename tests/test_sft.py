"""The supervised warm start: loss only on the answer, and it fits a few examples."""
import random

import pytest
import torch
from omegaconf import OmegaConf

from rlef.data.problem import Problem, Test
from rlef.models import load_tokenizer, tiny_random_llama
from rlef.rollout import ChatFormat
from rlef.sft import batch_loss, epoch_batches, sft_example, train_sft

PROBLEM = Problem("p", "rlef_mini", "Print the sum.", (Test("1 2\n", "3\n"),), (Test("2 2\n", "4\n"),),
                  reference_solution="a, b = map(int, input().split())\nprint(a + b)\n")


def setup():
    tokenizer = load_tokenizer(OmegaConf.create({"kind": "smollm2_gguf"}))
    return tokenizer, ChatFormat(tokenizer), tiny_random_llama(len(tokenizer))


def test_loss_covers_exactly_the_answer_and_its_stop_token():
    tokenizer, chat, _ = setup()
    ids, mask = sft_example(PROBLEM, chat, tokenizer)
    answer = [t for t, m in zip(ids, mask) if m]
    assert tokenizer.decode(answer) == "```python\na, b = map(int, input().split())\nprint(a + b)\n```<|im_end|>"
    assert ids[: mask.index(True)] == chat.first(
        "Provide a Python solution for the following competitive programming question: Print the sum.."
        "\n\nYour code should be enclosed in triple backticks like so: ```python YOUR CODE HERE ```. "
        "Use the backticks for your code only.")


def test_loss_is_the_mean_cross_entropy_of_answer_tokens_only():
    tokenizer, chat, model = setup()
    ids, mask = sft_example(PROBLEM, chat, tokenizer)
    with torch.no_grad():
        loss = batch_loss(model, [(ids, mask)], tokenizer.pad_token_id)
        logits = model(torch.tensor([ids])).logits[0, :-1]
    per_token = torch.nn.functional.cross_entropy(logits, torch.tensor(ids[1:]), reduction="none")
    assert torch.allclose(loss, per_token[torch.tensor(mask[1:])].mean(), atol=1e-5)


def test_training_fits_a_handful_of_examples():
    tokenizer, chat, model = setup()
    examples = [sft_example(PROBLEM, chat, tokenizer)] * 4
    history = train_sft(model, examples, epochs=6, batch_size=2, lr=5e-3, weight_decay=0.0,
                        pad_id=tokenizer.pad_token_id)
    assert history[-1]["loss"] < 0.5 * history[0]["loss"]


def test_epoch_batches_cover_each_example_once_and_grouping_cuts_padding():
    lengths = [random.Random(i).choice((100, 250, 600)) for i in range(200)]
    padded = {}
    for group in (False, True):
        batches = epoch_batches(lengths, 4, random.Random(0), group)
        assert sorted(i for b in batches for i in b) == list(range(200))
        padded[group] = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    assert padded[True] < 0.8 * padded[False]


def test_a_mined_trajectory_is_the_episode_with_the_loss_on_its_last_reply_only():
    """Paper Table 3's SFT baseline: successful multi-turn episodes, loss on the final response."""
    from rlef.sft import trajectory_example

    tokenizer, chat, _ = setup()
    record = {"turns": [{"user": "Solve it.", "response": "```python\nprint(1)\n```", "stopped": True},
                        {"user": "Your code failed.", "response": "```python\nprint(2)\n```", "stopped": False}]}
    ids, mask = trajectory_example(record, chat, tokenizer)
    answer = tokenizer.decode([t for t, m in zip(ids, mask) if m])
    assert answer == "```python\nprint(2)\n```<|im_end|>"  # closed by the stop token even if generation was cut
    context = chat.first("Solve it.") + tokenizer.encode("```python\nprint(1)\n```", add_special_tokens=False)
    context += [tokenizer.eos_token_id] + chat.next_user("Your code failed.", response_stopped=True)
    assert ids[: mask.index(True)] == context and not any(mask[: len(context)])


def test_the_cosine_schedule_decays_the_learning_rate_to_zero():
    from rlef.sft import learning_rate_factor

    assert [learning_rate_factor("cosine", s, 4) for s in (0, 2, 4)] == pytest.approx([1.0, 0.5, 0.0])
    assert learning_rate_factor("constant", 3, 4) == 1.0
    with pytest.raises(ValueError, match="sft.schedule"):
        learning_rate_factor("linear", 0, 4)
    tokenizer, chat, model = setup()
    history = train_sft(model, [sft_example(PROBLEM, chat, tokenizer)] * 4, epochs=2, batch_size=2, lr=1e-3,
                        weight_decay=0.0, pad_id=tokenizer.pad_token_id, schedule="cosine")
    assert [h["lr"] for h in history] == pytest.approx([1e-3 * f for f in (1.0, 0.8535534, 0.5, 0.1464466)])
