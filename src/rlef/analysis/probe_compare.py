"""Two probes of one bank -> their paired difference: did training change feedback use?

    python -m rlef.analysis.probe_compare outputs/probe/warm outputs/probe/rlef results/feedback_use/rlef_vs_warm

Each argument is a task=probe run directory (probe.csv, probe_bank.jsonl). For every
temperature, subset (hidden / regular / all), metric (turn-2 success rate, reference log-prob
per token) and quantity (true, random, none, true - random, true - none), B - A is taken item
by item (the same failed first turn under the same condition), with a 95% CI that resamples
families. The feedback-use claim is B - A of "true_minus_random" > 0: the trained policy gains
more from the true feedback than from another problem's feedback than its start did.
Writes <target>.csv and <target>.md (the command next to the numbers).
"""
from __future__ import annotations

import csv
import shlex
import sys
from pathlib import Path

from rlef.analysis.compare import pair_parser
from rlef.evaluation import cluster_bootstrap
from rlef.probe import CONDITIONS, METRICS, SUBSETS, item_values
from rlef.provenance import produced_by, write_csv

QUANTITIES = (*CONDITIONS, "true_minus_random", "true_minus_none")


def read_probe(run_dir: Path) -> tuple[list[dict], str]:
    """(probe.csv rows with numbers parsed, the bank's text)."""
    with (run_dir / "probe.csv").open() as f:
        rows = [{**r, "temperature": float(r["temperature"]), "item": int(r["item"]),
                 **{m: float(r[m]) for m in METRICS}} for r in csv.DictReader(f)]
    return rows, (run_dir / "probe_bank.jsonl").read_text()


def compare(run_a: Path, run_b: Path, resamples: int = 2000, seed: int = 0) -> list[dict]:
    (rows_a, bank_a), (rows_b, bank_b) = read_probe(run_a), read_probe(run_b)
    if bank_a != bank_b:
        raise ValueError(f"{run_a} and {run_b} probed different banks: a paired difference needs one bank")
    family_of = {r["item"]: r["family"] for r in rows_a}
    out = []
    for temperature in sorted({r["temperature"] for r in rows_a} & {r["temperature"] for r in rows_b}, reverse=True):
        for subset in SUBSETS:
            for metric in METRICS:
                a, b = (item_values(rows, temperature, subset, metric) for rows in (rows_a, rows_b))
                for quantity in QUANTITIES:
                    if not a[quantity] or set(a[quantity]) != set(b[quantity]):
                        continue  # a subset the bank lacks, or a run cut short
                    gaps = {i: b[quantity][i] - a[quantity][i] for i in a[quantity]}
                    e = cluster_bootstrap(gaps, family_of, resamples, seed)
                    out.append({"temperature": temperature, "subset": subset, "metric": metric, "quantity": quantity,
                                "a": sum(a[quantity].values()) / len(gaps), "b": sum(b[quantity].values()) / len(gaps),
                                "b_minus_a": e.mean, "ci_low": e.low, "ci_high": e.high, "items": len(gaps),
                                "families": len({family_of[i] for i in gaps})})
    if not out:
        raise ValueError(f"{run_a} and {run_b} share no temperature and subset with the same items")
    return out


def main() -> None:
    args = pair_parser(__doc__.splitlines()[0], "probe").parse_args()
    rows = compare(args.run_a, args.run_b, args.resamples)
    for r in rows:
        if r["metric"] == "success_rate" and r["subset"] != "all":
            print(f"T={r['temperature']:.2f} {r['subset']:<7} {r['quantity']:<17} {r['a']:.3f} -> {r['b']:.3f} "
                  f"B - A {r['b_minus_a']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}] ({r['items']} items)")
    csv_path = write_csv(rows, args.target.with_suffix(".csv"))
    command = "python -m rlef.analysis.probe_compare " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    md = args.target.with_suffix(".md")
    md.write_text(produced_by(args.target.name, [command]) +
                  f"\nB - A item by item on one bank, 95% CI resampling families; file: `{csv_path.name}`.\n")
    print("wrote", csv_path, md)


if __name__ == "__main__":
    main()
