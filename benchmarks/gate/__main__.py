"""The gate's command line; see the package's docstring."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks import counting
from benchmarks.gate import run as gate_run
from benchmarks.gate.builds import Undecided

CACHE = Path(os.environ.get("FASTFUN_GATE_CACHE") or Path(tempfile.gettempdir()) / "fastfun-gate")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.gate",
        description=(gate_run.__doc__ or "").strip(),
        epilog="Exit status: 0 no regression, 1 regression, 2 could not decide.",
    )
    parser.add_argument(
        "--base", required=True, help="the revision to compare against, e.g. origin/main or HEAD^1"
    )
    parser.add_argument("--head", default="HEAD", help="default: HEAD")
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="the largest accepted instruction increase, as a fraction "
        "(default: the base's benchmarks/gate/rules.json)",
    )
    parser.add_argument(
        "--cases", default="", help="only cases whose name contains one of these comma-separated texts"
    )
    parser.add_argument("--repo", default=".", help="the git repository (default: here)")
    parser.add_argument(
        "--measure-identical",
        action="store_true",
        help="count even when base and head build the same package",
    )
    parser.add_argument("--out", help="keep the callgrind profiles of every case that is not ok here")
    args = parser.parse_args(argv)
    if not counting.valgrind_available():
        print("gate: could not decide: valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    options = gate_run.Options(
        repo=Path(args.repo).resolve(),
        base=args.base,
        head=args.head,
        threshold=args.threshold,
        patterns=[p for p in args.cases.split(",") if p],
        measure_identical=args.measure_identical,
        cache=CACHE,
        out=Path(args.out).resolve() if args.out else None,
    )
    try:
        return gate_run.run(options)
    except Undecided as error:
        print(f"gate: could not decide: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gate: could not decide: interrupted", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - fail closed: no bug may read as pass or regression
        print(f"gate: could not decide: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
