"""Generated tokens/s of rollouts on vLLM (rollout.engine=vllm) vs our HFBackend vs raw HF `generate`,
in one run, on the same model (fp32 on CPU) and rlef_mini prompts. Needs vLLM in this interpreter:
`make setup-vllm`, then `.venv-vllm/bin/python bench/bench_vllm.py` (or `make bench-vllm`).

* equal work: the first-turn prompts of --batch problems, every sequence exactly --new-tokens tokens
  (no stop ids), T = 1, as bench_rollout.py;
* episodes: --episodes whole multi-turn episodes (3 turns, real feedback from the sandbox,
  --new-tokens per turn, the model's stop ids) through EpisodeRunner; raw `generate` has no episode
  loop, so it is not in this part. Tokens/s = generated tokens / wall time including execution; the two
  engines sample different episodes (different random streams), so their token counts differ.

vLLM's start-up (once per training run) and a weight sync (once per PPO update) are timed apart. Ratios
are vLLM's rate over the other harness's. Writes results/bench/vllm.csv, with --note (say there whether
the machine was shared: rates from a contended machine are only comparable within one run).
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import torch
from bench_rollout import raw_generate, timed
from benchlib import first_turn_contexts, load_bench_model, write_csv
from omegaconf import OmegaConf

from rlef.data import load_problems
from rlef.execution.executor import Executor
from rlef.execution.types import Limits
from rlef.generation import HFBackend, SamplingParams
from rlef.models import smollm2_dir
from rlef.rollout import EpisodeRunner, RolloutConfig, stop_token_ids
from rlef.vllm_backend import EngineSettings, VLLMBackend


def episodes_rate(backend, tokenizer, problems, new_tokens: int) -> tuple[int, float]:
    """Generated tokens and seconds of one EpisodeRunner pass over `problems` (3 turns, real feedback)."""
    config = RolloutConfig(max_turns=3, sampling=SamplingParams(1.0, 1.0, new_tokens))
    with Executor(workers=None, isolation="auto") as executor:
        runner = EpisodeRunner(backend, tokenizer, executor, config, Limits(), seed=0)
        start = time.perf_counter()
        episodes = runner.run(problems)
        seconds = time.perf_counter() - start
    return sum(len(t.response) for e in episodes for t in e.turns), seconds


def equal_work(engines: dict, model, tokenizer, contexts, new_tokens: int) -> dict[str, tuple[int, float]]:
    params = SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=new_tokens)
    runs = {name: timed(lambda e=engine: e.generate(contexts, params)) for name, engine in engines.items()}
    runs["raw_hf_generate"] = timed(lambda: raw_generate(model, tokenizer, contexts, new_tokens))
    return {name: (len(contexts) * new_tokens, seconds) for name, seconds in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--eager", action="store_true", help="rollout.vllm.enforce_eager=true (no compile)")
    parser.add_argument("--note", default="")
    parser.add_argument("--out", default="results/bench/vllm.csv")
    args = parser.parse_args()
    tokenizer, model = load_bench_model("smollm2_135m")
    model.eval()
    _, contexts = first_turn_contexts(tokenizer, args.batch)
    start = time.perf_counter()
    vllm = VLLMBackend(str(smollm2_dir()), [], "float32", max_batch=args.batch, seed=0,
                       settings=EngineSettings(cpu_kv_cache_gb=2, enforce_eager=args.eager))
    startup_s = time.perf_counter() - start
    sync_s = vllm.sync_weights(model.state_dict().items(), version=0)
    hf = HFBackend(model, [], tokenizer.pad_token_id, max_batch=args.batch)
    rows = []
    with torch.no_grad():
        runs = {("equal_work", k): v for k, v in equal_work({"vllm": vllm, "hf_backend": hf}, model, tokenizer,
                                                              contexts, args.new_tokens).items()}
        problems = load_problems(OmegaConf.create({"name": "rlef_mini", "path": None}), "train")[:args.episodes]
        stops = stop_token_ids(tokenizer, model.generation_config)
        vllm.stop_ids = stops
        runs["episodes", "vllm"] = episodes_rate(vllm, tokenizer, problems, args.new_tokens)
        hf = HFBackend(model, stops, tokenizer.pad_token_id, max_batch=args.batch)
        runs["episodes", "hf_backend"] = episodes_rate(hf, tokenizer, problems, args.new_tokens)
    vllm.close()
    for (part, name), (tokens, seconds) in runs.items():
        rate, ours = tokens / seconds, runs[part, "vllm"][0] / runs[part, "vllm"][1]
        rows.append({"part": part, "harness": name, "sequences": args.batch if part == "equal_work" else args.episodes,
                     "new_tokens_each": args.new_tokens, "generated_tokens": tokens, "seconds": round(seconds, 1),
                     "tokens_per_s": round(rate, 1), "vllm_speedup": round(ours / rate, 2),
                     "vllm_startup_s": round(startup_s, 1), "vllm_weight_sync_s": round(sync_s, 2),
                     "vllm_eager": args.eager,
                     "model": "smollm2_135m fp32", "cores": len(os.sched_getaffinity(0)),
                     "machine": platform.machine(), "note": args.note})
        print(f"{part:10s} {name:16s} {rate:8.1f} tok/s   vLLM is x{ours / rate:.2f}")
    print(f"vLLM start-up {startup_s:.1f} s, weight sync {sync_s:.2f} s")
    write_csv(rows, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
