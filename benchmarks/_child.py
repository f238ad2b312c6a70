"""What runs in the measured interpreter.

    python -m benchmarks._child count BRIDGE NAME [NAME ...]   # under callgrind
    python -m benchmarks._child time NAME ROUNDS                # wall time of ROUNDS rounds

``count`` runs inside ``valgrind --tool=callgrind --instr-atstart=no``: start-up and imports
run uninstrumented, and for each case, after a warm-up round, it switches instrumentation on
and dumps two profiles, one of zero rounds and one of ``rounds_for(case)`` rounds, through
the very same code path, then prints how long that took. Their difference is the rounds and
nothing else: not the start-up, the working directory, the environment or the process id
(benchmarks/counting.py reads the dumps). It prints one line per case as it goes.

Kept apart from the rest of the tooling so that the measured interpreter imports as little as
possible.
"""

from __future__ import annotations

import ctypes
import gc
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks.workloads import BY_NAME, rounds_for

NOT_RUNNABLE = 3  # the exit status of ``time`` when the installed fastfun cannot run the case
SEPARATOR = "|"  # between a case's name and its rounds in a dump's name


def _make_round(name: str) -> tuple[Callable[[], Any] | None, str | None]:
    try:
        return BY_NAME[name].make_round(), None
    except (AttributeError, ImportError, KeyError) as error:
        return None, f"{type(error).__name__}: {error}"


def _measure(zero: Any, dump: Any, round_: Callable[[], Any], rounds: int, tag: bytes) -> None:
    # Every dump of a case goes through this same code, so everything but the rounds cancels.
    zero()
    for _ in range(rounds):
        round_()
    dump(tag)


def count(bridge_path: str, names: list[str]) -> None:
    bridge = ctypes.CDLL(bridge_path)
    # Bound once: ctypes builds a function object on first access, which must not be counted.
    zero, dump, start, stop = (
        bridge.fastfun_cg_zero,
        bridge.fastfun_cg_dump,
        bridge.fastfun_cg_start,
        bridge.fastfun_cg_stop,
    )
    dump.argtypes = [ctypes.c_char_p]
    if not bridge.fastfun_cg_running():
        print("error not running under valgrind", flush=True)
        sys.exit(2)
    gc.disable()  # a collection would land in whichever round crossed its threshold
    for name in names:
        print(f"begin {name}", flush=True)
        round_, error = _make_round(name)
        if round_ is None:
            print(f"cannot {name} {error}", flush=True)
            continue
        rounds = rounds_for(BY_NAME[name])
        tags = [f"{name}{SEPARATOR}{k}".encode() for k in ("warm-up", 0, rounds)]
        round_()  # warm-up: first-call caches, lazily built tables, imports
        round_()
        began = time.perf_counter()
        start()
        # The first pass warms the measuring code itself; its dump is not read.
        _measure(zero, dump, round_, 0, tags[0])
        _measure(zero, dump, round_, 0, tags[1])
        _measure(zero, dump, round_, rounds, tags[2])
        stop()
        print(f"done {name} {rounds} {time.perf_counter() - began:.6f}", flush=True)


def timed(name: str, rounds: int) -> None:
    round_, error = _make_round(name)
    if round_ is None:
        print(f"cannot run {name}: {error}", file=sys.stderr)
        sys.exit(NOT_RUNNABLE)
    round_()
    gc.disable()
    start = time.perf_counter()
    for _ in range(rounds):
        round_()
    print(repr(time.perf_counter() - start))


def main() -> None:
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "count":
        count(args[0], args[1:])
    elif mode == "time":
        timed(args[0], int(args[1]))
    else:
        sys.exit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
