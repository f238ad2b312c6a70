"""The gate's rules and verdicts: what counts as a regression, and what a pull request accepts.

A case regresses when its instructions per round grow by more than the threshold, when it
retains memory per round where the base retained none (a leak, an unbounded cache), when it
allocates more blocks or bytes per round than the threshold allows, or when its wall time
trips the tripwire; a head over ``hang`` times its base, or a case the head removed, too.

The rules (``rules.json``) are read from the base revision, so that a change cannot loosen
the gate that judges it. A slowdown made on purpose is accepted by a commit trailer in the
range being judged:

    Performance-Accepted: <reason>                               every case
    Performance-Accepted: <case glob> <= <max ratio>: <reason>   matching cases, up to that ratio

In a glob, ``*`` matches any text and ``?`` one character; everything else is literal, the
brackets of a case name included. A head stopped for running over ``hang`` times its base has
no ratio to check, so only the plain form accepts it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.counting import Counted
from benchmarks.gate.builds import Undecided, git, show
from benchmarks.gate.explain import Change

RULES = "benchmarks/gate/rules.json"
TRAILER = "Performance-Accepted"
_SCOPED = re.compile(r"^(?P<glob>\S+)\s*<=\s*(?P<ratio>\d+(?:\.\d*)?|\.\d+)x?\s*:\s*(?P<reason>\S.*)$")


@dataclass(frozen=True)
class Rules:
    threshold: float  # the largest accepted instruction increase, as a fraction
    tripwire: float  # the largest accepted time ratio
    hang: float  # a head this many times slower than its base is stopped, a regression
    pairs: int  # interleaved base/head timings per case
    source: str  # where they were read from

    @classmethod
    def parse(cls, text: str, source: str) -> Rules:
        try:
            data = json.loads(text)
            return cls(
                float(data["threshold"]),
                float(data["tripwire"]),
                float(data["hang"]),
                int(data["pairs"]),
                source,
            )
        except (ValueError, KeyError, TypeError) as error:
            raise Undecided(f"{source}: not valid gate rules ({error})") from None


def rules_of(repo: Path, base_commit: str) -> Rules:
    """The base's rules; the gate's own when the base predates them."""
    text = show(repo, base_commit, RULES)
    if text is not None:
        return Rules.parse(text, f"{RULES} of the base")
    own = Path(__file__).with_name("rules.json")
    return Rules.parse(own.read_text(), f"{RULES} of this gate (the base has none)")


@dataclass(frozen=True)
class Acceptance:
    commit: str
    reason: str
    glob: str | None = None  # None: every case
    max_ratio: float | None = None

    def covers(self, name: str, ratio: float | None) -> bool:
        if self.glob is None:
            return True
        if not re.fullmatch(_glob_regex(self.glob), name):
            return False
        return ratio is None or self.max_ratio is None or ratio <= self.max_ratio

    def __str__(self) -> str:
        scope = "every case" if self.glob is None else f"{self.glob} up to {self.max_ratio:g}x"
        return f"{scope}: {self.reason} (commit {self.commit[:12]})"


def _glob_regex(glob: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)


def parse_acceptance(commit: str, value: str) -> Acceptance:
    scoped = _SCOPED.match(value)
    if scoped:
        return Acceptance(commit, scoped["reason"].strip(), scoped["glob"], float(scoped["ratio"]))
    return Acceptance(commit, value.strip())


def acceptances(repo: Path, base: str, head: str) -> list[Acceptance]:
    """Every ``Performance-Accepted`` trailer of the commits in base..head: on a pull request's
    merge checkout (base HEAD^1, head HEAD) that is the merge and every commit of the branch."""
    out = git(
        repo,
        "log",
        "--format=%H%x00%(trailers:key=" + TRAILER + ",valueonly,separator=%x1f)%x1e",
        f"{base}..{head}",
    )
    found = []
    for record in out.split("\x1e"):
        commit, _, values = record.strip().partition("\x00")
        for value in values.split("\x1f"):
            if value.strip():
                found.append(parse_acceptance(commit, value))
    return found


@dataclass(frozen=True)
class Memory:
    """Per round: blocks and bytes allocated, blocks retained; collector runs per 1,000 rounds."""

    blocks: float
    bytes: float
    retained: float
    gc_runs: float

    @classmethod
    def of(cls, counted: Counted) -> Memory | None:
        figures = (counted.blocks, counted.bytes, counted.retained, counted.gc_runs)
        if any(figure is None for figure in figures):
            return None  # a harness from before memory was counted
        blocks, size, retained, gc_runs = (float(figure) for figure in figures)  # type: ignore[arg-type]
        return cls(blocks, size, retained, gc_runs)


def _over(head: float, base: float, threshold: float) -> bool:
    return head > base * (1 + threshold)


@dataclass
class Row:
    name: str
    base: float | None = None
    head: float | None = None
    time_ratio: float | None = None
    status: str = "counted"  # counted, skipped, new, removed, stopped
    notes: list[str] = field(default_factory=list)
    accepted: Acceptance | None = None
    base_memory: Memory | None = None
    head_memory: Memory | None = None
    changes: list[Change] = field(default_factory=list)  # where the instructions went

    @property
    def ratio(self) -> float | None:
        if self.status == "stopped":
            return float("inf")
        if self.base is None or self.head is None:
            return None
        return self.head / self.base

    def verdict(self, rules: Rules) -> str:
        """ok, improved, new, skipped, or a text starting with REGRESSION."""
        if self.status == "skipped":
            return "skipped (unchanged)"
        if self.status == "new":
            return "new (the base does not define it)"
        if self.status == "removed":
            return "REGRESSION (removed: the head does not define it)"
        ratio = self.ratio
        if ratio is None:
            raise Undecided(f"{self.name}: no count for both sides")
        if ratio > rules.hang or (self.time_ratio is not None and self.time_ratio > rules.hang):
            return f"REGRESSION (over {rules.hang:g}x its base)"
        reasons = []  # every reason, so that each column's finding is named
        if ratio > 1 + rules.threshold:
            reasons.append("instructions")
        base, head = self.base_memory, self.head_memory
        if base is not None and head is not None:
            if base.retained == 0 and head.retained > 0:
                reasons.append("retains memory")
            if _over(head.blocks, base.blocks, rules.threshold) or _over(
                head.bytes, base.bytes, rules.threshold
            ):
                reasons.append("allocations")
        if self.time_ratio is not None and self.time_ratio > rules.tripwire:
            reasons.append("time tripwire")
        if reasons:
            return f"REGRESSION ({', '.join(reasons)})"
        if ratio < 1 - rules.threshold:
            return "improved"
        return "ok"
