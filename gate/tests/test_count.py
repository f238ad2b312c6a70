"""``count``: the checkout's benchmarks counted in an environment that exists, no build."""

from __future__ import annotations

import json
from pathlib import Path


def test_count_reads_the_checkout_in_a_given_environment(gate, pure, tmp_path):
    repo, commits = pure
    built = gate("build", commits["base"], "--repo", str(repo))  # the base's venv, main's checkout
    assert built.status == 0, built.err
    python = Path(built.out.strip()) / "venv" / "bin" / "python"
    result = gate("count", "--repo", str(repo), "--python", str(python), "--json", str(tmp_path / "c.json"))
    assert result.status == 0, result.err
    counts = json.loads((tmp_path / "c.json").read_text())
    assert counts["commit"] == commits["base"]
    assert [row["name"] for row in counts["benchmarks"]] == [
        "tests/test_bench.py::test_total",
        "tests/test_bench.py::test_words[50]",
    ]
    assert all(
        isinstance(row["instructions"], int) and row["instructions"] > 0 for row in counts["benchmarks"]
    )
