"""``history``: counts kept in git notes, their steps listed and drawn. The figures recorded
come from a compare report, so no build is needed here; ``record --rev`` counts as compare does."""

from __future__ import annotations

import json

import pytest

import projects
from fastfun_gate import compare, report
from test_verdict import Counted


def recorded(tmp_path, repo, commit, figures):  # type: ignore[no-untyped-def]
    rows = [compare.row_of(name, Counted(1), Counted(value), 0.03) for name, value in figures.items()]
    path = tmp_path / f"{commit[:7]}.json"
    made = report.Report(
        compare.decide(rows), base={"rev": "b", "commit": commit}, head={"rev": "h", "commit": commit}
    )
    path.write_text(json.dumps(report.to_json(made)))
    return path


@pytest.fixture
def noted(tmp_path):  # type: ignore[no-untyped-def]
    repo = tmp_path / "repo"
    repo.mkdir()
    projects.git(repo, "init", "-q", "-b", "main")
    commits = [projects.commit(repo, f"commit {i}") for i in range(3)]
    return repo, commits


def test_show_lists_every_step_of_every_benchmark(gate, noted, tmp_path):
    repo, commits = noted
    for commit, value in zip(commits, (100, 100, 150), strict=True):
        result = gate(
            "history",
            "record",
            "--repo",
            str(repo),
            "--report",
            str(recorded(tmp_path, repo, commit, {"t::a": value})),
        )
        assert result.status == 0, result.err
    shown = gate("history", "show", "--repo", str(repo))
    assert shown.status == 0
    assert shown.out.splitlines() == [
        "3 commits with counts; every step:",
        f"  {commits[2][:12]} commit 2: t::a 100 -> 150 (1.5000x)",
    ]


def test_show_without_notes_says_how_to_fetch_them(gate, noted):
    repo, _ = noted
    result = gate("history", "show", "--repo", str(repo))
    assert result.status == 1 and "git fetch origin refs/notes/fastfun-gate" in result.out


def test_plot_draws_a_png(gate, noted, tmp_path):
    pytest.importorskip("matplotlib", reason="the plot extra is not installed")
    repo, commits = noted
    gate(
        "history",
        "record",
        "--repo",
        str(repo),
        "--report",
        str(recorded(tmp_path, repo, commits[0], {"t::a": 5})),
    )
    out = tmp_path / "h.png"
    assert gate("history", "plot", "--repo", str(repo), "-o", str(out)).status == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
