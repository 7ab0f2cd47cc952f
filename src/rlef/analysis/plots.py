"""<run>/train_iterations.csv -> <run>/train_iterations.png beside it: the training curves of one run
(reward and solve rate, KL to the reference, value loss and explained variance, clip fraction
and entropy), one panel each, against the iteration.

    python -m rlef.analysis.plots results/rlef_cpu_scale/h100/train_iterations.csv
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

PANELS = [
    ("reward and solve rate", ["rollout/reward", "rollout/solve_rate", "val/solve_rate"]),
    ("KL to rho (nats/token)", ["kl/ref"]),
    ("critic", ["losses/value", "losses/explained_variance"]),
    ("policy", ["losses/clipfrac", "losses/entropy"]),
]


def _series(rows: list[dict], key: str) -> tuple[list[float], list[float]]:
    points = [(float(r["iteration"]), float(r[key])) for r in rows if r.get(key) not in (None, "")]
    return [x for x, _ in points], [y for _, y in points]


def training_curves(iterations_csv: Path, png: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    with iterations_csv.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{iterations_csv} has no iterations")
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4 * len(PANELS), 3.2))
    for ax, (title, keys) in zip(axes, PANELS):
        for key in keys:
            xs, ys = _series(rows, key)
            if xs:
                ax.plot(xs, ys, marker="o", markersize=3, label=key)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("iteration")
        if ax.lines:
            ax.legend(fontsize=7)
        else:  # e.g. a run from before the metric was logged
            ax.text(0.5, 0.5, "not in this CSV", ha="center", va="center", transform=ax.transAxes)
    fig.suptitle(iterations_csv.stem, fontsize=10)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("iterations_csv", type=Path)
    parser.add_argument("--out", type=Path, help="default: <csv stem>.png beside the CSV")
    args = parser.parse_args()
    out = args.out or args.iterations_csv.with_suffix(".png")
    print("wrote", training_curves(args.iterations_csv, out))


if __name__ == "__main__":
    main()
