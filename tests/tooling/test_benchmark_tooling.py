"""The benchmark tooling: stable ids, Bencher output valid offline, counts by fastfun-gate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pytest_benchmark", reason="the 'bench' extra is not installed")
jsonschema = pytest.importorskip("jsonschema", reason="the 'bench' extra is not installed")

from benchmarks import bmf, goals, instructions, results  # noqa: E402
from benchmarks.workloads import BY_FULLNAME, BY_NAME, CASES  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "benchmarks" / "bmf.schema.json").read_text())


def test_every_case_has_a_unique_stable_name_naming_workload_version_and_implementation() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))
    for expected in [
        "test_fibonacci_month[compiled]",
        "test_fibonacci_month[naive]",
        "test_days_in_month[v3-memoized]",
        "test_days_in_month[v1-limit]",
        "test_month_batch[compiled]",
        "test_fibonacci_big[1e6-pure]",
    ]:
        assert expected in names


def test_every_goal_compares_cases_that_exist() -> None:
    names = {case.name for case in CASES}
    for goal in goals.goals():
        assert {goal.numerator, goal.denominator} <= names, goal.text


def tool(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """One of the benchmark command lines, run from the repository."""
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def results_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real, short pytest-benchmark run of a few cases."""
    out = tmp_path_factory.mktemp("bench") / "results.json"
    run = results.time_suite(
        out,
        "-k",
        "fibonacci_month and not naive",
        "--benchmark-max-time=0.01",
        "--benchmark-min-rounds=3",
        capture=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return out


def test_the_results_file_has_what_bencher_python_pytest_reads(results_json: Path) -> None:
    data = json.loads(results_json.read_text())
    assert {"machine_info", "commit_info", "benchmarks"} <= data.keys()
    fullnames = {bench["fullname"] for bench in data["benchmarks"]}
    assert fullnames == {
        "benchmarks/test_benchmarks.py::test_fibonacci_month[memoized]",
        "benchmarks/test_benchmarks.py::test_fibonacci_month[pure]",
        "benchmarks/test_benchmarks.py::test_fibonacci_month[compiled]",
        "benchmarks/test_benchmarks.py::test_fibonacci_month[limit]",
    }
    assert fullnames <= {case.fullname for case in CASES}
    for bench in data["benchmarks"]:
        assert {"mean", "stddev", "median", "iqr"} <= bench["stats"].keys()


def test_bmf_from_a_real_run_is_valid_against_the_bencher_schema(results_json: Path, tmp_path: Path) -> None:
    out = tmp_path / "bmf.json"
    run = tool("benchmarks", "bmf", str(results_json), "-o", str(out))
    assert run.returncode == 0, run.stderr
    report = json.loads(out.read_text(), parse_constant=lambda token: pytest.fail(f"{token} is not JSON"))
    jsonschema.validate(report, SCHEMA)
    assert list(report) == [bench["fullname"] for bench in json.loads(results_json.read_text())["benchmarks"]]
    compiled = report["benchmarks/test_benchmarks.py::test_fibonacci_month[compiled]"]
    assert set(compiled) == {"latency", "throughput"}
    latency = compiled["latency"]
    assert latency["lower_value"] <= latency["value"] <= latency["upper_value"]
    assert compiled["throughput"]["value"] == pytest.approx(1e9 / latency["value"])


def test_bmf_carries_instruction_counts_and_stays_valid(results_json: Path) -> None:
    compiled, pure = (BY_NAME[f"test_fibonacci_month[{impl}]"].fullname for impl in ("compiled", "pure"))
    report = bmf.to_bmf(results.load(results_json), {compiled: 1968.0})
    jsonschema.validate(report, SCHEMA)
    assert report[compiled]["instructions"] == {"value": 1968.0}
    assert "instructions" not in report[pure]


def test_the_schema_rejects_what_bencher_would(results_json: Path) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"bench": {"latency": {"lower_value": 1.0}}}, SCHEMA)


def test_bmf_reports_a_file_that_is_not_pytest_benchmark_json(tmp_path: Path) -> None:
    bogus = tmp_path / "x.json"
    bogus.write_text("{}")
    run = tool("benchmarks", "bmf", str(bogus))
    assert run.returncode == 2
    assert run.stderr.startswith("bmf: ") and "Traceback" not in run.stderr


def test_the_plot_is_a_png(results_json: Path, tmp_path: Path) -> None:
    out = tmp_path / "plot.png"
    run = tool("benchmarks", "plot", str(results_json), "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(instructions.missing() is not None, reason=str(instructions.missing()))
def test_bmf_counts_the_instructions_of_the_benchmarks_of_a_run_with_fastfun_gate(
    results_json: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bmf.json"
    run = tool("benchmarks", "bmf", str(results_json), "--instructions", "-o", str(out))
    assert run.returncode == 0, run.stderr
    report = json.loads(out.read_text())
    jsonschema.validate(report, SCHEMA)
    counted = {name: figures["instructions"]["value"] for name, figures in report.items()}
    assert set(counted) == {bench["fullname"] for bench in json.loads(results_json.read_text())["benchmarks"]}
    month = {BY_FULLNAME[name].implementation: n for name, n in counted.items()}
    # Four Fibonacci days a call: a few thousand instructions, the compiled core within a few
    # percent of the limit (operator.index), the memoized talk's version far above both.
    assert 1_000 < month["limit"] <= month["compiled"] < month["pure"] < month["memoized"]
    assert month["compiled"] < 1.2 * month["limit"]
