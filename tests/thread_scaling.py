"""Thread scaling of fastfun's cores: the same batch of calls in 2 threads against 1 thread.

    python -I tests/thread_scaling.py [--rounds N] [--seconds S]

The release's test-command runs it before the suite, so every wheel job's log prints it, the
free-threaded cp314t and cp315t ones among them. For each kind of work, and for all of it
together, the ratio is the wall time of the batch split over 2 threads divided by the wall
time of the whole batch in 1 thread, each the best of N rounds taken in turn in this one run:
0.5 is perfect scaling. The goal on a free-threaded build is at most 0.6; with the GIL the
threads take turns and the ratio reads 1.0 or more (handing the GIL over costs too). A figure
never fails the run: timings are reported, not asserted (the answers themselves are checked
by tests/test_hardening.py).

What could make threads wait on each other even without the GIL, and which row shows it:
every table hit returns a ready-made int whose reference count each thread increments, an
atomic add on one shared cache line when the object was made by another thread (only the
small ints are immortal: F(0) to F(13) on 3.14, to F(16) on 3.15, whose cache reaches 1024;
the line "immortal" counts them), while fizzbuzz returns None or one of three interned
strings, immortal too (the same line counts them). So the fibonacci(0..93) row shows that
contention, and the computed row (new ints each call) and the fizzbuzz row paths without it.
The pure twin also reads its module's tuples on every call, shared objects as well.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import sysconfig
import threading
import time
from collections.abc import Callable
from types import ModuleType

GOAL = 0.6


def kinds_of_work(core: ModuleType) -> dict[str, Callable[[], object]]:
    """One unit of each kind of work (a few hundred calls, nothing kept), and of all of them."""
    fib, fizzbuzz, notify, notifies, month = (
        core.fibonacci,
        core.fizzbuzz,
        core.fun_notification,
        core.fun_notifications,
        core.month,
    )
    table = range(94)
    days = range(1, 366)
    work: dict[str, Callable[[], object]] = {
        "fibonacci(0..93), table hits": lambda: [fib(n) for n in table],
        "fibonacci(94..193), computed": lambda: [fib(n) for n in range(94, 194)],
        "fizzbuzz(1..365)": lambda: [fizzbuzz(n) for n in days],
        "fun_notification(1..365)": lambda: [notify(n) for n in days],
        "fun_notifications(a year)": lambda: notifies(days),
        "month(2024, 1..12)": lambda: [month(2024, m) for m in range(1, 13)],
    }
    units = tuple(work.values())
    work["all of the above"] = lambda: [unit() for unit in units]
    return work


def wall_time(unit: Callable[[], object], units: int, threads: int) -> float:
    """Seconds from the start signal until ``threads`` threads have done ``units`` units in all.

    The single-thread run also runs in a new thread: an object is cheapest to share for the
    thread that made it (biased reference counting), so neither side runs in the importing one.
    """
    start = threading.Barrier(threads + 1)

    def worker() -> None:
        start.wait()
        for _ in range(units // threads):
            unit()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in pool:
        thread.join()
    return time.perf_counter() - began


def scaling(unit: Callable[[], object], seconds: float, rounds: int) -> tuple[float, float]:
    """Best single-thread and two-thread wall times of the same even number of units."""
    units = 2
    # The best of three at each size: one slow moment of a busy machine must not stop it early.
    while min(wall_time(unit, units, 1) for _ in range(3)) < seconds / 4:
        units *= 2
    units *= 4
    one = two = float("inf")
    for _ in range(rounds):  # taken in turn, so a busy moment of the machine hits both
        one = min(one, wall_time(unit, units, 1))
        two = min(two, wall_time(unit, units, 2))
    return one, two


def gil_state() -> str:
    if sys.implementation.name != "cpython":
        return f"{platform.python_implementation()} has a GIL: the threads take turns, expect 1.0x or more"
    if not sysconfig.get_config_var("Py_GIL_DISABLED"):
        return "GIL build: the threads take turns, expect 1.0x or more (the hand-overs cost)"
    if sys.version_info >= (3, 13) and sys._is_gil_enabled():
        return "free-threaded build, but the GIL is ON (an extension or PYTHON_GIL turned it on): expect 1.0x or more"
    return f"free-threaded build, GIL off: the goal is at most {GOAL}x"


def immortal_results(core: ModuleType) -> str:
    """How many of the ready-made results are immortal: the others' reference counts are shared."""
    is_immortal = getattr(sys, "_is_immortal", None)  # CPython 3.14+
    if is_immortal is None:
        return "immortal: cannot tell before CPython 3.14"
    shared = [n for n in range(94) if not is_immortal(core.fibonacci(n))]
    words = [word for word in (core.fizzbuzz(n) for n in (3, 5, 15)) if word is not None]
    return (
        f"immortal: {94 - len(shared)} of the 94 table ints (from F({shared[0]}) on, shared reference "
        f"counts), {sum(map(is_immortal, words))} of the {len(words)} fizzbuzz words"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="timings of each side, the best kept (default 5)"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=0.05,
        help="about how long one single-thread batch runs (default 0.05)",
    )
    args = parser.parse_args()
    cores = ["fastfun._core_py"]
    if sys.implementation.name == "cpython" and not os.environ.get("FASTFUN_NO_EXTENSIONS"):
        cores.insert(0, "fastfun._core")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"\nthread scaling, {platform.python_implementation()} {platform.python_version()} "
        f"on {cpus} CPUs: {gil_state()} (0.5x is perfect scaling)"
    )
    print(f"{'core':<9} {'work':<32} {'1 thread':>9} {'2 threads':>10} {'ratio':>7}")
    for name in cores:
        core = importlib.import_module(name)
        work = kinds_of_work(core)
        label = "compiled" if name == "fastfun._core" else "pure"
        for what, unit in work.items():
            one, two = scaling(unit, args.seconds, args.rounds)
            print(f"{label:<9} {what:<32} {one * 1e3:>7.1f}ms {two * 1e3:>8.1f}ms {two / one:>6.2f}x")
        print(f"{label:<9} {immortal_results(core)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
