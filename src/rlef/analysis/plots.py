"""<run>/train_iterations.csv -> <run>/train_iterations.png beside it: the training curves of one run
(reward and solve rate, KL to the reference, value loss and explained variance, clip fraction
and entropy), one panel each, against the iteration.

    python -m rlef.analysis.plots results/rlef_cpu_scale/h100/train_iterations.csv

Also the figure of a sweep's table (sweep_figure, called by rlef.analysis.table: Fig. 4 left) and the
bar charts of the per-turn analyses (grouped_bars, rlef.analysis.turns: Fig. 3, Fig. 4 right) and of
the other tables (rlef.analysis.table.bar_panels).
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
    from matplotlib.ticker import MaxNLocator

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
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # iterations are whole
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


def sweep_figure(series: dict[str, dict[str, list[tuple]]], x_label: str, title: str, png: Path) -> Path:
    """Solve rate (%) against x, one panel per key of `series`, one line per key of a panel, the
    95% bootstrap CI as a band (series: panel -> line -> [(x, rate, ci_low, ci_high)])."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, len(series), figsize=(4.5 * len(series), 3.4), squeeze=False)
    for ax, (panel, lines) in zip(axes[0], series.items()):
        for line, points in lines.items():
            xs = [p[0] for p in points]
            drawn = ax.plot(xs, [100 * p[1] for p in points], marker="o", markersize=3, label=line)
            ax.fill_between(xs, [100 * p[2] for p in points], [100 * p[3] for p in points],
                            color=drawn[0].get_color(), alpha=0.2, linewidth=0)
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel(x_label)
        ax.set_ylabel("solve rate (%)")
        ax.set_ylim(bottom=0, top=max(1.0, ax.get_ylim()[1]))  # an all-zero panel still reads as 0%
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # turn limits are whole turns
        ax.legend(fontsize=7)
    fig.suptitle(f"{title} (bands: 95% bootstrap CI over problems)", fontsize=10)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return png


def grouped_bars(panels: dict[tuple[str, str, str], dict[str, dict[str, tuple | None]]], columns: int, x_label: str,
                 title: str, png: Path) -> Path:
    """Bar groups with CI error bars, `columns` panels a row (panels: (row title, panel title, y label) ->
    group along x -> bar -> (value, ci_low, ci_high), or None where there is nothing to measure,
    drawn as a gap). Fig. 3 (error kinds x arms) and Fig. 4 right (turn transitions x arms)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 3.6 * rows), squeeze=False)
    bars = list(dict.fromkeys(b for groups in panels.values() for g in groups.values() for b in g))
    colors = {b: plt.get_cmap("tab10")(i % 10) for i, b in enumerate(bars)}
    width = 0.8 / max(1, len(bars))
    for ax, ((row_title, panel_title, y_label), groups) in zip(axes.flat, panels.items()):
        for i, bar in enumerate(bars):
            points = [(x, groups[g].get(bar)) for x, g in enumerate(groups) if groups[g].get(bar) is not None]
            xs = [x - 0.4 + width * (i + 0.5) for x, _ in points]
            values = [p[0] for _, p in points]
            errors = [[p[0] - p[1] for _, p in points], [p[2] - p[0] for _, p in points]]
            ax.bar(xs, values, width, yerr=errors, capsize=2, color=colors[bar], label=bar)
        ax.set_xticks(range(len(groups)), list(groups), rotation=20, fontsize=8)
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.set_title("\n".join(filter(None, [row_title, panel_title])), fontsize=8)
        ax.set_ylim(bottom=0, top=max(1.0, ax.get_ylim()[1]))  # an all-zero panel still shows its axis
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)  # no empty panels
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[b]) for b in bars]
    fig.legend(handles, bars, loc="lower center", ncol=min(len(bars), 4), fontsize=8)  # the same bars in every panel
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.04 + 0.03 * (-(-len(bars) // 4)) / rows, 1, 1))
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return png


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("iterations_csv", type=Path)
    parser.add_argument("--out", type=Path, help="default: <csv stem>.png beside the CSV")
    args = parser.parse_args(argv)
    out = args.out or args.iterations_csv.with_suffix(".png")
    print("wrote", training_curves(args.iterations_csv, out))


if __name__ == "__main__":
    main()
