"""The time tripwire: catches what instruction counts cannot see (a sleep, I/O, a lock).

Wall time on a shared machine is noisy, so it decides only far above noise: the median of
per-pair head/base ratios over interleaved pairs of fresh processes. Fresh processes on
purpose: one long-lived process per side carries its own memory layout, and that alone was
seen to skew identical builds by 30%.
"""

from __future__ import annotations

import math
import statistics
import subprocess
import time
from pathlib import Path

from benchmarks import counting
from benchmarks.gate.builds import Build

# A timed run should last long enough to dwarf the clock, short enough to keep the gate quick.
ROUND_SECONDS = 0.02


def time_rounds(build: Build, harness: Path, name: str, rounds: int, timeout: float) -> float | None:
    """Seconds for ``rounds`` rounds in a fresh interpreter; None past the timeout, NaN when
    the run failed."""
    try:
        result = subprocess.run(
            [build.python, "-m", "benchmarks._child", "time", name, str(rounds)],
            cwd=harness,
            env=counting.measured_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None
    if result.returncode != 0:
        return math.nan
    return float(result.stdout.strip().splitlines()[-1])


def ratio(
    base: Build, head: Build, harness: Path, name: str, pairs: int, hang: float
) -> tuple[float | None, str]:
    """The median head/base time ratio, and a note when it could not be measured; a head run
    over ``hang`` times its base is stopped and reads as infinity."""
    once = time_rounds(base, harness, name, 1, timeout=600)
    if once is None or math.isnan(once):
        return None, "the base's timed run failed"
    rounds = max(1, int(ROUND_SECONDS / max(once, 1e-9)))
    ratios = []
    for _ in range(pairs):
        started = time.monotonic()
        b = time_rounds(base, harness, name, rounds, timeout=600)
        # The head's limit covers its start-up too: hang x the base's whole run, at least 5 s.
        h = time_rounds(head, harness, name, rounds, timeout=max(hang * (time.monotonic() - started), 5.0))
        if h is None:
            return math.inf, f"a timed head run took over {hang:g}x its base: stopped"
        if b is None or math.isnan(b) or math.isnan(h):
            return None, "a timed run failed"
        ratios.append(h / b)
    return statistics.median(ratios), ""
