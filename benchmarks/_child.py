"""What runs inside valgrind: one case's warm-up round, then ROUNDS measured rounds.

    python -m benchmarks._child NAME ROUNDS [--time]

With ``--time`` it prints the seconds the ROUNDS rounds took (the gate's tripwire).

Kept apart from ``instructions.py`` so that the measured interpreter imports as little as
possible: every run pays for its own start-up under callgrind.
"""

import gc
import sys
import time

from benchmarks.workloads import BY_NAME

NOT_RUNNABLE = 3  # the exit status when the installed fastfun cannot run the case


def main() -> None:
    name, rounds = sys.argv[1], int(sys.argv[2])
    try:
        round_ = BY_NAME[name].make_round()
    except (AttributeError, ImportError, KeyError) as error:
        print(f"cannot run {name}: {error!r}", file=sys.stderr)
        sys.exit(NOT_RUNNABLE)
    round_()  # warm-up: first-call caches, lazily built tables, imports
    gc.disable()
    start = time.perf_counter()
    for _ in range(rounds):
        round_()
    if sys.argv[3:] == ["--time"]:
        print(repr(time.perf_counter() - start))


if __name__ == "__main__":
    main()
