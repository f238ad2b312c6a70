"""Three views of one verdict: text (the terminal), markdown (the job summary) and JSON (the
machine-readable report, described by ``report.schema.json``), plus the one reader of that
JSON that ``merge`` uses.

In GitHub Actions the markdown is also appended to ``$GITHUB_STEP_SUMMARY``, which needs no
secret, so it works for pull requests from forks.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from fastfun_gate.compare import STATUSES, VERDICTS, Row, Verdict
from fastfun_gate.errors import UsageError

SCHEMA_VERSION = 1


@dataclass
class Report:
    verdict: Verdict
    base: dict[str, str] | None = None  # {"rev", "commit"}
    head: dict[str, str] | None = None
    threshold: float | None = None
    thresholds: dict[str, float] = field(default_factory=dict)
    tripwire: float | None = None
    config: str = ""  # where the settings were read
    shard: tuple[int, int] | None = None
    seconds: float = 0.0
    accepted: list[str] = field(default_factory=list)  # every acceptance trailer found
    out: str | None = None  # build logs and profiles


def schema() -> dict[str, Any]:
    """The JSON Schema of the report (shipped with the package)."""
    loaded: dict[str, Any] = json.loads(
        resources.files("fastfun_gate").joinpath("report.schema.json").read_text()
    )
    return loaded


def _row_json(row: Row) -> dict[str, Any]:
    return {
        "name": row.name,
        "base": row.base,
        "head": row.head,
        "ratio": row.ratio,
        "status": row.status,
        "threshold": row.threshold,
        "reasons": row.reasons,
        "memory": row.memory,
        "time": row.time,
        "functions": row.functions,
        "error": row.error,
        "accepted": row.accepted,
    }


def to_json(report: Report) -> dict[str, Any]:
    verdict = report.verdict
    return {
        "schema_version": SCHEMA_VERSION,
        "verdict": verdict.verdict,
        "reason": verdict.reason,
        "exit_status": verdict.exit_status,
        "problems": verdict.problems,
        "base": report.base,
        "head": report.head,
        "threshold": report.threshold,
        "thresholds": report.thresholds,
        "tripwire": report.tripwire,
        "config": report.config,
        "shard": None if report.shard is None else {"index": report.shard[0], "count": report.shard[1]},
        "seconds": round(report.seconds, 1),
        "accepted": report.accepted,
        "benchmarks": [_row_json(row) for row in verdict.rows],
    }


def load(path: Path) -> dict[str, Any]:
    """A JSON report written by ``compare``; UsageError naming the first problem, in one line."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise UsageError(f"{path}: not a readable JSON report ({error})") from None
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise UsageError(f"{path}: not a fastfun-gate report of schema version {SCHEMA_VERSION}")
    if data.get("verdict") not in VERDICTS or not isinstance(data.get("benchmarks"), list):
        raise UsageError(f"{path}: a report needs a verdict ({', '.join(VERDICTS)}) and a benchmarks list")
    for item in data["benchmarks"]:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("name"), str)
            or item.get("status") not in STATUSES
        ):
            raise UsageError(f"{path}: a benchmark without a name or a known status: {str(item)[:80]}")
    return data


def row_from_json(item: dict[str, Any]) -> Row:
    return Row(
        name=item["name"],
        base=item.get("base"),
        head=item.get("head"),
        threshold=float(item.get("threshold", 0.0)),
        status=item["status"],
        reasons=list(item.get("reasons", [])),
        memory=item.get("memory"),
        time=item.get("time"),
        functions=list(item.get("functions", [])),
        error=item.get("error"),
        accepted=item.get("accepted"),
    )


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _ratio(value: float | None, digits: int = 3, widen: bool = False) -> str:
    """At ``digits`` decimals; ``widen``: more where that would show two unequal counts as
    exactly 1 (an A/A reads 1.000 only when the counts are equal)."""
    if value is None:
        return "-"
    text = f"{value:.{digits}f}"
    while widen and value != 1 and float(text) == 1 and digits < 9:
        digits += 1
        text = f"{value:.{digits}f}"
    return text


def _memory(row: Row, name: str) -> str:
    if row.memory is None:
        return "-"
    base, head = row.memory["base"][name], row.memory["head"][name]
    return "-" if base is None or head is None else f"{base:,}->{head:,}"


def _cells(row: Row) -> list[str]:
    status = row.status + (f" ({', '.join(row.reasons)})" if row.reasons else "")
    status += f": {row.error}" if row.error else ""
    status += f"; {row.accepted}" if row.accepted else ""
    time_ratio = None if row.time is None else row.time["ratio"]
    return [
        row.name,
        _count(row.base),
        _count(row.head),
        _ratio(row.ratio, widen=True),
        _ratio(time_ratio, 2),
        _memory(row, "allocated_blocks"),
        _memory(row, "retained_bytes"),
        status,
    ]


HEADERS = ["benchmark", "base", "head", "ratio", "time", "blocks", "retained", "status"]
LEGEND = (
    "base, head: instructions per measured call (callgrind, exact); time: head/base seconds per call "
    "(the tripwire); blocks: allocated, retained: bytes kept, per call, base->head"
)


def _sides(report: Report) -> str:
    if report.base is None or report.head is None:
        return ""
    return (
        f"base {report.base['rev']} ({report.base['commit'][:12]}), head {report.head['rev']} "
        f"({report.head['commit'][:12]})"
    )


def _where(row: Row) -> list[list[str]]:
    return [[f["function"], _count(f.get("base")), _count(f.get("head"))] for f in row.functions]


def text(report: Report) -> str:
    """The terminal's view: an aligned table, where the instructions went, the verdict last
    (alone when no benchmark was counted)."""
    if not report.verdict.rows:
        return f"fastfun-gate: {report.verdict.verdict}: {report.verdict.reason}"
    table = [HEADERS, *(_cells(row) for row in report.verdict.rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS) - 1)]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=False))
        )
        + "  "
        + line[-1]
        for line in table
    ]
    lines += ["", f"({LEGEND}; {_sides(report)}; {report.seconds:.0f} s)"]
    for row in report.verdict.rows:
        if row.functions:
            lines += ["", f"where the instructions went in {row.name} (per call, base -> head):"]
            lines += [f"  {fn}: {b} -> {h}" for fn, b, h in _where(row)]
    lines += ["", f"fastfun-gate: {report.verdict.verdict}: {report.verdict.reason}"]
    return "\n".join(lines)


def _md(cell: str) -> str:
    return cell.replace("|", "\\|")


def markdown(report: Report) -> str:
    """The job summary's view."""
    verdict = report.verdict
    title = {"pass": "pass", "regression": "REGRESSION", "undecided": "could not decide"}[verdict.verdict]
    lines = [f"## fastfun-gate: {title}", "", _md(verdict.reason), "", f"{_sides(report)}. {LEGEND}.", ""]
    if verdict.rows:
        lines += ["| " + " | ".join(HEADERS) + " |", "|---|" + "---:|" * 6 + "---|"]
        for row in verdict.rows:
            cells = _cells(row)
            cells[0] = f"`{cells[0]}`"
            lines.append("| " + " | ".join(_md(cell) for cell in cells) + " |")
    for row in verdict.rows:
        if row.functions:
            lines += [
                "",
                f"### Where the instructions went: `{row.name}`",
                "",
                "| function | base | head |",
                "|---|---:|---:|",
            ]
            lines += [f"| `{_md(fn)}` | {b} | {h} |" for fn, b, h in _where(row)]
    lines += [f"- {item}" for item in verdict.problems[1:]]
    return "\n".join(lines) + "\n"


def write(report: Report, json_path: Path | None, markdown_path: Path | None) -> None:
    """Writes the JSON and markdown where asked (making their folders) and appends the markdown
    to GitHub Actions' job summary when there is one."""
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(to_json(report), indent=2) + "\n")
    view = markdown(report)
    if markdown_path is not None:
        markdown_path.parent.mkdir(parents=True, exist_ok=True)
        markdown_path.write_text(view)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a") as out:
            out.write(view)
