"""pytest-benchmark JSON to the Bencher Metric Format: several measures in one upload.

    python -m benchmarks bmf results.json [--instructions] -o bmf.json

Each benchmark is named by its ``fullname`` (pytest's node id), exactly as Bencher's own
``python_pytest`` adapter names it, so history carries over between the two; one entry per
benchmark, never merged.

- ``latency``: mean nanoseconds per round, lower and upper values one standard deviation
  away (what Bencher's ``python_pytest`` adapter reads; the lower value stops at 0);
- ``throughput``: rounds per second, with the same spread; left out for a mean of 0, which
  has no such figure;
- ``instructions`` (with ``--instructions``): instructions per call, counted now by fastfun-gate (callgrind).

Refused in one line, exit status 2, nothing written: a file that is not a usable run (see
``results.py``), and what Bencher cannot store: a name over 1,024 bytes of UTF-8, or a
figure beyond a finite float.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from benchmarks import instructions, results
from benchmarks.workloads import SUITE

NS = 1e9
SCHEMA = Path(__file__).with_name("bmf.schema.json")
# Bencher's BenchmarkName: 1 to 1024 bytes of UTF-8 (Rust's str::len; bencher_valid,
# benchmark_name.rs), where JSON Schema's maxLength counts characters.
MAX_NAME_BYTES = 1024

Report = dict[str, dict[str, dict[str, float]]]


def to_bmf(benchmarks: Sequence[results.Benchmark], counts: Mapping[str, float] | None = None) -> Report:
    """The BMF report of a run; ``counts`` maps a ``fullname`` to instructions per round.

    Raises ``results.Refused`` for what Bencher cannot store.
    """
    report: Report = {}
    for bench in benchmarks:
        size = len(bench.fullname.encode())
        if size > MAX_NAME_BYTES:
            raise results.Refused(
                f"the name {results.shorten(bench.fullname)!r} is {size:,} bytes of UTF-8; Bencher "
                f"stores names up to {MAX_NAME_BYTES:,} bytes (give the test a shorter id, "
                "e.g. pytest.param(..., id='short'))"
            )
        mean, spread = bench.mean, bench.stddev
        low, high = max(mean - spread, 0.0), mean + spread
        measures = {"latency": {"value": mean * NS, "lower_value": low * NS, "upper_value": high * NS}}
        if mean > 0:
            measures["throughput"] = {
                "value": 1 / mean,
                "lower_value": 1 / high,
                "upper_value": 1 / low if low > 0 else 1 / mean,
            }
        if counts is not None and bench.fullname in counts:
            measures["instructions"] = {"value": float(counts[bench.fullname])}
        for measure, figures in measures.items():
            if not all(math.isfinite(value) for value in figures.values()):
                raise results.Refused(
                    f"{results.shorten(bench.fullname)!r}: its {measure} is beyond a finite float "
                    f"({figures}), which neither JSON nor Bencher can hold"
                )
        report[bench.fullname] = measures
    return report


def dumps(report: Report) -> str:
    """``report`` as strict JSON, checked against ``bmf.schema.json`` (what Bencher accepts)."""
    import jsonschema

    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).iter_errors(report)
    )
    if error is not None:
        raise results.Refused(f"not valid BMF: {error.json_path}: {results.shorten(error.message, 300)}")
    try:
        return json.dumps(report, indent=2, allow_nan=False) + "\n"
    except ValueError as error:  # NaN or Infinity, which JSON has no way to write
        raise results.Refused(f"not valid BMF: {error}") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks bmf",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("results", help="the file written by pytest --benchmark-json")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions per call with fastfun-gate (callgrind; a few minutes)",
    )
    parser.add_argument("-o", "--output", default="bmf.json", help="default: bmf.json")
    args = parser.parse_args(argv)
    benchmarks = results.load_for("bmf", args.results)
    if benchmarks is None:
        return 2
    counts = None
    if args.instructions:
        why_not = instructions.missing()
        if why_not is not None:
            print(f"bmf: --instructions needs what is missing: {why_not}", file=sys.stderr)
            return 2
        # Only this project's own suite has benchmarks to count.
        ours = [b.fullname for b in benchmarks if b.fullname.startswith(f"{SUITE}::")]
        try:
            counted = instructions.count(ours)
        except RuntimeError as error:
            print(f"bmf: counting failed: {error}", file=sys.stderr)
            return 2
        counts = {b.fullname: counted[b.fullname] for b in benchmarks if b.fullname in counted}
    return results.write_for(
        "bmf",
        args.results,
        args.output,
        lambda: Path(args.output).write_text(dumps(to_bmf(benchmarks, counts))),
        f"{len(benchmarks)} benchmarks to {args.output}",
    )


if __name__ == "__main__":
    sys.exit(main())
