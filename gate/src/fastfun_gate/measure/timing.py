"""The tripwire's wall time: the same plugin in mode ``time``, without valgrind.

Each benchmark is timed in a child forked for it (a fresh process: one long-lived process
carries its own memory layout, which alone was seen to skew identical builds by 30% in
fastfun's gate), after one warm-up call, with the collector off; its figure is the fastest of
a few batches of the calls (a neighbour's burst slows some batches, a sleep every one).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from fastfun_gate.measure.harness import Run, absolute


def time(
    python: Path,
    tree: Path,
    pytest_args: Sequence[str],
    names: Sequence[str],
    *,
    calls: int,
    out: Path,
    timeout: float = 600.0,
) -> dict[str, float]:
    """Wall seconds per call of each of ``names`` (node ids), ``calls`` calls each in batches,
    the fastest batch's, no valgrind. A benchmark that could not be timed (failed, skipped, not collected) is left
    out. MeasureError when the harness cannot run or the suite does not collect."""
    if calls < 1:
        raise ValueError(f"calls must be at least 1, not {calls}")
    with Run({"mode": "time", "names": list(names), "calls": calls}, python, tree, exact=False) as run:
        try:
            run.execute(run.pytest(pytest_args), run.environment(), timeout)
        finally:
            run.save_log(absolute(out), "time.log")
        timed = {}
        for path in sorted((run.out / "results").glob("*.json")):
            result = json.loads(path.read_text())
            if result["error"] is None:
                timed[result["name"]] = result["seconds"]
        return {name: timed[name] for name in names if name in timed}
