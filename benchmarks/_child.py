"""What runs in the measured interpreter.

    python -m benchmarks._child count BRIDGE [--rounds N] NAME [NAME ...]   # under callgrind
    python -m benchmarks._child time NAME ROUNDS                # wall time of ROUNDS rounds

``count`` runs inside ``valgrind --tool=callgrind --instr-atstart=no``: start-up and imports
run uninstrumented, and for each case, after a warm-up round, it switches instrumentation on
and dumps two profiles, one of zero rounds and one of ``rounds_for(case)`` rounds, through
the very same code path, then prints how long that took. Their difference is the rounds and
nothing else: not the start-up, the working directory, the environment or the process id
(benchmarks/counting.py reads the dumps). Then, uninstrumented, it counts the memory the
rounds allocate and retain the same way (zero rounds against k, through the same code). It
prints a line per case as it goes.

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


def _allocations(mem_blocks: Any, mem_bytes: Any, round_: Callable[[], Any], rounds: int) -> list[int]:
    # Blocks and bytes allocated by the rounds.
    blocks, size = mem_blocks(), mem_bytes()
    for _ in range(rounds):
        round_()
    return [mem_blocks() - blocks, mem_bytes() - size]


def _retained(round_: Callable[[], Any], rounds: int) -> int:
    # Blocks still held after the rounds and a full collection (a pass of its own: the
    # figures of the other one are objects too).
    gc.collect()
    held = sys.getallocatedblocks()
    for _ in range(rounds):
        round_()
    gc.collect()
    return sys.getallocatedblocks() - held


def _memory(bridge: Any, round_: Callable[[], Any], rounds: int) -> list[float]:
    """Per round: blocks and bytes allocated, blocks retained; and collector runs per 1,000
    rounds with the collector on (information). Uninstrumented, after the count."""
    bridge.fastfun_mem_install()
    _allocations(bridge.fastfun_mem_blocks, bridge.fastfun_mem_bytes, round_, 0)  # warms this code
    none = _allocations(bridge.fastfun_mem_blocks, bridge.fastfun_mem_bytes, round_, 0)
    some = _allocations(bridge.fastfun_mem_blocks, bridge.fastfun_mem_bytes, round_, rounds)
    _retained(round_, 0)
    none.append(_retained(round_, 0))
    some.append(_retained(round_, rounds))
    per_round = [(k - z) / rounds for k, z in zip(some, none, strict=True)]
    runs = [0]

    def seen(phase: str, info: dict[str, int]) -> None:
        runs[0] += phase == "start"

    gc_rounds = 1000 if rounds >= 5 else rounds
    gc.callbacks.append(seen)
    gc.enable()
    for _ in range(gc_rounds):
        round_()
    gc.disable()
    gc.callbacks.remove(seen)
    return [*per_round, runs[0] * 1000 / gc_rounds]


def count(bridge_path: str, names: list[str]) -> None:
    rounds_override = None
    if names[:1] == ["--rounds"]:
        rounds_override, names = int(names[1]), names[2:]
    bridge = ctypes.CDLL(bridge_path)
    # Bound once: ctypes builds a function object on first access, which must not be counted.
    zero, dump, start, stop = (
        bridge.fastfun_cg_zero,
        bridge.fastfun_cg_dump,
        bridge.fastfun_cg_start,
        bridge.fastfun_cg_stop,
    )
    dump.argtypes = [ctypes.c_char_p]
    bridge.fastfun_mem_blocks.restype = bridge.fastfun_mem_bytes.restype = ctypes.c_ulonglong
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
        rounds = rounds_override or rounds_for(BY_NAME[name])
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
        measured = time.perf_counter() - began
        memory = " ".join(repr(figure) for figure in _memory(bridge, round_, rounds))
        print(f"memory {name} {memory}", flush=True)
        print(f"done {name} {rounds} {measured:.6f}", flush=True)


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
