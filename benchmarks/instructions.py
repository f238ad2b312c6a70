"""Instruction counts per call of the suite's benchmarks, by fastfun-gate like any project's.

The main job and ``bmf --instructions`` ask ``fastfun-gate count`` (the ``gate/`` folder of
this repository, ``pip install ./gate``) to count ``benchmarks/test_benchmarks.py`` in this
interpreter's environment: callgrind counts only the measured calls, start-up and setup
cancelled (``docs/gate.md``). Without the gate or valgrind the counts are not measured, and
the caller says so.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.workloads import SUITE

ROOT = Path(__file__).resolve().parents[1]


def missing() -> str | None:
    """Why counts cannot be measured here, or None when they can."""
    if shutil.which("valgrind") is None:
        return "valgrind is not installed (apt-get install valgrind)"
    if importlib.util.find_spec("fastfun_gate") is None:
        return "fastfun-gate is not installed (pip install ./gate)"
    return None


def count(node_ids: Sequence[str] = ()) -> dict[str, int]:
    """Instructions per call by pytest node id (``Case.fullname``), for these benchmarks (by
    default the whole suite). Raises RuntimeError with the gate's last line when it fails."""
    tests = shlex.join(node_ids or [SUITE])
    with tempfile.TemporaryDirectory(prefix="fastfun-counts-") as scratch:
        report = Path(scratch) / "counts.json"
        command = [sys.executable, "-m", "fastfun_gate", "count", "--tests", tests]
        command += ["--json", str(report), "--out", str(Path(scratch) / "out")]
        run = subprocess.run(command, cwd=ROOT, stdout=sys.stdout, stderr=subprocess.PIPE, text=True)
        if run.returncode != 0:
            lines = run.stderr.strip().splitlines() or [f"exit {run.returncode}"]
            raise RuntimeError(lines[-1])
        rows = json.loads(report.read_text())["benchmarks"]
    return {row["name"]: row["instructions"] for row in rows if row["instructions"] is not None}
