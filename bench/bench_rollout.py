"""Generated tokens/s: our rollout engine vs (a) a sequential per-episode loop and (b) the raw
batched `generate` of the same model, in one run, on real first-turn prompts of rlef_mini.

Every sequence generates exactly --new-tokens tokens (stop tokens disabled), at T = 1.0,
so all three do the same work. Writes results/bench/rollout.csv. Targets (issue): >= 4x the
sequential loop, >= 0.8x raw batched generate at batch 32.

    python bench/bench_rollout.py [--batch 32] [--new-tokens 128] [--sequential 8]
"""
from __future__ import annotations

import argparse
import platform
import time

import torch
from benchlib import first_turn_contexts, load_bench_model, write_csv

from rlef.generation import HFBackend, SamplingParams


def raw_generate(model, tokenizer, contexts, new_tokens: int) -> None:
    width = max(len(c) for c in contexts)
    ids = torch.tensor([[tokenizer.pad_token_id] * (width - len(c)) + c for c in contexts])
    mask = torch.tensor([[0] * (width - len(c)) + [1] * len(c) for c in contexts])
    model.generate(ids, attention_mask=mask, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                   do_sample=True, temperature=1.0, top_k=0, top_p=1.0, pad_token_id=tokenizer.pad_token_id)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--sequential", type=int, default=8, help="episodes timed in the sequential loop")
    parser.add_argument("--model", default="smollm2_135m")
    parser.add_argument("--out", default="results/bench/rollout.csv")
    args = parser.parse_args()
    tokenizer, model = load_bench_model(args.model)
    model.eval()
    _, contexts = first_turn_contexts(tokenizer, args.batch)
    params = SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=args.new_tokens)
    engine = HFBackend(model, [], tokenizer.pad_token_id, max_batch=args.batch)
    with torch.no_grad():
        runs = {
            "rollout_engine": (args.batch, timed(lambda: engine.generate(contexts, params))),
            "raw_batched_generate": (args.batch, timed(
                lambda: raw_generate(model, tokenizer, contexts, args.new_tokens))),
            "sequential_per_episode": (args.sequential, timed(lambda: [
                raw_generate(model, tokenizer, [c], args.new_tokens) for c in contexts[: args.sequential]])),
        }
    ours = args.batch * args.new_tokens / runs["rollout_engine"][1]
    rows = []
    for name, (episodes, seconds) in runs.items():
        tps = episodes * args.new_tokens / seconds
        rows.append({"harness": name, "episodes": episodes, "new_tokens_each": args.new_tokens,
                     "mean_prompt_tokens": round(sum(map(len, contexts)) / len(contexts), 1),
                     "seconds": round(seconds, 2), "tokens_per_s": round(tps, 1),
                     "engine_speedup": round(ours / tps, 2), "model": args.model,
                     "threads": torch.get_num_threads(), "machine": platform.machine()})
        print(f"{name:24s} {tps:8.1f} tok/s   engine is x{ours / tps:.2f}")
    write_csv(rows, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
