"""Two probes of one bank -> their paired difference: did training change feedback use?

    python -m rlef.analysis.probe_compare outputs/probe/warm outputs/probe/rlef results/feedback_use/rlef_vs_warm
    python -m rlef.analysis.probe_compare A B target --seed A2 B2   # two seeds of the same two arms, pooled

Each argument is a task=probe run directory (probe.csv, probe_bank.jsonl). With --seed, every
(A, B) pair is another training seed of the same two arms on the same bank: B - A is averaged over
the pairs item by item before the families are resampled, so "a" and "b" are means over seeds. For every
temperature, subset (hidden / regular / all), metric (turn-2 success rate, reference log-prob
per token) and quantity (true, random, none, true - random, true - none), B - A is taken item
by item (the same failed first turn under the same condition), with a 95% CI that resamples
families. The feedback-use claim is B - A of "true_minus_random" > 0: the trained policy gains
more from the true feedback than from another problem's feedback than its start did.
Writes <target>.csv and <target>.md (the command next to the numbers), and <target>_families.csv: per
temperature, family, arm, seed and condition, the second turns that passed (successes of samples),
so a claim such as "B is ahead in every family" can be read off a committed file; the .md shows
them summed over seeds.
"""
from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from rlef.analysis.compare import pair_parser
from rlef.evaluation import cluster_bootstrap
from rlef.probe import CONDITIONS, METRICS, SUBSETS, item_values
from rlef.provenance import module_command, produced_by, write_csv

QUANTITIES = (*CONDITIONS, "true_minus_random", "true_minus_none")


def read_probe(run_dir: Path) -> tuple[list[dict], str]:
    """(probe.csv rows with numbers parsed, the bank's text)."""
    with (run_dir / "probe.csv").open() as f:
        rows = [{**r, "temperature": float(r["temperature"]), "item": int(r["item"]),
                 **{m: float(r[m]) for m in METRICS}} for r in csv.DictReader(f)]
    return rows, (run_dir / "probe_bank.jsonl").read_text()


def _seed_mean(values: list[dict[int, float]]) -> dict[int, float]:
    """Item -> mean over seeds; only items every seed has (a run cut short drops its missing items)."""
    items = set.intersection(*(set(v) for v in values))
    return {i: sum(v[i] for v in values) / len(values) for i in items}


def compare(run_a: Path, run_b: Path, resamples: int = 2000, seed: int = 0,
            more: list[tuple[Path, Path]] = ()) -> list[dict]:
    pairs = [(run_a, run_b), *more]
    probes = [(read_probe(a), read_probe(b)) for a, b in pairs]
    for (a, b), ((_, bank_a), (_, bank_b)) in zip(pairs, probes):
        if bank_a != bank_b or bank_a != probes[0][0][1]:
            raise ValueError(f"{a} and {b} probed different banks: a paired difference needs one bank")
    rows = [rows for pair in probes for rows, _ in pair]
    family_of = {r["item"]: r["family"] for r in rows[0]}
    out = []
    for temperature in sorted(set.intersection(*({r["temperature"] for r in rs} for rs in rows)), reverse=True):
        for subset in SUBSETS:
            for metric in METRICS:
                values = [item_values(rs, temperature, subset, metric) for rs in rows]
                for quantity in QUANTITIES:
                    per_run = [v[quantity] for v in values]
                    if not all(per_run) or len({frozenset(v) for v in per_run}) > 1:
                        continue  # a subset the bank lacks, or a run cut short
                    a, b = _seed_mean(per_run[0::2]), _seed_mean(per_run[1::2])
                    gaps = {i: b[i] - a[i] for i in a}
                    e = cluster_bootstrap(gaps, family_of, resamples, seed)
                    out.append({"temperature": temperature, "subset": subset, "metric": metric, "quantity": quantity,
                                "a": sum(a.values()) / len(gaps), "b": sum(b.values()) / len(gaps),
                                "b_minus_a": e.mean, "ci_low": e.low, "ci_high": e.high, "items": len(gaps),
                                "families": len({family_of[i] for i in gaps}), "seeds": len(pairs)})
    if not out:
        raise ValueError(f"{run_a} and {run_b} share no temperature and subset with the same items")
    return out


def _sum_counts(keyed: Iterable[tuple[tuple, dict]]) -> dict[tuple, list[int]]:
    """key -> [successes, samples] summed over the rows given with that key."""
    totals: dict[tuple, list[int]] = {}
    for key, row in keyed:
        t = totals.setdefault(key, [0, 0])
        t[0] += int(row["successes"])
        t[1] += int(row["samples"])
    return totals


def family_counts(pairs: list[tuple[Path, Path]]) -> list[dict]:
    """Successes and samples per (temperature, family, arm, seed, condition), from each run's probe.csv."""
    # keyed on -temperature: sorted, the highest comes first, as in compare()
    totals = _sum_counts(((-r["temperature"], r["family"], arm, seed, r["condition"]), r)
                         for seed, pair in enumerate(pairs) for arm, run_dir in zip("ab", pair)
                         for r in read_probe(run_dir)[0])
    return [{"temperature": -k[0], "family": k[1], "arm": k[2], "seed": k[3], "condition": k[4],
             "successes": s, "samples": n} for k, (s, n) in sorted(totals.items())]


def family_table(counts: list[dict]) -> str:
    """Markdown: a row per (temperature, family), A's and B's successes/samples per condition, summed over seeds."""
    summed = _sum_counts(((c["temperature"], c["family"], c["arm"], c["condition"]), c) for c in counts)
    head = ["T", "family", *(f"{arm} {c}" for arm in "AB" for c in CONDITIONS)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for temperature, family in dict.fromkeys(k[:2] for k in summed):
        cells = ["{}/{}".format(*summed.get((temperature, family, arm, c), ("-", "-")))
                 for arm in "ab" for c in CONDITIONS]
        lines.append(f"| {temperature:.2f} | {family} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = pair_parser(__doc__.splitlines()[0], "probe")
    parser.add_argument("--seed", nargs=2, type=Path, action="append", default=[], metavar=("A", "B"),
                        help="another seed's run directories of the same two arms (repeatable)")
    args = parser.parse_args(argv)
    pairs = [(args.run_a, args.run_b), *(tuple(p) for p in args.seed)]
    rows = compare(args.run_a, args.run_b, args.resamples, more=pairs[1:])
    counts = family_counts(pairs)
    for r in rows:
        if r["metric"] == "success_rate" and r["subset"] != "all":
            print(f"T={r['temperature']:.2f} {r['subset']:<7} {r['quantity']:<17} {r['a']:.3f} -> {r['b']:.3f} "
                  f"B - A {r['b_minus_a']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}] ({r['items']} items)")
    csv_path = write_csv(rows, args.target.with_suffix(".csv"))
    families_csv = write_csv(counts, args.target.with_name(args.target.name + "_families.csv"))
    command = module_command("rlef.analysis.probe_compare", argv)
    md = args.target.with_suffix(".md")
    md.write_text(produced_by(args.target.name, [command]) +
                  f"\nB - A item by item on one bank, 95% CI resampling families; file: `{csv_path.name}`.\n"
                  f"\nSecond turns that passed per family (successes/samples, summed over {len(pairs)} seed(s); "
                  f"per seed: `{families_csv.name}`):\n\n" + family_table(counts))
    print("wrote", csv_path, families_csv, md)


if __name__ == "__main__":
    main()
