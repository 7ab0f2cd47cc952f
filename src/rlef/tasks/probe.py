"""task=probe: the feedback-use probe (rlef/probe.py) for one checkpoint.

    python src/run.py experiment=feedback_probe model.name_or_path=<checkpoint dir>

The bank of failed first turns (probe.bank) is built by the first run that finds it missing:
from that run's model (probe.first_turns=model: build it with the warm start), or constructed
from the hidden-spec problems' near misses (probe.first_turns=near_miss). Commit it, and every
later checkpoint is probed on the same first turns. Writes probe.csv (one row per bank item, condition and
temperature: successes, copies of the first code, chrF to it, the reference fix's log-prob),
probe_summary.csv (rates and paired differences with family-resampled CIs), second_turns.jsonl
(every sampled second turn: its code and whether it passed) and a copy of the bank.
"""
from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from rlef.data import load_problems
from rlef.data.mini import subset_of
from rlef.errors import BadInput
from rlef.execution.executor import Executor
from rlef.execution.types import Limits
from rlef.generation import SamplingParams
from rlef.models import load_model, load_tokenizer
from rlef.probe import (
    CONDITIONS,
    BankItem,
    bank_from_episodes,
    context,
    item_record,
    near_miss_bank,
    reply_logprobs,
    sample_second_turns,
    statement_sha,
    summarize,
)
from rlef.provenance import record_run, write_csv
from rlef.rollout import ChatFormat, EpisodeRunner, RolloutConfig, context_overflow, hf_backend
from rlef.sft import answer_tokens

log = logging.getLogger(__name__)
FIRST_TURNS = ("model", "near_miss")  # probe.first_turns: sampled from the model, or constructed


def check_settings(probe_cfg) -> None:
    """One clear line for a setting that would silently change what the probe measures."""
    if probe_cfg.samples < 1 or probe_cfg.bank_rollouts < 1 or probe_cfg.per_problem < 1:
        raise BadInput("probe.samples, probe.bank_rollouts and probe.per_problem must be >= 1")
    if probe_cfg.first_turns not in FIRST_TURNS:
        raise BadInput(f"probe.first_turns must be one of {FIRST_TURNS}, got {probe_cfg.first_turns!r}")
    if not probe_cfg.temperatures or any(t < 0 for t in probe_cfg.temperatures):
        raise BadInput(f"probe.temperatures must be a non-empty list of values >= 0, got {probe_cfg.temperatures}")


def read_bank(path: Path, problems: dict) -> list[BankItem]:
    items = [BankItem(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
    missing = sorted({i.problem for i in items} - set(problems))
    if missing:
        raise BadInput(f"bank {path}: {len(missing)} problems are not in the data ({missing[:3]}...): "
                         "probe it with the data and split it was built on")
    changed = sorted({i.problem for i in items if i.statement_sha != statement_sha(problems[i.problem])})
    if changed:
        raise BadInput(f"bank {path}: {len(changed)} problems changed since it was built ({changed[:3]}...): "
                         "rebuild the bank (delete it and probe the warm start)")
    return items


def build_bank(cfg: DictConfig, backend, tokenizer, executor, limits, problems: list) -> list[BankItem]:
    if cfg.probe.first_turns == "near_miss":
        items = near_miss_bank(problems, executor, limits, tokenizer, cfg.probe.per_problem, cfg.seed)
        if not items:
            raise BadInput(f"no near misses in {cfg.probe.split}: only hidden-spec problems have them")
        log.info("bank: %d near misses on %d problems", len(items), len({i.problem for i in items}))
        return items
    rollout = RolloutConfig.from_config(cfg.rollout, cfg.probe.bank_temperature, cfg.eval.top_p, max_turns=1)
    runner = EpisodeRunner(backend, tokenizer, executor, rollout, limits, cfg.seed)
    episodes = runner.run([p for p in problems for _ in range(cfg.probe.bank_rollouts)])
    items = bank_from_episodes(episodes, cfg.probe.per_problem, cfg.seed)
    if not items:
        raise ValueError(f"no failed first turn with code in {len(episodes)} episodes: nothing to probe "
                         f"({cfg.model.name_or_path} writes no code, or solves every problem)")
    log.info("bank: %d failed first turns from %d episodes on %d problems", len(items), len(episodes), len(problems))
    return items


def check_contexts(work, max_new_tokens: int, context_length: int | None) -> None:
    """One line before any second turn is sampled when a bank context leaves no room for a reply: a bank
    built for a longer context, or a larger rollout.max_new_tokens (the rule of rollout.context_overflow).
    Dropping such items would change the bank that checkpoints are compared on."""
    over = [(item, reason) for item, _, ctx in work
            if (reason := context_overflow(len(ctx), max_new_tokens, context_length)) is not None]
    if over:
        item, reason = over[0]
        raise BadInput(f"{len(over)} of {len(work)} probe contexts do not fit the model (first: bank item "
                       f"{item.item}, {reason}): lower rollout.max_new_tokens or use a bank built for this model")


def probe_rows(cfg, backend, tokenizer, executor, limits, items, problems, chat) -> tuple[list[dict], list[dict]]:
    """(rows of probe.csv, one per item, condition and temperature; every sampled second turn)."""
    rows, turns, keys = [], [], [(item, c) for item in items for c in CONDITIONS]
    work = [(item, problems[item.problem], context(item, problems[item.problem], chat, c)) for item, c in keys]
    check_contexts(work, cfg.rollout.max_new_tokens, backend.context_length)
    for temperature in cfg.probe.temperatures:
        start = time.time()
        params = SamplingParams(temperature, cfg.eval.top_p, cfg.rollout.max_new_tokens)
        sampled = sample_second_turns(backend, tokenizer, executor, limits, work, params, cfg.probe.samples)
        for (item, condition), result in zip(keys, sampled):
            key = {"temperature": temperature, "item": item.item, "problem": item.problem, "family": item.family,
                   "subset": subset_of(item.family), "condition": condition}
            turns += [{**key, "sample": k, **t} for k, t in enumerate(result.pop("second_turns"))]
            rows.append({**key, **result, "success_rate": result["successes"] / result["samples"]})
        log.info("T=%.2f: %d second turns in %.0f s", temperature, len(work) * cfg.probe.samples, time.time() - start)
    return rows, turns


def add_logprobs(rows: list[dict], model, tokenizer, items, problems, chat) -> None:
    keys = [(item, c) for item in items for c in CONDITIONS]
    examples = [(context(item, problems[item.problem], chat, c),
                 answer_tokens(problems[item.problem].reference_solution, tokenizer)) for item, c in keys]
    scored = reply_logprobs(model, examples, tokenizer.pad_token_id)
    by_key = {(item.item, c): s for (item, c), s in zip(keys, scored)}
    for row in rows:
        total, count = by_key[(row["item"], row["condition"])]
        row["ref_logprob"], row["ref_logprob_per_token"] = total, total / count


def main(cfg: DictConfig) -> dict:
    check_settings(cfg.probe)
    if cfg.rollout.engine != "hf":  # the probe scores its second turns with the same in-process model
        raise BadInput(f"task=probe samples with our HF decoder only; rollout.engine={cfg.rollout.engine} is for "
                       "task=train and task=eval")
    out = Path(HydraConfig.get().runtime.output_dir)
    record_run(out, cfg)
    problems = {p.id: p for p in load_problems(cfg.data, cfg.probe.split)[: cfg.probe.max_problems or None]}
    bank_path = Path(cfg.probe.bank)
    items = read_bank(bank_path, problems) if bank_path.is_file() else None
    tokenizer = load_tokenizer(cfg.model)
    model = load_model(cfg.model, tokenizer).eval()
    backend = hf_backend(model, tokenizer, cfg.rollout.max_batch, cfg.rollout.stop_after_code, cfg.seed)
    limits, chat = Limits.from_config(cfg.execution), ChatFormat(tokenizer)
    with Executor(cfg.execution.workers, cfg.execution.isolation) as executor:
        if items is None:
            log.info("no bank at %s: building it (%s first turns)", bank_path, cfg.probe.first_turns)
            items = build_bank(cfg, backend, tokenizer, executor, limits, list(problems.values()))
            bank_path.parent.mkdir(parents=True, exist_ok=True)
            bank_path.write_text("".join(json.dumps(item_record(i)) + "\n" for i in items))
        rows, turns = probe_rows(cfg, backend, tokenizer, executor, limits, items, problems, chat)
    add_logprobs(rows, model, tokenizer, items, problems, chat)
    shutil.copy(bank_path, out / "probe_bank.jsonl")
    write_csv(rows, out / "probe.csv")
    (out / "second_turns.jsonl").write_text("".join(json.dumps(t) + "\n" for t in turns))
    summary = summarize(rows, cfg.probe.resamples, cfg.seed)
    write_csv(summary, out / "probe_summary.csv")
    for s in summary:
        if s["metric"] == "success_rate" and s["subset"] != "all":
            log.info("T=%.2f %-7s %-15s %.3f [%.3f, %.3f] (%d items)", s["temperature"], s["subset"], s["condition"],
                     s["value"], s["ci_low"], s["ci_high"], s["items"])
    log.info("wrote %s", out)
    return {"summary": summary}
