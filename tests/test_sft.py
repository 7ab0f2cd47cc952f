"""The supervised warm start: loss only on the answer, and it fits a few examples."""
import random

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
