"""``bisect`` names the first commit over the threshold; ``bisect-run`` answers ``git bisect
run`` for HEAD. On the pure project's line: a comment, the slowdown, two commits more."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import projects
from conftest import Result

BENCHMARK = "tests/test_bench.py::test_total"


def bisect(
    gate: Callable[..., Result], pure: tuple[Path, dict[str, Any]], out: Path, benchmark: str
) -> Result:
    """``bisect`` over the line: from base (good) to its last commit (bad)."""
    repo, commits = pure
    good, bad = commits["base"], commits["line"][-1]
    return gate(
        "bisect",
        "--repo",
        str(repo),
        "--good",
        good,
        "--bad",
        bad,
        "--benchmark",
        benchmark,
        "--out",
        str(out),
    )


def test_bisect_names_the_commit_that_brought_the_slowdown(gate, pure, tmp_path):
    line = pure[1]["line"]
    result = bisect(gate, pure, tmp_path, BENCHMARK)
    assert result.status == 0, result.err
    assert result.out.strip() == f"first commit over +3.0%: {line[1]} line: the second loop"


def test_bisect_with_a_benchmark_the_good_revision_lacks_names_the_nearest(gate, pure, tmp_path):
    result = bisect(gate, pure, tmp_path, "tests/test_bench.py::test_totl")
    assert result.status == 2
    assert (
        f"no benchmark 'tests/test_bench.py::test_totl'; the nearest: {BENCHMARK}"
        in result.err.splitlines()[-1]
    )


def test_bisect_run_answers_git_bisect_for_head(pure, tmp_path):
    repo, commits = pure
    script = [
        sys.executable,
        "-m",
        "fastfun_gate",
        "bisect-run",
        "--good",
        commits["base"],
        "--out",
        str(tmp_path),
    ]
    try:
        projects.git(repo, "checkout", "-q", "--detach", commits["line"][-1])
        bad = subprocess.run([*script, "--benchmark", BENCHMARK], cwd=repo, capture_output=True, text=True)
        # a good HEAD: the good revision itself, whose count is the reference
        good = subprocess.run(
            [*script[:5], "HEAD", *script[6:], "--benchmark", BENCHMARK],
            cwd=repo,
            capture_output=True,
            text=True,
        )
        wrong = subprocess.run([*script, "--benchmark", "nothing"], cwd=repo, capture_output=True, text=True)
    finally:
        projects.git(repo, "checkout", "-q", "main")
    assert (bad.returncode, good.returncode, wrong.returncode) == (1, 0, 128), (
        bad.stderr,
        good.stderr,
        wrong.stderr,
    )
