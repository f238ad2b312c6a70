"""The gate's results shown where people look: the terminal table, JSON and markdown.

In GitHub Actions the markdown also goes to the job summary (``$GITHUB_STEP_SUMMARY``),
which needs no secret and so works for pull requests from forks.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.gate import explain
from benchmarks.gate.builds import Build
from benchmarks.gate.judge import Acceptance, Memory, Row, Rules


@dataclass
class Outcome:
    rows: list[Row]
    verdicts: dict[str, str]
    rules: Rules
    base: Build
    head: Build
    accepted: list[Acceptance]
    seconds: float
    status: int  # the exit status
    summary: str  # the closing line
    profiles: Path | None


def _figure(value: float | None) -> str:
    if value is None:
        return "-"
    return "stopped" if math.isinf(value) else f"{value:,.0f}"


def _ratio(value: float | None, digits: int) -> str:
    if value is None:
        return "-"
    return "inf" if math.isinf(value) else f"{value:.{digits}f}"


def _memory(base: Memory | None, head: Memory | None, field: str) -> str:
    if base is None or head is None:
        return "-"
    return f"{getattr(base, field):g}->{getattr(head, field):g}"


def terminal(outcome: Outcome) -> str:
    lines = [
        f"\n{'benchmark':<36} {'base':>14} {'head':>14} {'ratio':>8} {'time':>6} {'blocks':>11} {'kept':>7}  verdict"
    ]
    for row in outcome.rows:
        lines.append(
            f"{row.name:<36} {_figure(row.base):>14} {_figure(row.head):>14} {_ratio(row.ratio, 3):>8} "
            f"{_ratio(row.time_ratio, 2):>6} {_memory(row.base_memory, row.head_memory, 'blocks'):>11} "
            f"{_memory(row.base_memory, row.head_memory, 'retained'):>7}  {outcome.verdicts[row.name]}"
            + "".join(f"; {note}" for note in row.notes)
        )
    lines.append(
        f"\n(base {outcome.base.rev} = {outcome.base.commit[:12]}, head {outcome.head.rev} = "
        f"{outcome.head.commit[:12]}; instructions per round; 'time': the tripwire, median head/base of "
        f"{outcome.rules.pairs} interleaved pairs; 'blocks': allocated and 'kept': retained per round, "
        f"base->head; the gate took {outcome.seconds:.0f} s)"
    )
    for row in outcome.rows:
        if row.changes:
            lines.append(f"\nwhere the instructions went in {row.name}:")
            lines.extend(explain.render(row.changes))
    if outcome.profiles is not None and any(row.changes for row in outcome.rows):
        lines.append(
            f"\n(callgrind profiles of these cases, for kcachegrind or callgrind_annotate: {outcome.profiles})"
        )
    return "\n".join(lines)


def _row_data(row: Row, verdict: str) -> dict[str, Any]:
    return {
        "name": row.name,
        "status": row.status,
        "verdict": verdict,
        "base": row.base,
        "head": None if row.head is not None and math.isinf(row.head) else row.head,
        "ratio": None if row.ratio is None or math.isinf(row.ratio) else row.ratio,
        "time_ratio": None if row.time_ratio is None or math.isinf(row.time_ratio) else row.time_ratio,
        "memory": {
            "base": row.base_memory and asdict(row.base_memory),
            "head": row.head_memory and asdict(row.head_memory),
        },
        "accepted": row.accepted and row.accepted.reason,
        "notes": row.notes,
        "functions": [
            {
                "function": change.function,
                "base_inclusive": change.base.inclusive,
                "head_inclusive": change.head.inclusive,
                "base_calls": change.base.calls,
                "head_calls": change.head.calls,
            }
            for change in row.changes
        ],
    }


def to_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "base": {"rev": outcome.base.rev, "commit": outcome.base.commit},
        "head": {"rev": outcome.head.rev, "commit": outcome.head.commit},
        "rules": asdict(outcome.rules),
        "exit_status": outcome.status,
        "summary": outcome.summary,
        "seconds": round(outcome.seconds, 1),
        "accepted": [str(a) for a in outcome.accepted],
        "rows": [_row_data(row, outcome.verdicts[row.name]) for row in outcome.rows],
    }


def to_markdown(outcome: Outcome) -> str:
    verdict_mark = {0: "passed", 1: "REGRESSION", 2: "could not decide"}[outcome.status]
    lines = [
        f"## Benchmark gate: {verdict_mark}",
        "",
        f"{outcome.summary}",
        "",
        f"Base `{outcome.base.rev}` ({outcome.base.commit[:12]}), head `{outcome.head.rev}` "
        f"({outcome.head.commit[:12]}); instructions per round, exact (callgrind); time: median "
        f"head/base of {outcome.rules.pairs} interleaved pairs; blocks allocated and kept per round.",
        "",
        "| benchmark | base | head | ratio | time | blocks | kept | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    skipped = 0
    for row in outcome.rows:
        if row.status == "skipped":
            skipped += 1
            continue
        lines.append(
            f"| `{row.name}` | {_figure(row.base)} | {_figure(row.head)} | {_ratio(row.ratio, 3)} | "
            f"{_ratio(row.time_ratio, 2)} | {_memory(row.base_memory, row.head_memory, 'blocks')} | "
            f"{_memory(row.base_memory, row.head_memory, 'retained')} | {outcome.verdicts[row.name]} |"
        )
    if skipped:
        lines += ["", f"{skipped} case(s) run only files identical in base and head and were not counted."]
    for row in outcome.rows:
        if row.changes:
            lines += [
                "",
                f"### Where the instructions went: `{row.name}`",
                "",
                "| function (per round) | base inclusive | head inclusive | calls |",
                "|---|---:|---:|---:|",
            ]
            lines += [
                f"| `{c.function}` | {c.base.inclusive:,.0f} | {c.head.inclusive:,.0f} | "
                f"{c.base.calls:,.0f} → {c.head.calls:,.0f} |"
                for c in row.changes
            ]
    for acceptance in outcome.accepted:
        lines += ["", f"Performance-Accepted for {acceptance}"]
    return "\n".join(lines) + "\n"


def write(outcome: Outcome, json_path: Path | None, markdown_path: Path | None) -> None:
    """Writes the JSON and markdown reports where asked, making their folders, and appends the
    markdown to GitHub Actions' job summary when there is one."""
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(to_json(outcome), indent=2) + "\n")
    markdown = to_markdown(outcome)
    if markdown_path is not None:
        markdown_path.parent.mkdir(parents=True, exist_ok=True)
        markdown_path.write_text(markdown)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a") as out:
            out.write(markdown)
