"""Instruction counts per round, with stock valgrind (callgrind): repeatable where time is not.

Each case runs in a fresh interpreter under callgrind twice: once doing a warm-up round and
then ``k`` measured rounds, once doing the warm-up alone. The difference divided by ``k`` is
the cost of one round, with the interpreter's start-up and imports cancelled out. To make
the two runs identical but for the rounds: ``PYTHONHASHSEED=0``, address randomisation off
(``setarch -R``), the garbage collector off, and both command lines of the same length.

    python -m benchmarks.instructions [NAME_FILTER]      # print a count per case
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, Iterable, List, Optional, Sequence

from benchmarks._child import NOT_RUNNABLE
from benchmarks.workloads import BY_NAME, CASES, Case

_COLLECTED = re.compile(r"^==\d+== Collected : (\d+)$", re.MULTILINE)
# Rounds per measurement: 20 where a round is cheap; one where a round alone is hundreds of
# millions of instructions (the naive Fibonacci, F(10**6)), ~10 s each under callgrind.
_DEFAULT_ROUNDS = 20


class CountError(RuntimeError):
    """valgrind could not count, or gave different counts for the same work."""


class NotRunnable(CountError):
    """The installed fastfun cannot run this case (an older build lacks what it calls)."""


class TimedOut(CountError):
    """A measurement ran past its time limit."""




def rounds_for(case: Case) -> int:
    if case.implementation == "naive" or case.workload == "fibonacci_big":
        return 1
    if case.workload == "api_fun":
        return 5
    return _DEFAULT_ROUNDS


def valgrind_available() -> bool:
    return shutil.which("valgrind") is not None


def _callgrind(name: str, rounds: int, python: str, cwd: Optional[str],
               timeout: Optional[float] = None) -> int:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "FASTFUN_NO_"))
    }
    env.update(PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", FASTFUN_REQUIRE_EXTENSIONS="1")
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            "setarch", "-R", "valgrind", "--tool=callgrind",
            f"--callgrind-out-file={tmp}/out", python, "-m", "benchmarks._child",
            name, f"{rounds:09d}",
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd,
                                    timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TimedOut(f"{name}: no count after {timeout:.0f} s") from None
    if result.returncode == NOT_RUNNABLE:
        raise NotRunnable(result.stderr.strip().splitlines()[-1])
    match = _COLLECTED.search(result.stderr)
    if result.returncode != 0 or match is None:
        tail = "\n".join(result.stderr.splitlines()[-15:])
        raise CountError(f"callgrind failed for {name} (exit {result.returncode}):\n{tail}")
    return int(match.group(1))


def count(
    name: str, *, python: str = sys.executable, cwd: Optional[str] = None, repeat: int = 1,
    timeout: Optional[float] = None,
) -> float:
    """Instructions per round of one case. With ``repeat`` > 1 every run is repeated and must
    give the same total, else CountError: a count that is not repeatable decides nothing."""
    rounds = rounds_for(BY_NAME[name]) if name in BY_NAME else _DEFAULT_ROUNDS
    totals = []
    for k in (rounds, 0):
        seen = {_callgrind(name, k, python, cwd, timeout) for _ in range(repeat)}
        if len(seen) != 1:
            raise CountError(f"{name}: the same run gave different counts {sorted(seen)}")
        totals.append(seen.pop())
    return (totals[0] - totals[1]) / rounds


def count_all(
    names: Iterable[str], *, python: str = sys.executable, cwd: Optional[str] = None,
    jobs: int = 0, repeat: int = 1,
) -> Dict[str, float]:
    """Counts for many cases, run in parallel (counts do not depend on the load)."""
    names = list(names)
    workers = jobs or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(lambda n: count(n, python=python, cwd=cwd, repeat=repeat), names)
        return dict(zip(names, results))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("filter", nargs="?", default="", help="only cases whose name contains this")
    parser.add_argument("-o", "--output", help="also write the counts as JSON to this file")
    args = parser.parse_args(argv)
    if not valgrind_available():
        print("instructions: valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    names: List[str] = [case.name for case in CASES if args.filter in case.name]
    counts = count_all(names)
    for name in names:
        print(f"{counts[name]:>16,.0f}  {name}")
    if args.output:
        with open(args.output, "w") as handle:
            json.dump(counts, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
