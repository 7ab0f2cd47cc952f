"""bench/bench_ppo.py runs each variant on tiny_random (numbers are not checked: speed is
measured by the benchmark, never asserted in tests)."""
import argparse
import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[1] / "bench"
sys.path.insert(0, str(BENCH))  # as `python bench/bench_ppo.py` does: benchlib sits beside it
spec = importlib.util.spec_from_file_location("bench_ppo", BENCH / "bench_ppo.py")
bench_ppo = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_ppo)


@pytest.mark.parametrize("variant", bench_ppo.VARIANTS)
def test_each_variant_runs_and_counts_the_whole_batch(variant):
    args = argparse.Namespace(episodes=2, turns=2, prompt=6, response=4, steps=1, model="tiny_random", variant=variant)
    row = bench_ppo.run_variant(args)
    assert row["tokens"] == 2 * 2 * (6 + 4) and row["tokens_per_s"] > 0 and row["peak_mb"] > 0
