"""End to end: ``fastfun-gate compare`` on the fixture projects, built and counted for real.

Every run writes its JSON report, which must hold to the shipped schema."""

from __future__ import annotations

import contextlib
import io

import jsonschema
import pytest

import projects
from conftest import MEASURE, runner
from fastfun_gate import report

SCHEMA = report.schema()


def valid(result):  # type: ignore[no-untyped-def]
    assert result.report is not None, result.err
    jsonschema.validate(result.report, SCHEMA)
    return result


def compare(gate, repo, base, head, *more, timed=False):  # type: ignore[no-untyped-def]
    """base -> head; ``timed``: with the project's tripwire, else off (the counts decide)."""
    off = () if timed else ("--tripwire", "off")
    return valid(gate("compare", "--repo", str(repo), "--base", base, "--head", head, *off, *more))


def test_a_comment_only_change_reads_exactly_1_for_every_benchmark_and_passes(gate, pure):
    repo, commits = pure
    result = compare(gate, repo, commits["base"], commits["aa"], timed=True)
    assert result.status == 0, result.err
    assert all(row["time"]["ratio"] < 1.5 for row in result.report["benchmarks"])  # the tripwire ran
    rows = result.report["benchmarks"]
    assert [row["name"] for row in rows] == [
        "tests/test_bench.py::test_total",
        "tests/test_bench.py::test_words[50]",
    ]
    assert all(row["ratio"] == 1.0 and row["base"] == row["head"] and row["status"] == "ok" for row in rows)
    assert result.report["verdict"] == "pass"


@pytest.fixture(scope="module")
def slow_run(pure, tmp_path_factory):  # type: ignore[no-untyped-def]
    """base -> slow, run once for the tests that read it."""
    repo, commits = pure
    out, err = io.StringIO(), io.StringIO()
    run = runner(tmp_path_factory.mktemp("slow"), lambda: (out.getvalue(), err.getvalue()))
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        return compare(run, repo, commits["base"], commits["slow"])


def test_a_slowdown_is_a_regression_naming_the_benchmark_exit_1(slow_run):
    result = slow_run
    assert result.status == 1, result.err
    assert result.row("test_total")["status"] == "regression"
    assert result.row("test_total")["ratio"] > 1.5
    assert result.row("test_words[50]")["status"] == "ok"
    assert "tests/test_bench.py::test_total" in result.out.splitlines()[-1]
    assert result.row("test_total")["functions"], "a regression says where the instructions went"


def test_a_trailer_in_the_range_accepts_the_slowdown(gate, pure):
    repo, commits = pure
    result = compare(gate, repo, commits["base"], commits["accepted"])
    assert result.status == 0, result.err
    assert result.row("test_total")["status"] == "accepted"
    assert "the loop is needed" in result.row("test_total")["accepted"]


def test_a_trailer_up_to_a_lower_ratio_does_not_accept_it(gate, pure):
    repo, commits = pure
    result = compare(gate, repo, commits["base"], commits["too_little"])
    assert result.status == 1, result.err
    assert result.row("test_total")["status"] == "regression"
    assert result.report["accepted"] and "up to 1.1x" in result.report["accepted"][0]


def test_the_settings_come_from_the_base_so_a_head_cannot_loosen_its_own_check(gate, pure):
    repo, commits = pure
    result = compare(gate, repo, commits["base"], commits["loosened"])
    assert result.status == 1, result.err
    assert result.report["threshold"] == 0.03
    # and the other way round: a base with the loose threshold lets the slowdown pass
    assert compare(gate, repo, commits["loosened"], commits["slow"]).status == 0


def test_a_flag_replaces_the_key_of_the_base_and_select_takes_node_ids_literally(gate, pure):
    repo, commits = pure
    result = compare(
        gate,
        repo,
        commits["base"],
        commits["slow"],
        "--threshold-for",
        "*::test_total=5",
        "--select",
        "*::test_total",
        "--select",
        "tests/test_bench.py::test_words[50]",
    )
    assert result.status == 0, result.err
    assert result.row("test_total")["threshold"] == 5.0
    assert [row["name"] for row in result.report["benchmarks"]][1] == "tests/test_bench.py::test_words[50]"
    only = compare(gate, repo, commits["base"], commits["slow"], "--select", "*::test_words[[]50]")
    assert only.report["verdict"] == "undecided"  # a bracket is literal: no benchmark is named so
    assert (
        only.report["reason"]
        == "no benchmark matches select *::test_words[[]50] (node ids from the project's root)"
    )


def test_shards_merged_give_the_full_run(gate, pure, tmp_path, slow_run):
    repo, commits = pure
    full = slow_run
    paths = []
    for k in (1, 2):
        path = tmp_path / f"shard-{k}.json"
        shard = compare(
            gate,
            repo,
            commits["base"],
            commits["slow"],
            "--shard",
            f"{k}/2",
            "--json",
            str(path),
            "--out",
            str(tmp_path / f"o{k}"),
        )
        assert shard.report["shard"] == {"index": k, "count": 2}
        paths.append(str(path))
    merged = valid(gate("merge", *paths, "--json", str(tmp_path / "report.json")))
    assert merged.status == full.status == 1
    key = lambda row: row["name"]  # noqa: E731
    strip = lambda rows: sorted(({k: v for k, v in r.items()} for r in rows), key=key)  # noqa: E731
    assert strip(merged.report["benchmarks"]) == strip(full.report["benchmarks"])
    assert merged.report["verdict"] == full.report["verdict"]


def test_a_head_that_does_not_build_is_undecided_quoting_the_compiler(gate, compiled):
    repo, commits = compiled
    result = compare(gate, repo, commits["base"], commits["broken"])
    assert result.status == 2
    assert result.report["verdict"] == "undecided"
    last = result.err.strip().splitlines()[-1]
    assert "failed" in last and "_speed.c" in last, last


def test_a_compiled_project_a_comment_in_its_c_file_reads_1(gate, compiled):
    repo, commits = compiled
    result = compare(gate, repo, commits["base"], commits["aa"])
    assert result.status == 0, result.err
    assert [row["ratio"] for row in result.report["benchmarks"]] == [1.0, 1.0]


@pytest.mark.skipif(
    MEASURE is None, reason="the fake measure counts Python events only: C is invisible to it"
)
def test_a_compiled_project_slowdown_in_c_is_a_regression(gate, compiled):
    repo, commits = compiled
    result = compare(gate, repo, commits["base"], commits["slow"])
    assert result.status == 1, result.err
    assert result.row("test_spin")["status"] == "regression"


def test_uncommitted_changes_are_named_in_one_line_and_worktree_judges_them(gate, pure):
    repo, commits = pure
    source = repo / "purepkg" / "__init__.py"
    projects.git(repo, "checkout", "-q", commits["base"])
    try:
        source.write_text(projects.PURE_SLOW)  # slow's tree: one build with the tests of slow
        plain = compare(gate, repo, commits["base"], "HEAD")
        assert plain.status == 0
        assert "note: uncommitted changes (purepkg/__init__.py) are not part of the head" in plain.err
        judged = valid(
            gate("compare", "--repo", str(repo), "--base", commits["base"], "--worktree", "--tripwire", "off")
        )
        assert judged.status == 1, judged.err
        assert judged.report["head"]["rev"] == "working tree"
        assert judged.row("test_total")["status"] == "regression"
    finally:
        projects.git(repo, "checkout", "-q", "--", ".")
        projects.git(repo, "checkout", "-q", "main")


def test_the_constraints_reach_the_wheel_s_build_isolation(gate, compiled):
    repo, commits = compiled
    result = compare(gate, repo, commits["base"], commits["unbuildable_pin"])
    assert result.status == 2
    assert "setuptools" in result.err.strip().splitlines()[-1]


def test_a_sleep_that_instructions_cannot_see_trips_the_time_tripwire(gate, pure):
    repo, commits = pure
    result = compare(gate, repo, commits["base"], commits["sleepy"], "--threshold", "9", timed=True)
    assert result.status == 1, result.err
    row = result.row("test_total")
    assert (row["status"], row["reasons"]) == ("regression", ["time"])
    assert row["time"]["ratio"] > 10
    assert result.row("test_words[50]")["status"] == "ok"
    again = [line for line in result.err.splitlines() if "timing again" in line]
    assert len(again) == 1 and again[0].endswith(f": {row['name']}"), result.err  # says which


def test_test_requirements_by_group_or_by_with_count_alike_and_a_hang_fails_alone(gate, bare):
    """The bare project has no settings: its pytest and pytest-benchmark come only from a
    flag, and without one the gate says so. A benchmark that never returns fails after
    --timeout, in one line, and the others are still counted."""
    repo, commits = bare
    alone = compare(gate, repo, commits["base"], commits["base"])
    assert alone.status == 2
    assert "pytest is not installed in the measured environment" in alone.err.splitlines()[-1]
    assert alone.out.strip() == alone.err.splitlines()[-1]  # the verdict alone: no empty table
    by_group = compare(gate, repo, commits["base"], commits["base"], "--group", "bench")
    assert by_group.status == 0, by_group.err
    with_ = [item for requirement in projects.BARE_WITH for item in ("--with", requirement)]
    hung = compare(gate, repo, commits["base"], commits["hang"], *with_, "--timeout", "3")
    assert hung.status == 2 and hung.report["benchmarks"], hung.err  # the hang, not the whole run, stopped
    assert by_group.row("test_spin")["base"] == hung.row("test_spin")["base"] == hung.row("test_spin")["head"]
    assert hung.row("test_spin")["status"] == "ok"
    forever = hung.row("test_forever")
    assert forever["status"] == "failed" and forever["head"] is None
    assert "timed out after 3 s" in forever["error"]
    assert "test_forever" in hung.err.splitlines()[-1]


@pytest.mark.skipif(
    MEASURE is None, reason="the fake measure counts Python events only: C is invisible to it"
)
@pytest.mark.parametrize("backend", sorted(projects.BACKENDS))
def test_a_project_built_by_another_backend_is_built_and_judged_alike(gate, backend, tmp_path):  # type: ignore[no-untyped-def]
    """meson-python and scikit-build-core: the head's slower C is a regression, and the Python
    function both builds ship reads exactly 1."""
    repo = tmp_path / "repo"
    commits = projects.backend_project(repo, backend)
    result = compare(gate, repo, commits["base"], commits["slow"], "--requirements", "requirements-bench.txt")
    assert result.status == 1, result.err
    assert result.row("test_spin")["status"] == "regression" and result.row("test_spin")["ratio"] > 1.5
    assert result.row("test_doubled")["ratio"] == 1.0 and result.row("test_doubled")["status"] == "ok"
