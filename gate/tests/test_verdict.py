"""The verdict, computed once, and its views: statuses from counts, acceptance, the exit
status's rules, and the JSON report against its shipped schema. No build here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

from fastfun_gate import compare, report
from fastfun_gate.commands.merge import merge
from fastfun_gate.errors import UsageError


@dataclass
class Counted:
    instructions: int | None
    allocated_blocks: int | None = 10
    allocated_bytes: int | None = 1000
    retained_bytes: int | None = 0
    error: str | None = None


def row(base: Counted | None, head: Counted | None, threshold: float = 0.03) -> compare.Row:
    return compare.row_of("tests/test_x.py::test_y[a]", base, head, threshold)


@pytest.mark.parametrize(
    ("base", "head", "status", "reasons"),
    [
        (Counted(1000), Counted(1000), "ok", []),
        (Counted(1000), Counted(1030), "ok", []),  # at the threshold: not over it
        (Counted(1000), Counted(1031), "regression", ["instructions"]),
        (Counted(1000), Counted(969), "improvement", []),
        (Counted(1000), Counted(1000, retained_bytes=64), "regression", ["retained memory"]),
        (Counted(1000), Counted(1000, allocated_blocks=11), "regression", ["allocations"]),
        (None, Counted(5), "new", []),
        (Counted(5), None, "removed", ["removed"]),
        (Counted(5), Counted(None, error="ZeroDivisionError"), "failed", []),
    ],
)
def test_a_benchmark_s_status_follows_from_its_two_counts(base, head, status, reasons):  # type: ignore[no-untyped-def]
    judged = row(base, head)
    assert (judged.status, judged.reasons) == (status, reasons)


def test_a_regression_is_certain_and_wins_over_a_failed_benchmark() -> None:
    rows = [row(Counted(1), Counted(None, error="boom")), row(Counted(100), Counted(200))]
    assert compare.decide(rows).exit_status == 1
    assert compare.decide(rows[:1]).verdict == "undecided"
    assert compare.decide([row(Counted(100), Counted(100))], ["the head does not build"]).exit_status == 2
    assert compare.decide([]).verdict == "undecided"


def test_a_trailer_accepts_matching_benchmarks_up_to_its_ratio_only() -> None:
    accepted = compare.acceptance("c" * 40, "tests/test_x.py::test_y[*] <= 1.5: a needed check")
    assert accepted is not None and accepted.glob == "tests/test_x.py::test_y[*]"
    within, beyond = row(Counted(100), Counted(140)), row(Counted(100), Counted(160))
    compare.accept([within, beyond], [accepted])
    assert (within.status, beyond.status) == ("accepted", "regression")
    assert compare.decide([within]).exit_status == 0
    assert compare.acceptance("c" * 40, "no glob or ratio here") is None


def test_the_time_tripwire_makes_a_regression_only_above_its_ratio() -> None:
    slow, fine = row(Counted(100), Counted(100)), row(Counted(100), Counted(100))
    compare.tripped(slow, 1.0, 1.6, 1.5)
    compare.tripped(fine, 1.0, 1.4, 1.5)
    assert (slow.status, slow.reasons, fine.status) == ("regression", ["time"], "ok")


def sample(verdict: compare.Verdict, shard: tuple[int, int] | None = None) -> dict:  # type: ignore[type-arg]
    commit = {"rev": "main", "commit": "a" * 40}
    made = report.Report(
        verdict, base=commit, head=commit, threshold=0.03, tripwire=1.5, config="defaults", shard=shard
    )
    return report.to_json(made)


def test_every_status_s_report_holds_to_the_shipped_schema() -> None:
    rows = [
        row(Counted(100), Counted(200)),
        row(None, Counted(1)),
        row(Counted(1), None),
        row(Counted(1), Counted(None, error="x")),
    ]
    rows[0].functions = [{"function": "total", "base": 90, "head": 190}]
    compare.tripped(rows[0], 0.1, 0.2, 1.5)
    data = sample(compare.decide(rows))
    jsonschema.validate(data, report.schema())
    assert data["verdict"] == "regression" and data["exit_status"] == 1
    broken = dict(data, verdict="maybe")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, report.schema())


def test_text_markdown_and_json_show_the_same_verdict() -> None:
    verdict = compare.decide([row(Counted(100), Counted(200))])
    made = report.Report(
        verdict, base={"rev": "b", "commit": "b" * 40}, head={"rev": "h", "commit": "c" * 40}
    )
    assert report.to_json(made)["reason"] == verdict.reason
    assert verdict.reason in report.text(made).splitlines()[-1]
    assert "REGRESSION" in report.markdown(made) and verdict.reason in report.markdown(made)


def test_the_markdown_goes_to_the_github_job_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    report.write(report.Report(compare.decide([row(Counted(1), Counted(1))])), None, None)
    assert summary.read_text().startswith("earlier step\n## fastfun-gate: pass")


def shards(tmp_path: Path, *parts: tuple[int, int, list[compare.Row]]) -> list[tuple[Path, dict]]:  # type: ignore[type-arg]
    found = []
    for index, count, rows in parts:
        path = tmp_path / f"{index}-{count}-{len(found)}.json"
        path.write_text(json.dumps(sample(compare.decide(rows), (index, count))))
        found.append((path, report.load(path)))
    return found


def named(name: str, base: int, head: int) -> compare.Row:
    return compare.row_of(name, Counted(base), Counted(head), 0.03)


def test_merging_shards_gives_one_verdict(tmp_path: Path) -> None:
    merged = merge(shards(tmp_path, (1, 2, [named("a", 1, 1)]), (2, 2, [named("b", 1, 2)])))
    assert [r.name for r in merged.verdict.rows] == ["a", "b"] and merged.verdict.verdict == "regression"
    jsonschema.validate(report.to_json(merged), report.schema())


@pytest.mark.parametrize(
    ("parts", "says"),
    [
        ([(1, 2, [named("a", 1, 1)]), (1, 2, [named("b", 1, 1)])], "are both shard 1/2"),
        ([(1, 2, [named("a", 1, 1)]), (2, 2, [named("a", 1, 1)])], "a is in two shards"),
        ([(1, 2, [named("a", 1, 1)]), (2, 3, [named("b", 1, 1)])], "is shard 2/3"),
        ([(1, 3, [named("a", 1, 1)]), (2, 3, [named("b", 1, 1)])], "shard(s) 3 of 3 missing"),
    ],
)
def test_merge_refuses_shards_that_overlap_or_do_not_fit_in_one_line(tmp_path: Path, parts, says) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError) as raised:
        merge(shards(tmp_path, *parts))
    assert says in str(raised.value) and "\n" not in str(raised.value)


def test_merge_refuses_shards_of_two_comparisons(tmp_path: Path) -> None:
    first, second = shards(tmp_path, (1, 2, [named("a", 1, 1)]), (2, 2, [named("b", 1, 1)]))
    second[1]["head"] = {"rev": "other", "commit": "b" * 40}
    with pytest.raises(UsageError, match="not of one comparison: their head differ"):
        merge([first, second])


def test_a_file_that_is_not_a_report_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    for text in ["not json", "[]", '{"schema_version": 1, "verdict": "pass", "benchmarks": [{"name": 3}]}']:
        path.write_text(text)
        with pytest.raises(UsageError) as raised:
            report.load(path)
        assert "\n" not in str(raised.value)


def test_a_ratio_is_never_shown_as_1_000_unless_the_counts_are_equal() -> None:
    from fastfun_gate.report import _ratio

    assert [_ratio(1.0, widen=True), _ratio(2_014_357_980 / 2_013_740_386, widen=True)] == ["1.000", "1.0003"]
    assert [_ratio(0.99997, widen=True), _ratio(1.5, widen=True), _ratio(1.004, 2)] == [
        "0.99997",
        "1.500",
        "1.00",
    ]
