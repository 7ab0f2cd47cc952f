"""task=build_mini: rebuild the bundled rlef_mini benchmark from its families, deterministically.

For every family (src/rlef/data/mini/families_*.py) we draw up to `variants` distinct
problems, generate inputs, and compute expected outputs by running the family's reference
solution on them in the sandboxed executor (a solution that crashes or times out on its
own inputs is an error in the family, not a problem to ship). Rows use the CodeContests
schema plus "split" and "family". Splits are by family, so test problems come from
families never seen in training: evaluation measures generalisation, not memorisation.
Each train family also gets up to `heldout` further problems in the split train_heldout, drawn
after its train problems (which they leave unchanged) and never trained on: they tell whether a
policy learned its train problems or their families.

    python src/run.py task=build_mini            # rewrites src/rlef/data/rlef_mini.jsonl.gz
    python src/run.py task=build_mini build_mini.benchmark=rlef_hidden   # rlef_hidden.jsonl.gz
    python src/run.py task=build_mini build_mini.benchmark=rlef_copy build_mini.variants=40 build_mini.heldout=8
    python src/run.py task=build_mini build_mini.benchmark=rlef_stated build_mini.variants=12 build_mini.heldout=0
    python src/run.py task=build_mini build_mini.benchmark=rlef_inferred build_mini.variants=16 build_mini.heldout=0

rlef_hidden (families_hidden.py) is built the same way, from its own registry, with two
differences: each family's split is fixed by its kind of open detail, and the statement shows
no example (its output would give the detail away). Its rows carry "hidden_detail".
"""
from __future__ import annotations

import gzip
import hashlib
import json
import logging
import random
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from omegaconf import DictConfig

from rlef.data import SHIPPED_COPY, SHIPPED_HIDDEN, SHIPPED_INFERRED, SHIPPED_MINI, SHIPPED_STATED
from rlef.data.mini import (
    COPY_FAMILIES,
    DRILL_FAMILIES,
    FAMILIES,
    HIDDEN_FAMILIES,
    STATED_FAMILIES,
    Family,
    Variant,
)
from rlef.data.problem import Test
from rlef.execution.executor import Executor
from rlef.execution.types import Job, Limits, Verdict

log = logging.getLogger(__name__)
SHIPPED = SHIPPED_MINI
BENCHMARKS = {"rlef_mini": (FAMILIES, SHIPPED_MINI), "rlef_hidden": (HIDDEN_FAMILIES, SHIPPED_HIDDEN),
              "rlef_copy": (COPY_FAMILIES, SHIPPED_COPY), "rlef_stated": (STATED_FAMILIES, SHIPPED_STATED),
              "rlef_inferred": (DRILL_FAMILIES, SHIPPED_INFERRED)}
TIME_LIMIT_S = 2  # ours: small problems; short limits keep CPU-scale rollouts fast
MEMORY_LIMIT_BYTES = 256 << 20


def _stable_key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def family_splits(families: dict[str, Family]) -> dict[str, str]:
    """Per category, in a fixed pseudo-random order: the first family -> test, the second ->
    valid (categories with >= 5 families), the rest -> train."""
    by_category: dict[str, list[str]] = defaultdict(list)
    for name, fam in families.items():
        by_category[fam.category].append(name)
    splits = {}
    for names in by_category.values():
        ordered = sorted(names, key=_stable_key)
        for i, name in enumerate(ordered):
            splits[name] = "test" if i == 0 else "valid" if i == 1 and len(ordered) >= 5 else "train"
    return splits


def splits_of(families: dict[str, Family]) -> dict[str, str]:
    """Hidden-spec families carry their split (chosen by detail kind); rlef_mini's are hashed."""
    if all(fam.split for fam in families.values()):
        return {name: fam.split for name, fam in families.items()}
    return family_splits(families)


def _inputs(variant: Variant, seed: str, count: int) -> list[str]:
    """`count` distinct inputs (fewer if the family's input space is that small)."""
    seen: dict[str, None] = {}
    for attempt in range(count * 10):
        seen.setdefault(variant.make_input(random.Random(f"{seed}:input:{attempt}")), None)
        if len(seen) == count:
            break
    return list(seen)


def _candidates(fam: Family, seed: int, tests: int, attempts: int):
    """(attempt, variant, inputs, number of public tests) for each new distinct problem drawn."""
    seen = set()
    for attempt in range(attempts):
        key = f"{seed}:{fam.name}:{attempt}"
        rng = random.Random(key)
        variant = fam.build(rng)
        if fam.options:
            variant = replace(variant, near_misses=tuple(fam.near_misses(key, variant).items()))
        if (variant.legend, variant.solution) in seen:
            continue
        seen.add((variant.legend, variant.solution))
        inputs = _inputs(variant, key, tests)
        if len(inputs) < 11:  # 1 public + 10 private at least
            log.warning("%s attempt %d: only %d distinct inputs, skipped", fam.name, attempt, len(inputs))
            continue
        yield attempt, variant, inputs, rng.choice((1, 2))


def draw_problems(fam: Family, seed: int, variants: int, tests: int,
                  heldout: int = 0) -> tuple[list[tuple[str, Variant, list[str], int]], list[tuple]]:
    """(problem name, variant, inputs, number of public tests) for up to `variants` distinct
    problems from the first 6 x `variants` attempts, then up to `heldout` further ones, named
    <family>/hNN: adding held-out problems leaves the first list unchanged."""
    drawn, more = [], []
    for attempt, *problem in _candidates(fam, seed, tests, (variants + heldout) * 6):
        if len(drawn) < variants and attempt < variants * 6:
            drawn.append((f"{fam.name}/{len(drawn):02d}", *problem))
        elif len(more) < heldout:
            more.append((f"{fam.name}/h{len(more):02d}", *problem))
        if len(more) == heldout and (len(drawn) == variants or attempt >= variants * 6):
            break
    return drawn, more


def _statement(variant: Variant, examples: list[Test], show_examples: bool) -> str:
    parts = [variant.title, variant.legend, "Input", variant.input_spec, "Output", variant.output_spec]
    # Hidden spec: an example output would state the open detail. Stated families show none either.
    if variant.detail_option or not show_examples:
        return "\n\n".join(parts) + "\n"
    parts.append("Examples" if len(examples) > 1 else "Example")
    for test in examples:
        parts += ["Input", test.stdin.rstrip("\n"), "Output", test.expected_stdout.rstrip("\n")]
    return "\n\n".join(parts) + "\n"


def _row(name: str, fam: Family, split: str, variant: Variant, tests: list[Test], n_public: int) -> dict:
    public, private = tests[:n_public], tests[n_public:]

    def as_struct(ts: list[Test]) -> dict:
        return {"input": [t.stdin for t in ts], "output": [t.expected_stdout for t in ts]}
    extra = {"hidden_detail": {"kind": fam.detail, "option": variant.detail_option,
                               "near_misses": dict(variant.near_misses)}} if fam.detail else {}
    return {
        **extra,
        "name": name, "description": _statement(variant, public, fam.examples), "split": split, "family": fam.name,
        "source": "rlef_mini", "difficulty": f"level{fam.difficulty}", "cf_tags": [fam.category],
        "public_tests": as_struct(public), "private_tests": as_struct(private),
        "generated_tests": {"input": [], "output": []},
        "solutions": {"language": [3], "solution": [variant.solution]},
        "time_limit": {"seconds": TIME_LIMIT_S, "nanos": 0}, "memory_limit_bytes": MEMORY_LIMIT_BYTES,
    }


def _drawn_with_splits(names: list[str], seed: int, variants: int, tests: int, heldout: int,
                       families: dict[str, Family]) -> list[tuple]:
    """(family, split, (name, variant, inputs, n_public)): each family's `variants` problems, then
    up to `heldout` more of a train family, renamed <family>/hNN, in the split train_heldout."""
    splits, out = splits_of(families), []
    for n in names:
        fam = families[n]
        problems, more = draw_problems(fam, seed, variants, tests, heldout if splits[n] == "train" else 0)
        out += [(fam, splits[n], d) for d in problems] + [(fam, "train_heldout", d) for d in more]
    return out


def build_rows(executor: Executor, names: list[str], seed: int = 0, variants: int = 8, tests: int = 14,
               heldout: int = 4, families: dict[str, Family] = FAMILIES) -> list[dict]:
    drawn = _drawn_with_splits(names, seed, variants, tests, heldout, families)
    limits = Limits(time_s=TIME_LIMIT_S, memory_bytes=MEMORY_LIMIT_BYTES)
    jobs = [Job(v.solution, tuple(Test(i, "") for i in inputs), limits) for _, _, (_, v, inputs, _) in drawn]
    rows = []
    for (fam, split, (name, variant, _, n_public)), result in zip(drawn, executor.run_batch(jobs)):
        bad = [t for t in result.tests if t.verdict not in (Verdict.PASSED, Verdict.WRONG_OUTPUT)]
        if bad:
            raise RuntimeError(f"{name}: reference solution failed ({bad[0].verdict.value}): "
                               f"{bad[0].stderr_tail[-500:]} on input {bad[0].stdin!r}")
        judged = [Test(t.stdin, t.observed) for t in result.tests]
        rows.append(_row(name, fam, split, variant, judged, n_public))
    return rows


def write_rows(rows: list[dict], path: Path) -> None:
    payload = "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows).encode()
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
        f.write(payload)  # mtime=0: the same families give a byte-identical file


def main(cfg: DictConfig) -> None:
    if cfg.build_mini.benchmark not in BENCHMARKS:
        raise SystemExit(f"build_mini.benchmark must be one of {sorted(BENCHMARKS)}, got {cfg.build_mini.benchmark!r}")
    families, shipped = BENCHMARKS[cfg.build_mini.benchmark]
    out = Path(cfg.build_mini.output) if cfg.build_mini.output else shipped
    with Executor(cfg.execution.workers, cfg.execution.isolation) as executor:
        rows = build_rows(executor, sorted(families), cfg.build_mini.seed, cfg.build_mini.variants,
                          cfg.build_mini.tests, cfg.build_mini.heldout, families)
    write_rows(rows, out)
    counts = defaultdict(int)
    for r in rows:
        counts[r["split"]] += 1
    log.info("wrote %d problems from %d families to %s (%s)", len(rows), len(families), out, dict(counts))
