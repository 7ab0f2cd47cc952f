"""task=eval: evaluate a model with the paper's protocol on one split.

Multi-turn rollouts (up to rollout.max_turns) and, for comparison at an equal sample
budget, single-turn samples. Writes to the run directory: config.yaml, run_info.json,
metrics.json, results.csv (one row), per_family.csv and samples.jsonl (every turn of every
episode), so each number traces back to the episodes behind it.

model.kind=openai evaluates a model behind an OpenAI-compatible chat server (rlef.chat_api) with
the same dialogue, n@k and CIs; it adds requests.jsonl (every request and reply; a rerun into the
same run directory answers from it and samples nothing twice; each turn in samples.jsonl names its
line there), and metrics.json says which metrics a chat API cannot give ("unavailable") instead of
writing numbers for them.

With any backend, an episode whose dialogue outgrows the model's context ends there and fails (its
last turn's "context_overflow" in samples.jsonl: the chat server's refusal, or the token counts and
the limit for our own models, rollout.context_overflow); each mode counts them (context_overflows).

Baselines of the paper's tables, as settings of this task: eval.few_shot_repairs (Table 3: repair
dialogues from train problems before every first prompt, written to few_shot.json) and
eval.repair_model (B.3: a second model writes turns 2..).
"""
from __future__ import annotations

import contextlib
import csv
import json
import logging
import time
from collections import defaultdict
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from transformers import GenerationConfig

from rlef.chat_api import UNAVAILABLE, openai_backend
from rlef.data import load_problems
from rlef.errors import BadInput
from rlef.evaluation import Outcome, bootstrap, scores_by_problem, turn_analysis
from rlef.execution.executor import Executor
from rlef.execution.types import Limits
from rlef.generation import ChatBackend
from rlef.models import attention_settings, engine_model_dir, load_model, load_tokenizer
from rlef.provenance import record_run
from rlef.repair import few_shot_messages
from rlef.rollout import Episode, EpisodeRunner, RolloutConfig, check_engine, episode_record, hf_backend, vllm_backend
from rlef.vllm_backend import VLLMBackend

log = logging.getLogger(__name__)


def per_problem_scores(episodes: list[Episode], submissions: int, budget: int, turns: int) -> dict[str, float]:
    outcomes = ((e.problem.id, Outcome(e.public_passed, e.solved)) for e in episodes if not e.infra_error)
    return scores_by_problem(outcomes, submissions, budget, turns)


def _runner(cfg: DictConfig, executor: Executor, turns: int, shared=None, prefix: list[dict] = ()):
    """shared: the backend every mode uses (_shared_backend); None: our HF backend, built here.
    prefix: the few-shot messages before every first prompt (few_shot_prefix)."""
    repair = None
    if shared is None:
        tokenizer = load_tokenizer(cfg.model)
        model = _policy(cfg, tokenizer)
        backend = hf_backend(model, tokenizer, cfg.rollout.max_batch, cfg.rollout.stop_after_code, cfg.seed)
        if cfg.eval.repair_model and turns > 1:  # paper B.3: the generator writes turn 1, this model the rest
            repair_cfg = OmegaConf.merge(cfg.model, {"kind": "hf", "name_or_path": cfg.eval.repair_model})
            repair = hf_backend(load_model(repair_cfg, tokenizer).eval(), tokenizer, cfg.rollout.max_batch,
                                cfg.rollout.stop_after_code, cfg.seed + 1)
    elif isinstance(shared, VLLMBackend):
        tokenizer, backend = load_tokenizer(cfg.model), shared
        backend.reseed(cfg.seed)  # each mode from the same seed, as a fresh HF backend would
    else:
        tokenizer, backend = None, shared
    rollout = RolloutConfig.from_config(cfg.rollout, cfg.eval.temperature, cfg.eval.top_p, max_turns=turns)
    return EpisodeRunner(backend, tokenizer, executor, rollout, Limits.from_config(cfg.execution), cfg.seed,
                         prefix=prefix, repair_backend=repair)


def few_shot_prefix(cfg: DictConfig, problems: list, executor: Executor, out: Path) -> list[dict]:
    """eval.few_shot_repairs repair dialogues on train problems (paper Table 3's few-shot
    baseline), never an evaluated one; written to few_shot.json so the prompt can be read back."""
    if not cfg.eval.few_shot_repairs:
        return []
    train = load_problems(cfg.data, "train")
    prefix = few_shot_messages(train, problems, cfg.eval.few_shot_repairs, executor,
                               Limits.from_config(cfg.execution), cfg.seed)
    (out / "few_shot.json").write_text(json.dumps(prefix, indent=2) + "\n")
    return prefix


def _shared_backend(cfg: DictConfig, out: Path):
    """One backend for every mode, or a null context: model.kind=openai's (one connection pool, one
    request log; the server is checked here, before the sandbox starts or anything is sampled), or
    rollout.engine=vllm's engine (its start-up takes minutes), shut down on the way out."""
    check_engine(cfg.rollout, cfg.model.kind)
    if cfg.model.kind == "openai":
        return openai_backend(cfg, out)
    if cfg.rollout.engine == "vllm":
        tokenizer = load_tokenizer(cfg.model)
        model_dir = engine_model_dir(cfg.model, tokenizer, out / "vllm_model")
        dtype = attention_settings(cfg.model.dtype, cfg.model.attn)[0]
        return vllm_backend(model_dir, dtype, _generation_config(model_dir), tokenizer, cfg.rollout, cfg.seed)
    return contextlib.nullcontext()


def _generation_config(model_dir: str) -> GenerationConfig | None:
    """The stop ids a model directory adds to its tokenizer's EOS (None: it has no generation_config.json)."""
    try:
        return GenerationConfig.from_pretrained(model_dir)
    except OSError:
        return None


def _policy(cfg: DictConfig, tokenizer):
    """A trained checkpoint is evaluated as `model.kind=hf model.name_or_path=<its directory>`."""
    return load_model(cfg.model, tokenizer).eval()


def _run_mode(runner: EpisodeRunner, problems, repeats: int, label: str) -> tuple[list[Episode], float, int | None]:
    """Returns the episodes, seconds and generated tokens (None: a chat backend returns no token ids)."""
    work = [p for p in problems for _ in range(repeats)]
    # Stable episode names: a chat backend seeds its requests by them and a rerun finds them again.
    keys = [f"{label}/{p.id}/{sample}" for p in problems for sample in range(repeats)]
    episodes: list[Episode] = []
    start = time.time()
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=Console(stderr=True)) as bar:
        task = bar.add_task(f"{label} rollouts", total=len(work), status="")
        chunk = 4 * runner.backend.max_batch  # continuous batching within a chunk; progress between chunks
        for i in range(0, len(work), chunk):
            episodes += runner.run(work[i:i + chunk], on_turn=lambda t, live: bar.update(
                task, status=f"turn {t + 1} done, {live} continue"), keys=keys[i:i + chunk])
            if not runner.counts_tokens:  # a chat API: no token ids, no rate
                bar.update(task, completed=len(episodes), status="chat API")
                log.info("%s: %d/%d episodes", label, len(episodes), len(work))
                continue
            tokens = sum(len(t.response) for e in episodes for t in e.turns)
            rate = tokens / (time.time() - start)
            bar.update(task, completed=len(episodes), status=f"{rate:.0f} tok/s")
            log.info("%s: %d/%d episodes, %.0f generated tok/s", label, len(episodes), len(work), rate)
    tokens = sum(len(t.response) for e in episodes for t in e.turns) if runner.counts_tokens else None
    return episodes, time.time() - start, tokens


def _summary(name: str, episodes: list[Episode], scores: dict[str, float], cfg: DictConfig, turns: int) -> dict:
    metric = f"{cfg.eval.submissions}@{cfg.eval.sample_budget}"
    estimate = bootstrap(list(scores.values()), cfg.eval.bootstrap_resamples, cfg.seed)
    return {"mode": name, "turns": turns, "metric": metric, **estimate.as_dict("solve_rate"),
            "problems": len(scores), "episodes": len(episodes),
            "infra_errors": sum(e.infra_error for e in episodes),
            "context_overflows": sum(e.overflowed for e in episodes)}


def _per_family(episodes: list[Episode], scores: dict[str, float]) -> dict[str, float]:
    families: dict[str, list[float]] = defaultdict(list)
    family_of = {e.problem.id: e.problem.family or e.problem.id for e in episodes}
    for pid, score in scores.items():
        families[family_of[pid]].append(score)
    return {f: sum(v) / len(v) for f, v in sorted(families.items())}


def check_baselines(cfg: DictConfig) -> None:
    """Table 3's and B.3's options and the single-turn pool, in one line each, before a model, server or sandbox
    starts."""
    if cfg.eval.few_shot_repairs and cfg.eval.repair_model:
        raise BadInput("eval.few_shot_repairs and eval.repair_model are two baselines; set one of them")
    if cfg.eval.repair_model and (cfg.model.kind == "openai" or cfg.rollout.engine != "hf"):
        raise BadInput("eval.repair_model needs our own HF decoder: not model.kind=openai, and rollout.engine=hf")
    pool = cfg.eval.single_turn_samples
    if pool is not None and pool < cfg.eval.sample_budget:
        raise BadInput(f"eval.single_turn_samples={pool} is below the sample budget k={cfg.eval.sample_budget}: "
                       "n@k draws k single-turn samples per problem")


def eval_modes(cfg: DictConfig) -> list[tuple[str, int, int]]:
    """(mode, turns per rollout, rollouts per problem) to sample: the multi-turn rollouts, and the single-turn
    baseline's pool (eval.single_turn_samples, by default turns x the rollouts: the same sample budget)."""
    turns = cfg.rollout.max_turns
    modes = [("multi_turn", turns, cfg.eval.rollouts_per_problem)]
    if cfg.eval.single_turn_baseline and turns > 1:
        modes.append(("single_turn", 1, cfg.eval.single_turn_samples or cfg.eval.rollouts_per_problem * turns))
    return modes


def main(cfg: DictConfig) -> dict:
    check_baselines(cfg)
    out = Path(HydraConfig.get().runtime.output_dir)
    record_run(out, cfg)
    problems = load_problems(cfg.data, cfg.eval.split)[: cfg.eval.max_problems or None]
    results, samples, families = [], [], {}
    with _shared_backend(cfg, out) as shared, Executor(cfg.execution.workers, cfg.execution.isolation) as executor:
        prefix = few_shot_prefix(cfg, problems, executor, out)
        for name, mode_turns, repeats in eval_modes(cfg):
            runner = _runner(cfg, executor, mode_turns, shared, prefix)
            episodes, seconds, tokens = _run_mode(runner, problems, repeats, name)
            scores = per_problem_scores(episodes, cfg.eval.submissions, cfg.eval.sample_budget, mode_turns)
            row = {**_summary(name, episodes, scores, cfg, mode_turns), "seconds": round(seconds, 1),
                   "tokens_per_s": None if tokens is None else round(tokens / max(seconds, 1e-9), 1)}
            records = [episode_record(e) for e in episodes]
            if name == "multi_turn":  # Fig. 3 and 4 from samples.jsonl's records, as rlef.analysis.turns reads them
                row["analysis"] = turn_analysis(records)
            results.append(row)
            families[name] = _per_family(episodes, scores)
            samples += [{"mode": name, **r} for r in records]
    chat = shared if isinstance(shared, ChatBackend) else None
    api = {} if chat is None else {"unavailable": UNAVAILABLE, "requests": chat.counts()}
    _write(out, cfg, results, families, samples, api)
    return {"results": results, **api}


def _write(out: Path, cfg: DictConfig, results: list[dict], families: dict, samples: list[dict],
           api: dict) -> None:
    """api: a chat backend's unavailable metrics and request counts (nothing for our own models)."""
    metrics = {"results": results, "per_family": families, **api}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    with (out / "samples.jsonl").open("w") as f:
        f.writelines(json.dumps(s) + "\n" for s in samples)
    flat = [{k: v for k, v in r.items() if k != "analysis"} | {"model": cfg.model.name_or_path,
            "data": cfg.data.name, "split": cfg.eval.split,
            "temperature": cfg.eval.temperature} for r in results]
    with (out / "results.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(flat[0]))
        writer.writeheader()
        writer.writerows(flat)
    with (out / "per_family.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["family", *families])
        for family in next(iter(families.values())):
            writer.writerow([family, *(round(families[m].get(family, float("nan")), 4) for m in families)])
    for r in flat:
        log.info("%s %s = %.3f [%.3f, %.3f] on %d problems", r["mode"], r["metric"], r["solve_rate"],
                 r["solve_rate_ci_low"], r["solve_rate_ci_high"], r["problems"])
    log.info("wrote %s", out)
    log.info("view the episodes: python -m rlef.viewer %s", out)
    OmegaConf.save(cfg, out / "config.yaml", resolve=True)
