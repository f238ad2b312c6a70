"""The gate, end to end on real builds: it passes an unchanged revision and blocks the
talk's regression and a 5% slowdown of the compiled core."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CASES = "fibonacci_month[compiled],days_in_month[v3-compiled]"

pytestmark = [
    pytest.mark.repository,
    pytest.mark.skipif(not (ROOT / ".git").exists(), reason="the gate needs a git checkout"),
    pytest.mark.skipif(subprocess.run(["which", "valgrind"], capture_output=True).returncode != 0,
                       reason="valgrind is not installed"),
]


def clone_with_change(tmp_path: Path, change: dict[str, str], message: str) -> Path:
    """A clone of this repository's HEAD with one more commit that edits _core.pyx."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
    core = repo / "src" / "fastfun" / "_core.pyx"
    text = core.read_text()
    for old, new in change.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    core.write_text(text)
    git = ["git", "-C", str(repo), "-c", "user.name=gate test", "-c", "user.email=gate@test.invalid"]
    subprocess.run([*git, "commit", "-q", "-am", message], check=True)
    return repo


def gate(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASTFUN_NO_")}
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.gate", "--repo", str(repo), "--cases", CASES, *args],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=1200,
    )


def ratios(output: str) -> dict[str, str]:
    rows = re.findall(r"^(test_\S+)\s+\S+\s+\S+\s+(\S+)\s+\S+\s+(.*)$", output, re.MULTILINE)
    return {name: ratio for name, ratio, _ in rows}


def test_an_unchanged_revision_passes_with_every_ratio_exactly_one() -> None:
    result = gate(ROOT, "--base", "HEAD", "--head", "HEAD")
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    found = ratios(result.stdout)
    assert set(found) == {f"test_{case}" for case in CASES.split(",")}
    assert set(found.values()) == {"1.000"}
    assert "gate: no regression" in result.stdout


SPIN = {
    "cdef inline bint _small_count(": (
        'cdef extern from *:\n'
        '    """\n'
        '    static void fastfun_spin(int n) { volatile int s = 0; for (int i = 0; i < n; i++) s += i; }\n'
        '    """\n'
        '    void fastfun_spin(int n)\n\n\n'
        'cdef inline bint _small_count('
    ),
    "    return _notify(n)\n": "    fastfun_spin(6)\n    return _notify(n)\n",
}


def test_a_five_percent_slowdown_of_the_compiled_core_is_blocked(tmp_path: Path) -> None:
    repo = clone_with_change(tmp_path, SPIN, "Spin a little in fun_notification")
    result = gate(repo, "--base", "HEAD~1")
    print(result.stdout)
    assert result.returncode == 1, result.stdout + result.stderr
    ratio = float(ratios(result.stdout)["test_days_in_month[v3-compiled]"])
    assert 1.03 < ratio < 1.10
    assert "gate: REGRESSION in 1 case(s)" in result.stdout


NAIVE_V3 = {
    "def fun_notification(n, /):": (
        "cdef object _naive_fibonacci(object n):\n"
        "    return n if n <= 1 else _naive_fibonacci(n - 1) + _naive_fibonacci(n - 2)\n\n\n"
        "def fun_notification(n, /):"
    ),
    "    return _notify(n)\n": (
        "    n = _as_count(n, 'fun_notification')\n"
        "    return _naive_fibonacci(n) if n % 7 == 0 else _FIZZBUZZ[n % 15]\n"
    ),
}


def test_the_talks_regression_is_blocked_and_an_accepted_one_passes(tmp_path: Path) -> None:
    repo = clone_with_change(tmp_path, NAIVE_V3, "v3: naive recursive Fibonacci")
    result = gate(repo, "--base", "HEAD~1")
    print(result.stdout)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "REGRESSION (instructions)" in result.stdout
    assert float(ratios(result.stdout)["test_days_in_month[v3-compiled]"]) > 100

    git = ["git", "-C", str(repo), "-c", "user.name=gate test", "-c", "user.email=gate@test.invalid"]
    subprocess.run([*git, "commit", "-q", "--amend", "-m",
                    "v3: naive recursive Fibonacci\n\nPerformance-Accepted: the talk's demo"], check=True)
    accepted = gate(repo, "--base", "HEAD~1")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "Performance-Accepted: the talk's demo" in accepted.stdout


def test_an_unknown_revision_cannot_be_decided() -> None:
    result = gate(ROOT, "--base", "no-such-revision")
    assert result.returncode == 2
    assert result.stderr.startswith("gate: could not decide: ")
    assert "Traceback" not in result.stderr
