"""task=sft: supervised fine-tuning on reference solutions, loss on the (last) response only.

At CPU scale this is the warm start that stands in for "an Instruct model that already
writes stdin/stdout programs" (paper 3.1 starts from Llama 3.1 Instruct; the embedded
SmolLM2-135M-Instruct solves 0/16 of "print a + b" as is). Deviation from the paper,
documented in experiments/. The same code path is the paper's SFT baseline at scale.

With sft.repair_share > 0, that share of the examples are multi-turn repair dialogues
(rlef.repair: a wrong first reply, the executor's real feedback, then the reference), with the
loss on the final reply only, as the paper's SFT baseline (Table 3) trains on trajectories.

The target reply is the reference solution in the paper's answer format (a ```python
block), followed by the stop token. Writes the fine-tuned model (save_pretrained, with the
tokenizer) to <run dir>/model and the loss curve to <run dir>/sft_loss.csv; evaluate it with
`model.kind=hf model.name_or_path=<run dir>/model`.
"""
from __future__ import annotations

import csv
import logging
import random
from collections.abc import Sequence
from pathlib import Path

import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from rlef.data import BUNDLED, Problem, load_problems
from rlef.errors import BadInput
from rlef.execution.executor import Executor
from rlef.execution.types import Limits
from rlef.feedback import first_prompt
from rlef.models import load_model, load_tokenizer
from rlef.repair import RepairDialogue, repair_dialogues
from rlef.rollout import ChatFormat
from rlef.rundir import record_run

log = logging.getLogger(__name__)


def answer_tokens(code: str, tokenizer) -> list[int]:
    """A reply in the paper's answer format (a ```python block), closed by the stop token."""
    return tokenizer.encode(f"```python\n{code.rstrip()}\n```", add_special_tokens=False) + [tokenizer.eos_token_id]


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


def repair_count(single_turn: int, share: float) -> int:
    """How many dialogues make them `share` of all examples, next to `single_turn` others."""
    if not 0 <= share < 1:
        raise BadInput(f"sft.repair_share must be in [0, 1), got {share}")
    return round(single_turn * share / (1 - share))


def check_repair_settings(sft_cfg: DictConfig) -> None:
    repair_count(1, sft_cfg.repair_share)
    name = sft_cfg.repair_benchmark
    if name is not None and name not in BUNDLED:
        raise BadInput(f"sft.repair_benchmark must be null or one of {', '.join(BUNDLED)}, got {name!r}")


def repair_problems(cfg: DictConfig, problems: list[Problem]) -> list[Problem]:
    """The problems the repair dialogues are built from: the SFT problems, or the same split of
    the bundled benchmark `sft.repair_benchmark` (e.g. only the hidden-spec families)."""
    name = cfg.sft.repair_benchmark
    if name is None:
        return problems
    return [p for p in load_problems(OmegaConf.create({"name": name}), cfg.sft.split) if p.reference_solution]


def build_examples(cfg: DictConfig, problems: list[Problem], chat: ChatFormat, tokenizer) -> list:
    examples = [sft_example(p, chat, tokenizer) for p in problems]
    count = repair_count(len(examples), cfg.sft.repair_share)
    if count:
        sources = repair_problems(cfg, problems)
        with Executor(cfg.execution.workers, cfg.execution.isolation) as executor:
            dialogues = repair_dialogues(sources, count, executor, Limits.from_config(cfg.execution), cfg.seed)
        log.info("sft: %d repair dialogues (asked for %d, share %.2f)", len(dialogues), count, cfg.sft.repair_share)
        examples += [repair_example(d, chat, tokenizer) for d in dialogues]
    return examples


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


def train_sft(model, examples: list, epochs: int, batch_size: int, lr: float, weight_decay: float,
              pad_id: int, seed: int = 0, group_by_length: bool = False) -> list[dict]:
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    rng, history, step = random.Random(seed), [], 0
    lengths = [len(ids) for ids, _ in examples]
    model.train()
    for epoch in range(epochs):
        for batch in epoch_batches(lengths, batch_size, rng, group_by_length):
            loss = batch_loss(model, [examples[i] for i in batch], pad_id)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            history.append({"step": step, "epoch": epoch, "loss": loss.item()})
            if step % 10 == 0:
                log.info("sft step %d epoch %d loss %.4f", step, epoch, loss.item())
    model.eval()
    return history


def main(cfg: DictConfig) -> dict:
    out = Path(HydraConfig.get().runtime.output_dir)
    record_run(out, cfg)
    torch.manual_seed(cfg.seed)
    check_repair_settings(cfg.sft)  # before the model loads
    tokenizer = load_tokenizer(cfg.model)
    model = load_model(cfg.model, tokenizer)
    problems = [p for p in load_problems(cfg.data, cfg.sft.split) if p.reference_solution]
    problems = problems[: cfg.sft.max_problems or None]
    chat = ChatFormat(tokenizer)
    examples = build_examples(cfg, problems, chat, tokenizer)
    log.info("sft on %d %s problems (%d tokens)", len(examples), cfg.sft.split, sum(len(e[0]) for e in examples))
    history = train_sft(model, examples, cfg.sft.epochs, cfg.sft.batch_size, cfg.sft.lr, cfg.sft.weight_decay,
                        tokenizer.pad_token_id, cfg.seed, cfg.sft.group_by_length)
    model.save_pretrained(out / "model")
    tokenizer.save_pretrained(out / "model")
    with (out / "sft_loss.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["step", "epoch", "loss"])
        writer.writeheader()
        writer.writerows(history)
    log.info("wrote %s", out / "model")
    return {"final_loss": history[-1]["loss"] if history else None, "model_dir": str(out / "model")}
