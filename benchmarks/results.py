"""Reading pytest-benchmark's JSON: per benchmark name, its timing statistics in seconds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load(path: str | Path) -> dict[str, dict[str, Any]]:
    """``{name: stats}`` from ``--benchmark-json``; the name is the test's, e.g.
    ``test_fibonacci_month[compiled]``, stable across runs and machines."""
    data = json.loads(Path(path).read_text())
    missing = {"machine_info", "commit_info", "benchmarks"} - data.keys()
    if missing:
        raise ValueError(f"{path} is not pytest-benchmark JSON: no {', '.join(sorted(missing))}")
    return {bench["name"]: {**bench["stats"], **bench.get("extra_info", {})} for bench in data["benchmarks"]}
