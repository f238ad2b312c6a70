"""A picture of a run: per group, each benchmark's median time per round on a log scale,
with the ``limit`` (the cheapest possible per-day call) marked.

    python -m benchmarks plot results.json -o benchmarks.png

This project's own runs are drawn per workload and implementation (their ``extra_info``);
any other run per pytest-benchmark ``group``, a bar per benchmark labelled with its ``name``,
or its ``fullname`` where two in a group share a name. Refused in one line, exit status 2: a
file that is not a usable run (see ``results.py``), and a median of 0, which a log scale
cannot show.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence

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

Bar = tuple[str, float]  # (label, median seconds)


def panels(benchmarks: Sequence[results.Benchmark]) -> dict[str, list[Bar]]:
    """The bars of each panel, by panel title; every benchmark is one bar.

    Raises ``results.Refused`` for a median the log scale cannot show.
    """
    drawn: dict[str, list[tuple[str, results.Benchmark]]] = defaultdict(list)
    for bench in benchmarks:
        if bench.median <= 0:
            raise results.Refused(
                f"{results.shorten(bench.fullname)!r}: its median is {bench.median:g} s, "
                "and a log scale shows only times above 0"
            )
        info = bench.extra_info
        if "workload" in info:  # this project's suite (test_benchmarks.py)
            title = f"{info['workload']} {info.get('version') or ''}".strip()
            label = str(info.get("implementation", bench.name))
        else:
            title, label = bench.group or "(no group)", bench.name
        drawn[title].append((label, bench))
    bars: dict[str, list[Bar]] = {}
    for title, members in drawn.items():
        uses = Counter(label for label, _ in members)
        bars[title] = [
            (results.shorten(bench.fullname if uses[label] > 1 else label), bench.median)
            for label, bench in members
        ]
    return bars


def plot(benchmarks: Sequence[results.Benchmark], output: str, title: str = "") -> None:
    """Draws ``panels(benchmarks)`` into the image file ``output`` (its suffix picks the format).

    Raises ``results.Refused`` as ``panels`` does, OSError when ``output`` cannot be written.
    """
    groups = panels(benchmarks)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(groups), 1, figsize=(9, 1.0 + 1.1 * sum(len(v) for v in groups.values()) / 2), squeeze=False
    )
    try:
        for ax, (group, bars) in zip(axes[:, 0], sorted(groups.items()), strict=True):
            bars.sort(key=lambda bar: -bar[1])
            names = [b[0] for b in bars]
            seconds = [b[1] for b in bars]
            # Bars at their own positions: two equal labels would otherwise share one row.
            rows = range(len(bars))
            ax.barh(rows, seconds, color=[COLOURS.get(n, "#17becf") for n in names])
            ax.set_yticks(rows, names)
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
    finally:
        plt.close(fig)


def _human(seconds: float) -> str:
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks plot",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("results", help="the file written by pytest --benchmark-json")
    parser.add_argument("-o", "--output", default="benchmarks.png", help="default: benchmarks.png")
    parser.add_argument("--title", default="", help="a title for the figure")
    args = parser.parse_args(argv)
    benchmarks = results.load_for("plot", args.results)
    if benchmarks is None:
        return 2
    return results.write_for(
        "plot", args.results, args.output, lambda: plot(benchmarks, args.output, args.title), args.output
    )


if __name__ == "__main__":
    sys.exit(main())
