"""Measuring a project's benchmarks: exact instruction counts under callgrind, allocations,
wall time for the tripwire, and per-function attribution.

The measured venv needs nothing from the gate: ``plugin.py`` is put on its PYTHONPATH for the
run (see ``harness.py``)::

    names = collect(python, tree, ["tests/benchmarks"])
    counts = count(python, tree, ["tests/benchmarks"], out=Path("dumps"))
    counts[names[0]].instructions      # callgrind Ir per measured call
    functions(counts[names[0]].profile)  # inclusive Ir per call, by C function
"""

from __future__ import annotations

from fastfun_gate.measure.callgrind import count, functions
from fastfun_gate.measure.harness import Measured, MeasureError, collect, shard_of
from fastfun_gate.measure.timing import time

__all__ = [
    "MeasureError",
    "Measured",
    "collect",
    "count",
    "functions",
    "shard_of",
    "time",
    "worker_requirements",
]


def worker_requirements() -> list[str]:
    """What the measured venv must have beyond the project's test requirements: nothing (the
    plugin goes on PYTHONPATH; the project's own pytest runs it)."""
    return []
