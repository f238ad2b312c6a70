"""pytest-benchmark JSON to the Bencher Metric Format: several measures in one upload.

    python -m benchmarks.bmf results.json [--instructions] -o bmf.json

- ``latency``: mean nanoseconds per round, lower and upper values one standard deviation
  away (what Bencher's own ``python_pytest`` adapter reads);
- ``throughput``: rounds per second, with the same spread;
- ``instructions`` (with ``--instructions``): callgrind's count per round, measured now.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks import counting, results
from benchmarks.workloads import BY_NAME

NS = 1e9


def to_bmf(
    stats: Mapping[str, Mapping[str, Any]], counts: Mapping[str, float] | None = None
) -> dict[str, dict[str, dict[str, float]]]:
    report: dict[str, dict[str, dict[str, float]]] = {}
    for name, stat in stats.items():
        mean, spread = stat["mean"], stat["stddev"]
        low, high = max(mean - spread, 0.0), mean + spread
        measures = {
            "latency": {"value": mean * NS, "lower_value": low * NS, "upper_value": high * NS},
            "throughput": {
                "value": 1 / mean,
                "lower_value": 1 / high,
                "upper_value": 1 / low if low > 0 else 1 / mean,
            },
        }
        if counts is not None and name in counts:
            measures["instructions"] = {"value": float(counts[name])}
        report[name] = measures
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bmf",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("results", help="the file written by pytest --benchmark-json")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions per round with callgrind (about a minute)",
    )
    parser.add_argument("-o", "--output", default="bmf.json", help="default: bmf.json")
    args = parser.parse_args(argv)
    stats = results.load_for("bmf", args.results)
    if stats is None:
        return 2
    counts = None
    if args.instructions:
        if not counting.valgrind_available():
            print("bmf: --instructions needs valgrind (apt-get install valgrind)", file=sys.stderr)
            return 2
        counts = counting.figures(
            counting.count(
                [name for name in stats if name in BY_NAME], progress=lambda line: print(line, flush=True)
            )
        )
    Path(args.output).write_text(json.dumps(to_bmf(stats, counts), indent=2) + "\n")
    print(f"bmf: wrote {len(stats)} benchmarks to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
