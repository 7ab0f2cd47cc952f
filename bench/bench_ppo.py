"""Training tokens/s of one PPO update vs a plain forward/backward of the policy alone, on the
same batch of multi-turn episodes, in one run; peak memory of each. Writes results/bench/ppo.csv.

* plain_policy_step: causal-LM loss of the policy on the whole dialogues, backward, AdamW step.
* ppo_update_<critic>: what one PPO update costs in task=train: scoring (old log-probs and
  values under the policy + critic, reference log-probs under the frozen copy, all no-grad),
  then the clipped policy + value losses, backward and one AdamW step over both groups.
  critic=shared (CPU preset: value head on the policy backbone) and separate (paper 2.2).

Each variant runs in its own subprocess so its peak memory (max RSS on CPU, max allocated on a
GPU) is its own. Tokens/s counts every token of the batch.

    python bench/bench_ppo.py [--episodes 4] [--turns 3] [--prompt 200] [--response 100] [--steps 3]
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time

import torch
from benchlib import load_bench_model, write_csv

from rlef import experience
from rlef.data.problem import Problem, Test
from rlef.models import PolicyCritic
from rlef.rollout import Episode, Turn

VARIANTS = ("plain_policy_step", "ppo_update_shared", "ppo_update_separate")


def synthetic_episodes(args, vocab: int) -> list[Episode]:
    """Random ids laid out like real episodes: (prompt/feedback, response) x turns, alternating
    solved and failed so rewards and advantages are non-trivial."""
    g = torch.Generator().manual_seed(0)
    problem = Problem("bench", "bench", "", (Test("", ""),), (Test("", ""),))
    episodes = []
    for i in range(args.episodes):
        e = Episode(problem, [], [])
        for _ in range(args.turns):
            e.tokens += torch.randint(10, vocab, (args.prompt,), generator=g).tolist()
            e.policy_mask += [False] * args.prompt
            response = torch.randint(10, vocab, (args.response,), generator=g).tolist()
            e.turns.append(Turn(len(e.tokens), response, [-2.0] * args.response, True, "", "x" if i % 2 else None))
            e.tokens += response
            e.policy_mask += [True] * args.response
        episodes.append(e)
    return episodes


def run_variant(args) -> dict:
    torch.manual_seed(0)
    tokenizer, policy = load_bench_model(args.model)
    device = next(policy.parameters()).device
    batch = experience.collate(synthetic_episodes(args, len(tokenizer)), tokenizer.pad_token_id).to(device)
    if args.variant == "plain_policy_step":
        optimizer = torch.optim.AdamW(policy.parameters(), lr=1e-7)

        def step():
            loss = policy(input_ids=batch.tokens, attention_mask=batch.attention, labels=batch.tokens).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    else:
        model = PolicyCritic(policy, critic=args.variant.removeprefix("ppo_update_")).to(device)
        optimizer = torch.optim.AdamW(model.param_groups(1e-7, 1e-7, 0.0))

        def step():
            scored = experience.assign_advantages([experience.score(model, batch)], 0.05, 1.0)[0]
            p_loss, v_loss, _ = experience.micro_batch_loss(model, scored, 0.2, 0.2, 1.0)
            optimizer.zero_grad()
            (p_loss + v_loss).backward()
            optimizer.step()
    step()  # warm-up: allocator, optimizer state
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / args.steps
    peak_mb = (torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda"
               else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    tokens = int(batch.attention.sum())
    return {"variant": args.variant, "tokens": tokens, "seconds_per_step": round(seconds, 3),
            "tokens_per_s": round(tokens / seconds, 1), "peak_mb": round(peak_mb), "device": device.type}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--prompt", type=int, default=200, help="prompt/feedback tokens before each response")
    parser.add_argument("--response", type=int, default=100)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--model", default="smollm2_135m")
    parser.add_argument("--out", default="results/bench/ppo.csv")
    parser.add_argument("--variant", choices=VARIANTS, help="internal: run one variant and print JSON")
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args)))
        return
    rows = []
    for variant in VARIANTS:
        flags = [f"--{k}={v}" for k, v in vars(args).items() if k not in ("variant", "out")]
        done = subprocess.run([sys.executable, __file__, *flags, f"--variant={variant}"], capture_output=True,
                              text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    base = rows[0]["tokens_per_s"]
    for row in rows:
        row.update(speed_vs_plain=round(row["tokens_per_s"] / base, 3), model=args.model,
                   threads=torch.get_num_threads(), machine=platform.machine(),
                   batch=f"{args.episodes}x{args.turns}x({args.prompt}+{args.response})")
    write_csv(rows, args.out)
    for row in rows:
        print(f"{row['variant']:22s} {row['tokens_per_s']:8.1f} tok/s  x{row['speed_vs_plain']:.2f} of plain  "
              f"peak {row['peak_mb']} MB")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
