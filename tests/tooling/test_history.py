"""History without a service: counts recorded in git notes, every step listed, a picture drawn."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import history

ROOT = Path(__file__).resolve().parents[2]

# A note is a commit of its own: git wants to know who writes it.
IDENTITY = {
    f"GIT_{who}_{what}": value
    for who in ("AUTHOR", "COMMITTER")
    for what, value in (("NAME", "history test"), ("EMAIL", "history@test.invalid"))
}


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t.invalid", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def benchmarks(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", **IDENTITY},
        timeout=300,
    )


def test_recorded_counts_give_every_step_and_a_picture(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", str(repo))
    figures = [
        {"a": 100.0, "b": 50.0},
        {"a": 100.0, "b": 50.0},
        {"a": 102.0, "b": 50.0},
        {"a": 102.0, "b": 49.0},
    ]
    commits = []
    for i, counts in enumerate(figures):
        git(repo, "commit", "-q", "--allow-empty", "-m", f"change {i}")
        counts_file = tmp_path / f"counts{i}.json"
        counts_file.write_text(
            json.dumps({name: {"instructions": n, "blocks": 1.0} for name, n in counts.items()})
        )
        recorded = benchmarks("history", "record", str(counts_file), "--repo", str(repo), cwd=tmp_path)
        assert recorded.returncode == 0, recorded.stderr
        commits.append(git(repo, "rev-parse", "HEAD"))
    picture = tmp_path / "history.png"
    shown = benchmarks("history", "--repo", str(repo), "-o", str(picture), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    steps = [line.strip() for line in shown.stdout.splitlines() if line.startswith("  ")]
    assert steps == [
        f"{commits[2][:12]} change 2: a 100.0 -> 102.0 (1.0200x)",
        f"{commits[3][:12]} change 3: b 50.0 -> 49.0 (0.9800x)",
    ]
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    note = json.loads(git(repo, "notes", "--ref", history.NOTES, "show", commits[0]))
    assert set(note["fingerprint"]) == {"python", "cython", "compiler", "valgrind", "cpu"}


def test_a_toolchain_change_is_marked_where_it_happened() -> None:
    fingerprint = {
        "python": "CPython 3.11.7",
        "cython": "3.3.1",
        "compiler": "gcc 12",
        "valgrind": "3.19",
        "cpu": "x",
    }
    newer = {**fingerprint, "python": "CPython 3.12.1"}
    found = history.steps(
        [
            ("1" * 40, "before", {"fingerprint": fingerprint, "counts": {"a": 10}}),
            ("2" * 40, "upgrade", {"fingerprint": newer, "counts": {"a": 9}}),
        ]
    )
    assert found == [
        f"{'2' * 12} upgrade: toolchain changed (python)",
        f"{'2' * 12} upgrade: a 10.0 -> 9.0 (0.9000x)",
    ]


def test_a_real_count_file_is_what_record_takes(tmp_path: Path) -> None:
    counts_file = tmp_path / "counts.json"
    counted = benchmarks("count", "fibonacci_month[compiled]", "-o", str(counts_file), cwd=tmp_path)
    if counted.returncode == 2 and "valgrind is not installed" in counted.stderr:
        pytest.skip("valgrind is not installed")
    assert counted.returncode == 0, counted.stderr
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", str(repo))
    git(repo, "commit", "-q", "--allow-empty", "-m", "one")
    assert (
        benchmarks("history", "record", str(counts_file), "--repo", str(repo), cwd=tmp_path).returncode == 0
    )
    (_, subject, note) = history.load(repo, "HEAD")[0]
    assert subject == "one"
    assert 100 < note["counts"]["test_fibonacci_month[compiled]"]["instructions"] < 100_000
