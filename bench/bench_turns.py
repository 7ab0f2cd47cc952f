"""A later turn with vs without cross-turn key/value reuse, in one run: the same second-turn
contexts (first-turn prompt + a sampled reply + a feedback message) on the same model.

`reuse`: the backend that generated turn 1 keeps its finished sequences' keys/values and
prefills only the feedback tokens; `full_prefill`: a backend with reuse disabled
(max_saved_mb=0) re-reads the whole dialogue, as every turn did before. Writes
results/bench/turns.csv.

    python bench/bench_turns.py [--batch 16] [--reply-tokens 128] [--new-tokens 32]
"""
from __future__ import annotations

import argparse
import platform
import time

import torch
from benchlib import first_turn_contexts, load_bench_model, write_csv

from rlef.generation import HFBackend, SamplingParams

FEEDBACK = ("Your code failed the following tests:\n\n# Input:\n3 4\n# Expected output:\n7\n# Actual output:\n12\n\n"
            "Give it another try.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--reply-tokens", type=int, default=128)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--model", default="smollm2_135m")
    parser.add_argument("--out", default="results/bench/turns.csv")
    args = parser.parse_args()
    tokenizer, model = load_bench_model(args.model)
    model.eval()
    chat, first = first_turn_contexts(tokenizer, args.batch)
    reuse = HFBackend(model, [], tokenizer.pad_token_id, max_batch=args.batch, seed=0)
    replies = reuse.generate(first, SamplingParams(temperature=1.0, max_new_tokens=args.reply_tokens))
    second = [c + r.tokens + chat.next_user(FEEDBACK, r.stopped) for c, r in zip(first, replies)]
    full = HFBackend(model, [], tokenizer.pad_token_id, max_batch=args.batch, seed=0, max_saved_mb=0)
    params = SamplingParams(temperature=1.0, max_new_tokens=args.new_tokens)
    rows = []
    for name, backend in (("full_prefill", full), ("reuse", reuse)):
        start = time.perf_counter()
        backend.generate(second, params)
        seconds = time.perf_counter() - start
        rows.append({"harness": name, "episodes": args.batch, "mean_context_tokens": round(
            sum(map(len, second)) / len(second), 1), "new_tokens_each": args.new_tokens,
            "reused_prompt_tokens": backend.reused_tokens, "seconds": round(seconds, 2)})
    for row in rows:
        row.update(speedup_vs_full_prefill=round(rows[0]["seconds"] / row["seconds"], 2), model=args.model,
                   threads=torch.get_num_threads(), machine=platform.machine())
        print(f"{row['harness']:14s} {row['seconds']:7.2f} s  x{row['speedup_vs_full_prefill']:.2f}")
    write_csv(rows, args.out)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
