"""Result files from the wild through ``python -m benchmarks bmf`` and ``plot``: each is
converted faithfully (strict JSON, valid for Bencher, one entry per benchmark) or refused in
one line with exit status 2, through the one reader both commands share."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pytest_benchmark", reason="the 'bench' extra is not installed")
jsonschema = pytest.importorskip("jsonschema", reason="the 'bench' extra is not installed")

from benchmarks import bmf  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
WILD = Path(__file__).with_name("data") / "wild"
BMF_SCHEMA = json.loads((ROOT / "benchmarks" / "bmf.schema.json").read_text())
PNG = b"\x89PNG\r\n\x1a\n"

# What each file from the wild must give: None for a conversion, or a phrase of the one line
# that refuses it.
BMF_OUTCOME = {
    "dup_name_across_modules.json": None,
    "dup_name_across_groups.json": None,
    "empty_benchmarks.json": "no benchmarks in it",
    "extra_info_null.json": None,
    "long_name.json": "is 1,124 bytes of UTF-8; Bencher stores names up to 1,024 bytes",
    "mean_zero.json": None,
    "nan_inf_stats.json": "stats.stddev is nan",
}
PLOT_OUTCOME = {
    **BMF_OUTCOME,
    "long_name.json": None,  # a picture has no name limit: the label is shortened
    "mean_zero.json": "its median is 0 s, and a log scale shows only times above 0",
}


def benchmarks_command(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m benchmarks ...`` as a maintainer runs it, from the repository."""
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def strict_json(text: str) -> Any:
    """``text`` as JSON, refusing NaN and Infinity, which Python writes but JSON has not."""

    def refuse(token: str) -> None:
        raise ValueError(f"{token} is not JSON")

    return json.loads(text, parse_constant=refuse)


def assert_one_line_refusal(run: subprocess.CompletedProcess[str], command: str, phrase: str) -> None:
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.startswith(f"{command}: "), run.stderr
    assert phrase in run.stderr
    assert run.stdout == ""


def through(command: str, name: str, out: Path) -> subprocess.CompletedProcess[str] | None:
    """``command`` run on the wild file ``name``: its run when it converts, None when it is
    refused as the outcome tables say (in one line, writing nothing)."""
    run = benchmarks_command(command, str(WILD / name), "-o", str(out))
    refusal = {"bmf": BMF_OUTCOME, "plot": PLOT_OUTCOME}[command][name]
    if refusal is not None:
        assert_one_line_refusal(run, command, refusal)
        assert not out.exists()
        return None
    assert run.returncode == 0, run.stderr
    return run


def test_every_file_from_the_wild_is_a_case_here() -> None:
    assert sorted(p.name for p in WILD.glob("*.json")) == sorted(BMF_OUTCOME)


@pytest.mark.parametrize("name", sorted(BMF_OUTCOME))
def test_bmf_converts_a_wild_file_faithfully_or_refuses_it_in_one_line(name: str, tmp_path: Path) -> None:
    out = tmp_path / "bmf.json"
    run = through("bmf", name, out)
    if run is None:
        return
    given = json.loads((WILD / name).read_text())["benchmarks"]
    assert run.stdout == f"bmf: wrote {len(given)} benchmarks to {out}\n"
    report = strict_json(out.read_text())
    jsonschema.validate(report, BMF_SCHEMA)
    # One entry per benchmark, named as Bencher's python_pytest adapter names it.
    assert list(report) == [bench["fullname"] for bench in given]
    for bench in given:
        latency = report[bench["fullname"]]["latency"]
        mean, stddev = bench["stats"]["mean"], bench["stats"]["stddev"]
        assert latency["value"] == pytest.approx(mean * 1e9)
        assert latency["upper_value"] == pytest.approx((mean + stddev) * 1e9)


def test_two_tests_of_one_name_in_two_modules_stay_two_benchmarks_each_with_its_own_time(
    tmp_path: Path,
) -> None:
    out = tmp_path / "bmf.json"
    assert (
        benchmarks_command("bmf", str(WILD / "dup_name_across_modules.json"), "-o", str(out)).returncode == 0
    )
    report = json.loads(out.read_text())
    assert report["pkg_a/test_speed.py::test_parse"]["latency"]["value"] == pytest.approx(200.0)
    assert report["pkg_b/test_speed.py::test_parse"]["latency"]["value"] == pytest.approx(30_000.0)


def test_a_mean_of_0_keeps_its_latency_and_has_no_throughput(tmp_path: Path) -> None:
    out = tmp_path / "bmf.json"
    assert benchmarks_command("bmf", str(WILD / "mean_zero.json"), "-o", str(out)).returncode == 0
    assert json.loads(out.read_text()) == {
        "test_load_memory": {"latency": {"value": 0.0, "lower_value": 0.0, "upper_value": 0.0}}
    }


@pytest.mark.parametrize("name", sorted(PLOT_OUTCOME))
def test_plot_draws_a_wild_file_or_refuses_it_in_one_line(name: str, tmp_path: Path) -> None:
    out = tmp_path / "plot.png"
    if through("plot", name, out) is not None:
        assert out.read_bytes()[:8] == PNG


def test_a_plot_shows_two_benchmarks_of_one_name_as_two_labelled_bars() -> None:
    from benchmarks import plot, results

    panels = plot.panels(results.load(WILD / "dup_name_across_modules.json"))
    assert panels == {
        "(no group)": [("pkg_a/test_speed.py::test_parse", 2e-07), ("pkg_b/test_speed.py::test_parse", 3e-05)]
    }


def pytest_benchmark_file(tmp_path: Path, *benchmarks: dict[str, Any], text: str | None = None) -> Path:
    """A results file holding ``benchmarks`` (or exactly ``text``)."""
    path = tmp_path / "results.json"
    if text is None:
        text = json.dumps({"machine_info": {}, "commit_info": {}, "benchmarks": list(benchmarks)})
    path.write_text(text)
    return path


def bench(fullname: str = "t.py::test_a", **stats: Any) -> dict[str, Any]:
    """One benchmark as pytest-benchmark writes it, its statistics overridden by ``stats``."""
    return {
        "group": None,
        "name": fullname.rpartition("::")[2],
        "fullname": fullname,
        "extra_info": {},
        "stats": {"mean": 1e-6, "stddev": 1e-7, "median": 1e-6, "iqr": 1e-7, **stats},
    }


@pytest.mark.parametrize(
    "benchmarks, text, phrase",
    [
        ((), "", "not JSON: Expecting value: line 1 column 1"),
        ((), "[]", "not pytest-benchmark JSON as --benchmark-json writes it: $: [] is not of type 'object'"),
        ((), '{"benchmarks": []}', "$: 'machine_info' is a required property"),
        ((), '{"machine_info": {}, "commit_info": {}, "benchmarks": {}}', "$.benchmarks: {} is not of type"),
        (({**bench(), "fullname": ""},), None, "$.benchmarks[0].fullname: '' should be non-empty"),
        (({k: v for k, v in bench().items() if k != "fullname"},), None, "'fullname' is a required property"),
        ((bench(mean="fast"),), None, "$.benchmarks[0].stats.mean: 'fast' is not of type 'number'"),
        ((bench(iqr=-1),), None, "$.benchmarks[0].stats.iqr: -1 is less than the minimum of 0"),
        ((bench(median=10**400),), None, "stats.median is inf"),
        ((bench(), bench()), None, "$.benchmarks[1]: a second benchmark named 't.py::test_a' (fullname)"),
        ((), '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ],
)
def test_bmf_and_plot_refuse_a_file_of_another_shape_with_the_same_line(
    tmp_path: Path, benchmarks: tuple[dict[str, Any], ...], text: str | None, phrase: str
) -> None:
    path = pytest_benchmark_file(tmp_path, *benchmarks, text=text)
    lines = []
    for command in ("bmf", "plot"):
        run = benchmarks_command(command, str(path), "-o", str(tmp_path / "out"))
        assert_one_line_refusal(run, command, phrase)
        lines.append(run.stderr.removeprefix(f"{command}: "))
    assert lines[0] == lines[1]  # one reader


def test_a_file_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    run = benchmarks_command("bmf", str(tmp_path / "missing.json"))
    assert_one_line_refusal(run, "bmf", "cannot read it: No such file or directory")
    (tmp_path / "latin1.json").write_bytes(b'{"machine_info": "\xe9"}')
    run = benchmarks_command("plot", str(tmp_path / "latin1.json"))
    assert_one_line_refusal(run, "plot", "not UTF-8 text")


def test_an_output_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    results_file = str(WILD / "extra_info_null.json")
    run = benchmarks_command("bmf", results_file, "-o", str(tmp_path / "no" / "bmf.json"))
    assert_one_line_refusal(run, "bmf", "cannot write")
    run = benchmarks_command("plot", results_file, "-o", str(tmp_path / "no" / "plot.png"))
    assert_one_line_refusal(run, "plot", "cannot write")


PREFIX = "t.py::test_"


@pytest.mark.parametrize(
    "fullname, stored",
    [
        (PREFIX + "x" * (1024 - len(PREFIX)), True),  # 1,024 bytes: the most Bencher stores
        (PREFIX + "x" * (1025 - len(PREFIX)), False),
        # 520 characters, within JSON Schema's maxLength, but 1,029 bytes: Bencher counts bytes.
        (PREFIX + "é" * (520 - len(PREFIX)), False),
    ],
)
def test_bmf_refuses_a_name_over_bencher_s_limit_counted_in_utf8_bytes(
    tmp_path: Path, fullname: str, stored: bool
) -> None:
    out = tmp_path / "bmf.json"
    run = benchmarks_command("bmf", str(pytest_benchmark_file(tmp_path, bench(fullname))), "-o", str(out))
    if stored:
        assert run.returncode == 0, run.stderr
        assert list(json.loads(out.read_text())) == [fullname]
    else:
        assert_one_line_refusal(run, "bmf", "bytes of UTF-8; Bencher stores names up to 1,024 bytes")


def test_bmf_refuses_a_figure_beyond_a_float_rather_than_write_infinity() -> None:
    from benchmarks import results

    tiny = results.parse(
        json.loads(json.dumps({"machine_info": {}, "commit_info": {}, "benchmarks": [bench()]}))
    )
    tiny = [results.Benchmark(**{**vars(tiny[0]), "mean": 5e-324, "stddev": 0.0})]
    with pytest.raises(results.Refused, match="its throughput is beyond a finite float"):
        bmf.to_bmf(tiny)


def test_bmf_output_is_checked_against_the_bencher_schema_before_it_is_written() -> None:
    from benchmarks import results

    with pytest.raises(results.Refused, match=r"not valid BMF: \$\.t: {} should be non-empty"):
        bmf.dumps({"t": {}})


def test_bmf_never_writes_nan_or_infinity_as_json_has_neither() -> None:
    from benchmarks import results

    with pytest.raises(results.Refused, match="not valid BMF: Out of range float values"):
        bmf.dumps({"t": {"latency": {"value": float("nan")}}})


def test_a_group_is_drawn_whatever_value_the_test_gave_it(tmp_path: Path) -> None:
    from benchmarks import plot, results

    path = pytest_benchmark_file(tmp_path, {**bench("t.py::test_a"), "group": 5}, bench("t.py::test_b"))
    assert plot.panels(results.load(path)) == {"5": [("test_a", 1e-6)], "(no group)": [("test_b", 1e-6)]}
    run = benchmarks_command("plot", str(path), "-o", str(tmp_path / "plot.png"))
    assert run.returncode == 0, run.stderr
