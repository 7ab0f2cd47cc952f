"""task=sft: supervised fine-tuning on reference solutions, single turn, loss on the response only.

At CPU scale this is the warm start that stands in for "an Instruct model that already
writes stdin/stdout programs" (paper 3.1 starts from Llama 3.1 Instruct; the embedded
SmolLM2-135M-Instruct solves 0/16 of "print a + b" as is). Deviation from the paper,
documented in experiments/. The same code path is the paper's SFT baseline at scale.

The target reply is the reference solution in the paper's answer format (a ```python
block), followed by the stop token. Writes the fine-tuned model (save_pretrained, with the
tokenizer) to <run dir>/model and the loss curve to <run dir>/sft_loss.csv; evaluate it with
`model.kind=hf model.name_or_path=<run dir>/model`.
"""
from __future__ import annotations

import csv
import logging
import random
from pathlib import Path

import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from rlef.data import Problem, load_problems
from rlef.feedback import first_prompt
from rlef.models import load_model, load_tokenizer
from rlef.rollout import ChatFormat
from rlef.rundir import record_run

log = logging.getLogger(__name__)


def sft_example(problem: Problem, chat: ChatFormat, tokenizer) -> tuple[list[int], list[bool]]:
    """(ids, loss_mask): the first-turn prompt, then the reference answer (loss only there)."""
    prompt = chat.first(first_prompt(problem))
    answer = f"```python\n{problem.reference_solution.rstrip()}\n```"
    response = tokenizer.encode(answer, add_special_tokens=False) + [tokenizer.eos_token_id]
    return prompt + response, [False] * len(prompt) + [True] * len(response)


def batch_loss(model, examples: list[tuple[list[int], list[bool]]], pad_id: int) -> torch.Tensor:
    """Mean token cross-entropy over response tokens of a right-padded batch."""
    width = max(len(ids) for ids, _ in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    mask = torch.zeros(len(examples), width, dtype=torch.bool)
    attention = torch.zeros(len(examples), width, dtype=torch.long)
    for row, (tokens, loss_mask) in enumerate(examples):
        ids[row, : len(tokens)] = torch.tensor(tokens)
        mask[row, : len(tokens)] = torch.tensor(loss_mask)
        attention[row, : len(tokens)] = 1
    device = next(model.parameters()).device
    ids, mask, attention = ids.to(device), mask.to(device), attention.to(device)
    logits = model(input_ids=ids, attention_mask=attention).logits[:, :-1].float()
    targets, weights = ids[:, 1:], mask[:, 1:]
    losses = torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    return (losses * weights).sum() / weights.sum()


def train_sft(model, examples: list, epochs: int, batch_size: int, lr: float, weight_decay: float,
              pad_id: int, seed: int = 0) -> list[dict]:
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    rng, history, step = random.Random(seed), [], 0
    model.train()
    for epoch in range(epochs):
        order = list(range(len(examples)))
        rng.shuffle(order)
        for start in range(0, len(order), batch_size):
            loss = batch_loss(model, [examples[i] for i in order[start:start + batch_size]], pad_id)
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
    tokenizer = load_tokenizer(cfg.model)
    model = load_model(cfg.model, tokenizer)
    problems = [p for p in load_problems(cfg.data, cfg.sft.split) if p.reference_solution]
    problems = problems[: cfg.sft.max_problems or None]
    chat = ChatFormat(tokenizer)
    examples = [sft_example(p, chat, tokenizer) for p in problems]
    log.info("sft on %d %s problems (%d tokens)", len(examples), cfg.sft.split, sum(len(e[0]) for e in examples))
    history = train_sft(model, examples, cfg.sft.epochs, cfg.sft.batch_size, cfg.sft.lr, cfg.sft.weight_decay,
                        tokenizer.pad_token_id, cfg.seed)
    model.save_pretrained(out / "model")
    tokenizer.save_pretrained(out / "model")
    with (out / "sft_loss.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["step", "epoch", "loss"])
        writer.writeheader()
        writer.writerows(history)
    log.info("wrote %s", out / "model")
    return {"final_loss": history[-1]["loss"] if history else None, "model_dir": str(out / "model")}
