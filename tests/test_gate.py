"""The gate, end to end on real builds, and its rules on their own.

End to end: an unchanged revision passes with every ratio exactly 1.000; the talk's
regression, a 2% slowdown at a 1% threshold and a removed case are blocked (exit 1); a head
whose compiled core cannot be imported cannot be decided (exit 2); an accepted slowdown
passes; a head cannot loosen the rules that judge it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import counting
from benchmarks.gate import __main__ as gate_main
from benchmarks.gate import judge
from benchmarks.gate import run as gate_run

ROOT = Path(__file__).resolve().parents[1]
CASES = "fibonacci_month[compiled],days_in_month[v3-compiled]"
HAS_GIT = (ROOT / ".git").exists()
HAS_VALGRIND = subprocess.run(["which", "valgrind"], capture_output=True).returncode == 0

pytestmark = pytest.mark.repository
end_to_end = pytest.mark.skipif(
    not (HAS_GIT and HAS_VALGRIND), reason="the gate needs a git checkout and valgrind"
)


def clone_with_change(tmp_path: Path, changes: dict[str, dict[str, str]], message: str) -> Path:
    """A clone of this repository's HEAD with one more commit, editing files by replacement."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
    for path, edits in changes.items():
        file = repo / path
        text = file.read_text()
        for old, new in edits.items():
            assert old in text, old
            text = text.replace(old, new, 1)
        file.write_text(text)
    commit(repo, message, "-a")
    return repo


def commit(repo: Path, message: str, *args: str) -> None:
    subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=gate test",
            "-c",
            "user.email=gate@test.invalid",
            "commit",
            "-q",
            *args,
            "-m",
            message,
        ],
        check=True,
    )


def gate(repo: Path, *args: str, cases: str = CASES) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASTFUN_")}
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.gate", "--repo", str(repo), "--cases", cases, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    print(result.stdout, result.stderr)
    return result


def ratios(output: str) -> dict[str, str]:
    rows = re.findall(r"^(test_\S+)\s+\S+\s+\S+\s+(\S+)\s+\S+\s+(.*)$", output, re.MULTILINE)
    return {name: ratio for name, ratio, _ in rows}


@end_to_end
def test_an_unchanged_package_is_not_measured_and_passes() -> None:
    result = gate(ROOT, "--base", "HEAD", "--head", "HEAD")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gate: no regression possible: base and head build the same package" in result.stdout


@end_to_end
def test_an_unchanged_revision_counted_anyway_reads_exactly_one_everywhere() -> None:
    result = gate(ROOT, "--base", "HEAD", "--head", "HEAD", "--measure-identical")
    assert result.returncode == 0, result.stdout + result.stderr
    found = ratios(result.stdout)
    assert set(found) == {f"test_{case}" for case in CASES.split(",")}
    assert set(found.values()) == {"1.000"}
    assert "gate: no regression" in result.stdout


SPIN = {
    "src/fastfun/_core.pyx": {
        "cdef inline bint _small_count(": (
            "cdef extern from *:\n"
            '    """\n'
            "    static void fastfun_spin(int n)\n"
            "    { volatile int s = 0; for (int i = 0; i < n; i++) s += i; }\n"
            '    """\n'
            "    void fastfun_spin(int n)\n\n\n"
            "cdef inline bint _small_count("
        ),
        "    return _notify(n)\n": "    fastfun_spin(3)\n    return _notify(n)\n",
    },
}


@end_to_end
def test_a_two_percent_slowdown_of_one_compiled_function_is_blocked_at_one_percent(tmp_path: Path) -> None:
    repo = clone_with_change(tmp_path, SPIN, "Spin a little in fun_notification")
    result = gate(repo, "--base", "HEAD~1", "--threshold", "0.01")
    assert result.returncode == 1, result.stdout + result.stderr
    found = ratios(result.stdout)
    assert 1.01 < float(found["test_days_in_month[v3-compiled]"]) < 1.04
    assert found["test_fibonacci_month[compiled]"] == "1.000"  # fibonacci() is untouched
    assert "gate: REGRESSION in 1 case(s): test_days_in_month[v3-compiled]" in result.stdout


NAIVE_V3 = {
    "src/fastfun/_core.pyx": {
        "def fun_notification(n, /):": (
            "cdef object _naive_fibonacci(object n):\n"
            "    return n if n <= 1 else _naive_fibonacci(n - 1) + _naive_fibonacci(n - 2)\n\n\n"
            "def fun_notification(n, /):"
        ),
        "    return _notify(n)\n": (
            "    n = _as_count(n, 'fun_notification')\n"
            "    return _naive_fibonacci(n) if n % 7 == 0 else _FIZZBUZZ[n % 15]\n"
        ),
    },
    # ... and the same pull request tries to loosen the gate that judges it.
    "benchmarks/gate/rules.json": {
        '"threshold": 0.03': '"threshold": 1000000',
        '"hang": 20.0': '"hang": 1e9',
    },
}


@end_to_end
def test_the_talks_regression_is_blocked_by_the_bases_rules_and_passes_once_accepted(tmp_path: Path) -> None:
    repo = clone_with_change(tmp_path, NAIVE_V3, "v3: naive recursive Fibonacci")
    result = gate(repo, "--base", "HEAD~1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the head changes the benchmark tooling (benchmarks/gate/rules.json)" in result.stdout
    assert "rules from benchmarks/gate/rules.json of the base: +3.0%" in result.stdout
    assert "REGRESSION (over 20x its base)" in result.stdout
    assert ratios(result.stdout)["test_fibonacci_month[compiled]"] == "1.000"

    # A stopped head has no ratio for a scoped acceptance to check: only the plain form covers it.
    commit(
        repo,
        "v3: naive recursive Fibonacci\n\n"
        "Performance-Accepted: *days_in_month[v3-compiled] <= 1000000: not enough",
        "--amend",
    )
    assert gate(repo, "--base", "HEAD~1").returncode == 1
    commit(repo, "v3: naive recursive Fibonacci\n\nPerformance-Accepted: the talk's demo", "--amend")
    accepted = gate(repo, "--base", "HEAD~1")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "accepted: the talk's demo" in accepted.stdout
    assert "gate: Performance-Accepted for every case: the talk's demo" in accepted.stdout


REMOVED = {
    "benchmarks/workloads.py": {
        '    yield Case("month_batch", None, "compiled", lambda: batch(_compiled().fun_notifications, DAYS))'
        "\n": ""
    }
}


@end_to_end
def test_a_case_removed_by_the_head_is_a_row_of_its_own_and_fails(tmp_path: Path) -> None:
    repo = clone_with_change(tmp_path, REMOVED, "Drop the batch benchmark")
    result = gate(repo, "--base", "HEAD~1", cases="month_batch")
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(
        r"^test_month_batch\[compiled\] .* REGRESSION \(removed: the head does not define it\)$",
        result.stdout,
        re.MULTILINE,
    )


BROKEN_IMPORT = {
    "src/fastfun/_core.pyx": {
        "\nimport_datetime()\n": '\nraise ImportError("broken on purpose")\nimport_datetime()\n'
    }
}


@end_to_end
def test_a_head_whose_compiled_core_fails_to_import_cannot_be_decided(tmp_path: Path) -> None:
    repo = clone_with_change(tmp_path, BROKEN_IMPORT, "Break the compiled core's import")
    result = gate(repo, "--base", "HEAD~1")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("gate: could not decide: the head cannot run test_")
    assert "broken on purpose" in result.stderr
    assert "Traceback" not in result.stderr


@end_to_end
def test_an_unknown_revision_cannot_be_decided() -> None:
    result = gate(ROOT, "--base", "no-such-revision")
    assert result.returncode == 2
    assert result.stderr.startswith("gate: could not decide: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_any_unexpected_error_cannot_be_decided(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(options: object) -> int:
        raise KeyError("a bug in the gate")

    monkeypatch.setattr(counting, "valgrind_available", lambda: True)
    monkeypatch.setattr(gate_run, "run", explode)
    assert gate_main.main(["--base", "HEAD"]) == 2
    assert (
        capsys.readouterr().err == "gate: could not decide: internal error: KeyError: 'a bug in the gate'\n"
    )


@pytest.mark.parametrize(
    ("value", "name", "ratio", "covered"),
    [
        ("the talk's demo", "test_anything[compiled]", 1e9, True),
        (
            "test_days_in_month[v3-compiled] <= 1.5: slower on purpose",
            "test_days_in_month[v3-compiled]",
            1.4,
            True,
        ),
        (
            "test_days_in_month[v3-compiled] <= 1.5: slower on purpose",
            "test_days_in_month[v3-compiled]",
            1.6,
            False,
        ),
        (
            "test_days_in_month[v3-compiled] <= 1.5: slower on purpose",
            "test_days_in_month[v3-pure]",
            1.1,
            False,
        ),
        ("*[v3-*] <= 2x: a reason", "test_days_in_month[v3-pure]", 2.0, True),
        ("*[v3-*] <= 2x: a reason", "test_days_in_month[v2-pure]", 1.1, False),
        ("test_x[?] <= 3: removed on purpose", "test_x[a]", None, True),
    ],
)
def test_an_acceptance_covers_only_the_cases_and_ratios_it_names(
    value: str, name: str, ratio: float, covered: bool
) -> None:
    assert judge.parse_acceptance("0" * 40, value).covers(name, ratio) is covered


@pytest.mark.skipif(not HAS_GIT, reason="needs a git checkout")
def test_acceptances_are_read_from_every_commit_of_the_range(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    commit(repo, "base", "--allow-empty")
    commit(repo, "first\n\nPerformance-Accepted: *pure* <= 1.2: a reason", "--allow-empty")
    commit(repo, "second\n\nPerformance-Accepted: everything, on purpose", "--allow-empty")
    commit(repo, "third, accepting nothing", "--allow-empty")
    found = judge.acceptances(repo, "HEAD~3", "HEAD")
    assert {(a.glob, a.max_ratio, a.reason) for a in found} == {
        ("*pure*", 1.2, "a reason"),
        (None, None, "everything, on purpose"),
    }
