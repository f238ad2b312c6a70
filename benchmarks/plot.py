"""A picture of a run: per workload, each implementation's time per round on a log scale,
with the ``limit`` (the cheapest possible per-day call) marked.

    python -m benchmarks.plot results.json -o benchmarks.png
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from benchmarks import results

COLOURS = {
    "naive": "#d62728",
    "memoized": "#ff7f0e",
    "talk": "#ff7f0e",
    "pure": "#1f77b4",
    "compiled": "#2ca02c",
    "limit": "#7f7f7f",
    "gmpy2": "#9467bd",
}


def plot(stats: dict[str, dict[str, Any]], output: str, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for name, stat in stats.items():
        group = f"{stat.get('workload', name)} {stat.get('version') or ''}".strip()
        groups[group].append((stat.get("implementation", name), stat["median"]))
    fig, axes = plt.subplots(
        len(groups), 1, figsize=(9, 1.0 + 1.1 * sum(len(v) for v in groups.values()) / 2), squeeze=False
    )
    for ax, (group, bars) in zip(axes[:, 0], sorted(groups.items()), strict=True):
        bars.sort(key=lambda bar: -bar[1])
        names = [b[0] for b in bars]
        seconds = [b[1] for b in bars]
        ax.barh(names, seconds, color=[COLOURS.get(n, "#17becf") for n in names])
        ax.set_xscale("log")
        ax.set_title(group, loc="left", fontsize=10)
        limit = dict(bars).get("limit")
        if limit is not None:
            ax.axvline(limit, color="black", linestyle="--", linewidth=1)
        for y, value in enumerate(seconds):
            ax.text(value, y, f" {_human(value)}", va="center", fontsize=8)
        ax.set_xlim(min(seconds) / 3, max(seconds) * 20)
    axes[-1, 0].set_xlabel("median time per round (log scale); dashed line: limit")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(output, dpi=110)
    plt.close(fig)


def _human(seconds: float) -> str:
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.plot",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("results", help="the file written by pytest --benchmark-json")
    parser.add_argument("-o", "--output", default="benchmarks.png", help="default: benchmarks.png")
    parser.add_argument("--title", default="", help="a title for the figure")
    args = parser.parse_args(argv)
    stats = results.load_for("plot", args.results)
    if stats is None:
        return 2
    plot(stats, args.output, args.title)
    print(f"plot: wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
