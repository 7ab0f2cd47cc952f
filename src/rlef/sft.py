"""Supervised fine-tuning on reference solutions, loss on the (last) response only: the
examples (single answers and repair dialogues, token for token what an episode holds) and the
training loop. The task (task=sft, the CPU-scale warm start) is rlef/tasks/sft.py.

The target reply is the reference solution in the paper's answer format (a ```python
block), followed by the stop token.
"""
from __future__ import annotations

import logging
import math
import random
from collections.abc import Sequence

import torch

from rlef.data import Problem
from rlef.errors import BadInput
from rlef.feedback import first_prompt
from rlef.repair import RepairDialogue, answer_text
from rlef.rollout import ChatFormat

log = logging.getLogger(__name__)


def answer_tokens(code: str, tokenizer) -> list[int]:
    """A reply in the paper's answer format (a ```python block), closed by the stop token."""
    return tokenizer.encode(answer_text(code), add_special_tokens=False) + [tokenizer.eos_token_id]


def sft_example(problem: Problem, chat: ChatFormat, tokenizer) -> tuple[list[int], list[bool]]:
    """(ids, loss_mask): the first-turn prompt, then the reference answer (loss only there)."""
    prompt = chat.first(first_prompt(problem))
    response = answer_tokens(problem.reference_solution, tokenizer)
    return prompt + response, [False] * len(prompt) + [True] * len(response)


def repair_example(dialogue: RepairDialogue, chat: ChatFormat, tokenizer) -> tuple[list[int], list[bool]]:
    """(ids, loss_mask): prompt, wrong reply, feedback turn, reference; loss on the reference only,
    so the wrong reply is context, never a target. Token for token what an episode would hold."""
    context = chat.first(first_prompt(dialogue.problem)) + answer_tokens(dialogue.wrong_code, tokenizer)
    context += chat.next_user(dialogue.feedback, response_stopped=True)
    response = answer_tokens(dialogue.problem.reference_solution, tokenizer)
    return context + response, [False] * len(context) + [True] * len(response)


def trajectory_example(record: dict, chat: ChatFormat, tokenizer) -> tuple[list[int], list[bool]]:
    """(ids, loss_mask) of a mined episode (a samples.jsonl record, rlef.tasks.mine): every turn as
    the episode held it, the loss on the last reply only (paper Table 3's SFT baseline). The replies
    are re-encoded from their text; the last one is closed by the stop token, so the model learns
    to stop after its fix even where generation had stopped at the code block."""
    turns = record["turns"]
    context = chat.first(turns[0]["user"])
    for previous, turn in zip(turns, turns[1:]):
        context += tokenizer.encode(previous["response"], add_special_tokens=False)
        context += [tokenizer.eos_token_id] if previous["stopped"] else []
        context += chat.next_user(turn["user"], response_stopped=previous["stopped"])
    response = tokenizer.encode(turns[-1]["response"], add_special_tokens=False) + [tokenizer.eos_token_id]
    return context + response, [False] * len(context) + [True] * len(response)


def repair_count(single_turn: int, share: float) -> int:
    """How many dialogues make them `share` of all examples, next to `single_turn` others."""
    if not 0 <= share < 1:
        raise BadInput(f"sft.repair_share must be in [0, 1), got {share}")
    return round(single_turn * share / (1 - share))


def right_padded(examples: Sequence[tuple[list[int], list[bool]]], pad_id: int,
                 device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(ids, loss mask, attention), each (B, T): the (ids, loss_mask) examples right-padded."""
    width = max(len(ids) for ids, _ in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    mask = torch.zeros(len(examples), width, dtype=torch.bool)
    attention = torch.zeros(len(examples), width, dtype=torch.long)
    for row, (tokens, loss_mask) in enumerate(examples):
        ids[row, : len(tokens)] = torch.tensor(tokens)
        mask[row, : len(tokens)] = torch.tensor(loss_mask)
        attention[row, : len(tokens)] = 1
    return ids.to(device), mask.to(device), attention.to(device)


def batch_loss(model, examples: list[tuple[list[int], list[bool]]], pad_id: int) -> torch.Tensor:
    """Mean token cross-entropy over response tokens of a right-padded batch."""
    ids, mask, attention = right_padded(examples, pad_id, next(model.parameters()).device)
    logits = model(input_ids=ids, attention_mask=attention).logits[:, :-1].float()
    targets, weights = ids[:, 1:], mask[:, 1:]
    losses = torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    return (losses * weights).sum() / weights.sum()


GROUP_WINDOW = 16  # batches per window sorted by length: similar lengths, still a shuffled order


def epoch_batches(lengths: Sequence[int], batch_size: int, rng: random.Random,
                  group_by_length: bool) -> list[list[int]]:
    """One epoch's batches of example indices. With `group_by_length`, each window of
    GROUP_WINDOW batches is sorted by length before it is cut (as HF's group_by_length), so a
    batch pads to a similar length: repair dialogues are ~2x a single answer."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    if group_by_length:
        window = batch_size * GROUP_WINDOW
        order = [i for w in range(0, len(order), window) for i in sorted(order[w:w + window], key=lengths.__getitem__)]
    batches = [order[start:start + batch_size] for start in range(0, len(order), batch_size)]
    if group_by_length:
        rng.shuffle(batches)
    return batches


SCHEDULES = ("constant", "cosine")


def learning_rate_factor(schedule: str, step: int, total: int) -> float:
    """The multiplier of the base lr after `step` of `total` updates: constant, or cosine decay to 0
    (paper Table 3's SFT baseline)."""
    if schedule not in SCHEDULES:
        raise BadInput(f"sft.schedule must be one of {SCHEDULES}, got {schedule!r}")
    return 1.0 if schedule == "constant" else 0.5 * (1.0 + math.cos(math.pi * min(step, total) / max(total, 1)))


def train_sft(model, examples: list, epochs: int, batch_size: int, lr: float, weight_decay: float,
              pad_id: int, seed: int = 0, group_by_length: bool = False, schedule: str = "constant") -> list[dict]:
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    rng, history, step = random.Random(seed), [], 0
    lengths = [len(ids) for ids, _ in examples]
    total = epochs * -(-len(examples) // batch_size)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: learning_rate_factor(schedule, s, total))
    model.train()
    for epoch in range(epochs):
        for batch in epoch_batches(lengths, batch_size, rng, group_by_length):
            loss = batch_loss(model, [examples[i] for i in batch], pad_id)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            used = optimizer.param_groups[0]["lr"]  # this update's rate, before the schedule moves on
            optimizer.step()
            scheduler.step()
            step += 1
            history.append({"step": step, "epoch": epoch, "loss": loss.item(), "lr": used})
            if step % 10 == 0:
                log.info("sft step %d epoch %d loss %.4f", step, epoch, loss.item())
    model.eval()
    return history
