"""Timing the suite with pytest-benchmark, and reading its JSON: per benchmark name, its
timing statistics in seconds."""

from __future__ import annotations

import json
import subprocess
import sys
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


def load_for(command: str, path: str) -> dict[str, dict[str, Any]] | None:
    """``load`` for a command line: None, after one line on stderr, when the file is unusable."""
    try:
        return load(path)
    except (OSError, ValueError) as error:
        print(f"{command}: {error}", file=sys.stderr)
        return None


def time_suite(json_path: Path, *pytest_args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    """Runs ``pytest benchmarks`` (the suite in test_benchmarks.py), writing its JSON."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "benchmarks",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--benchmark-json={json_path}",
            *pytest_args,
        ],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=capture,
        text=True,
    )
