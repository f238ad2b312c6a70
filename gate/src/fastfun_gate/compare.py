"""The verdict, computed once: rows of base/head figures, each benchmark's status, acceptance
by commit trailers, and the run's verdict. The report's three views only show it.

A benchmark regresses when its instructions per call grow by more than its threshold, when
it allocates more blocks or bytes per call than that threshold allows, when it retains memory
per call where the base retained none (a leak, an unbounded cache), when its wall time trips
the tripwire, or when the head removed it. A slowdown made on purpose is accepted by a trailer
in a commit of base..head::

    Performance-Accepted: <benchmark glob> <= <max ratio>: <reason>

A benchmark that cannot run on either side is ``failed``: the gate cannot decide (exit 2),
unless another benchmark regressed, which is certain (exit 1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastfun_gate.config import matches

TRAILER = "Performance-Accepted"
STATUSES = ("ok", "regression", "improvement", "new", "removed", "accepted", "failed")
VERDICTS = {"pass": 0, "regression": 1, "undecided": 2}  # verdict -> exit status
_SCOPED = re.compile(r"^(?P<glob>\S+)\s*<=\s*(?P<ratio>\d+(?:\.\d*)?|\.\d+)x?\s*:\s*(?P<reason>\S.*)$")


class Counted(Protocol):
    """What the gate reads of ``fastfun_gate.measure.Measured``."""

    instructions: int | None
    allocated_blocks: int | None
    allocated_bytes: int | None
    retained_bytes: int | None
    error: str | None


@dataclass(frozen=True)
class Acceptance:
    commit: str
    glob: str
    max_ratio: float
    reason: str

    def covers(self, row: Row) -> bool:
        ratio = row.ratio
        return matches(self.glob, row.name) and (ratio is None or ratio <= self.max_ratio)

    def __str__(self) -> str:
        return f"{self.glob} up to {self.max_ratio:g}x: {self.reason} (commit {self.commit[:12]})"


def acceptance(commit: str, value: str) -> Acceptance | None:
    """A trailer's value as an Acceptance; None when it is not ``<glob> <= <ratio>: <reason>``."""
    scoped = _SCOPED.match(value)
    if scoped is None:
        return None
    return Acceptance(commit, scoped["glob"], float(scoped["ratio"]), scoped["reason"].strip())


MEMORY = ("allocated_blocks", "allocated_bytes", "retained_bytes")  # per call


@dataclass
class Row:
    """One benchmark: instructions per measured call on each side (None where absent)."""

    name: str
    base: int | None
    head: int | None
    threshold: float
    status: str = "ok"
    reasons: list[str] = field(default_factory=list)  # why it regressed
    memory: dict[str, dict[str, int | None]] | None = None  # {"base": {MEMORY...}, "head": ...}
    time: dict[str, float] | None = None  # seconds per call: base, head, ratio
    functions: list[dict[str, Any]] = field(default_factory=list)  # where the instructions went
    error: str | None = None
    accepted: str | None = None  # the acceptance that covers it

    @property
    def ratio(self) -> float | None:
        if self.base is None or self.head is None:
            return None
        if self.base == 0:
            return 1.0 if self.head == 0 else None
        return self.head / self.base


def _memory(counted: Counted) -> dict[str, int | None]:
    return {name: getattr(counted, name) for name in MEMORY}


def _over(head: int | None, base: int | None, threshold: float) -> bool:
    return head is not None and base is not None and head > base * (1 + threshold)


def row_of(name: str, base: Counted | None, head: Counted | None, threshold: float) -> Row:
    """A benchmark's row and status from its two counts (either may be absent)."""
    row = Row(
        name,
        None if base is None else base.instructions,
        None if head is None else head.instructions,
        threshold,
    )
    if base is None or head is None:
        row.status = "new" if base is None else "removed"
        if base is None and head is not None and head.error:
            row.status, row.error = "failed", f"head: {head.error}"
        if row.status == "removed":
            row.reasons.append("removed")
        return row
    row.memory = {"base": _memory(base), "head": _memory(head)}
    errors = [f"{side}: {c.error}" for side, c in (("base", base), ("head", head)) if c.error]
    if errors or row.base is None or row.head is None:
        row.status, row.error = "failed", "; ".join(errors) or "no instruction count"
        return row
    if (row.base == 0 and row.head > 0) or (row.ratio or 0) > 1 + threshold:
        row.reasons.append("instructions")
    b, h = row.memory["base"], row.memory["head"]
    if b["retained_bytes"] == 0 and (h["retained_bytes"] or 0) > 0:
        row.reasons.append("retained memory")
    if any(_over(h[m], b[m], threshold) for m in ("allocated_blocks", "allocated_bytes")):
        row.reasons.append("allocations")
    if row.reasons:
        row.status = "regression"
    elif row.ratio is not None and row.ratio < 1 - threshold:
        row.status = "improvement"
    return row


def rows_of(base: Mapping[str, Counted], head: Mapping[str, Counted], threshold_for: Any) -> list[Row]:
    """Every benchmark of either side, the base's order first, then the head's new ones."""
    names = [*base, *(name for name in head if name not in base)]
    return [row_of(name, base.get(name), head.get(name), threshold_for(name)) for name in names]


def tripped(
    row: Row, base_seconds: float, head_seconds: float, tripwire: float, ratio: float | None = None
) -> None:
    """Records the time taken for ``row`` (seconds per call; ``ratio``, head/base, when it is
    not their quotient, such as a median of pairs), a regression above ``tripwire``."""
    if ratio is None:
        ratio = head_seconds / base_seconds if base_seconds > 0 else 1.0
    row.time = {"base": base_seconds, "head": head_seconds, "ratio": ratio}
    if ratio > tripwire and row.status in ("ok", "improvement"):
        row.status = "regression"
    if ratio > tripwire:
        row.reasons.append("time")


def accept(rows: Iterable[Row], acceptances: Iterable[Acceptance]) -> None:
    """Marks each regression that a trailer covers as accepted."""
    acceptances = list(acceptances)
    for row in rows:
        if row.status in ("regression", "removed"):
            covering = next((a for a in acceptances if a.covers(row)), None)
            if covering is not None:
                row.status, row.accepted = "accepted", str(covering)


@dataclass
class Verdict:
    verdict: str  # pass, regression, undecided
    reason: str  # one line
    rows: list[Row]
    problems: list[str] = field(default_factory=list)  # why undecided, beside failed rows

    @property
    def exit_status(self) -> int:
        return VERDICTS[self.verdict]


def decide(rows: list[Row], problems: Iterable[str] = ()) -> Verdict:
    """The run's verdict: a regression is certain and wins; then anything undecided; else pass."""
    problems = list(problems)
    regressed = [row for row in rows if row.status in ("regression", "removed")]
    failed = [row for row in rows if row.status == "failed"]
    if regressed:
        named = ", ".join(f"{row.name} ({', '.join(row.reasons)})" for row in regressed)
        return Verdict(
            "regression",
            f"regression in {len(regressed)} benchmark(s): {named}; if it is meant, add a commit trailer "
            f"'{TRAILER}: <benchmark glob> <= <max ratio>: <reason>'",
            rows,
            problems,
        )
    if problems:
        return Verdict("undecided", problems[0], rows, problems)
    if failed:
        return Verdict("undecided", f"{failed[0].name} cannot be counted: {failed[0].error}", rows, problems)
    if not rows:
        return Verdict(
            "undecided", "no benchmark was found (tests using the benchmark fixture or mark)", rows
        )
    accepted = sum(row.status == "accepted" for row in rows)
    tail = f", {accepted} accepted by a {TRAILER} trailer" if accepted else ""
    return Verdict("pass", f"no regression in {len(rows)} benchmark(s){tail}", rows, problems)
