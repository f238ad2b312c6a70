"""One gate run: build both revisions, count, recount and explain what is not ok, time, judge,
report."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from benchmarks import counting
from benchmarks.gate import builds, explain, judge, report, tripwire
from benchmarks.gate.builds import Build, Undecided

BASE_TIMEOUT = 600.0  # seconds for one base count: past it the gate cannot decide
EXPLAIN_TIMEOUT = 300.0  # seconds for one round of a stopped head, counted to explain it
TOOLING = ("benchmarks", "build-constraints.txt")
WORKLOADS = "benchmarks/workloads.py"


@dataclass
class Options:
    repo: Path
    base: str
    head: str
    threshold: float | None  # None: the base's rule
    patterns: list[str]
    measure_identical: bool
    cache: Path
    out: Path  # the callgrind profiles of every case that is not ok
    json: Path | None = None
    markdown: Path | None = None
    worktree: bool = False  # the head is the working tree's uncommitted state (git stash create)


def say(text: str) -> None:
    print(f"gate: {text}", flush=True)


def run(options: Options) -> int:
    began = time.monotonic()
    repo = options.repo
    base_commit = builds.commit_of(repo, options.base)
    if options.worktree:
        # A commit of the working tree that no branch points at; HEAD itself when it is clean.
        options.head = builds.git(repo, "stash", "create") or "HEAD"
        say(f"the head is the working tree's tracked files, as commit {options.head[:12]} (git stash create)")
    head_commit = builds.commit_of(repo, options.head)
    if not options.worktree and head_commit == builds.commit_of(repo, "HEAD"):
        _note_dirty(repo)
    rules = judge.rules_of(repo, base_commit)
    if options.threshold is not None:
        rules = judge.Rules(
            options.threshold,
            rules.tripwire,
            rules.hang,
            rules.pairs,
            f"{rules.source}, threshold from --threshold",
        )
    say(f"rules from {rules.source}: +{rules.threshold:.1%} instructions, {rules.tripwire:g}x time")
    tooling = builds.changed(repo, base_commit, head_commit, TOOLING)
    if tooling:
        say(
            f"the head changes the benchmark tooling ({', '.join(tooling)}); it is judged by the "
            "base's rules, workloads and constraints"
        )
    same_build = builds.build_key(repo, base_commit) == builds.build_key(repo, head_commit)
    same_cases = builds.blob(repo, base_commit, WORKLOADS) == builds.blob(repo, head_commit, WORKLOADS)
    if same_build and same_cases and not options.measure_identical:
        say(
            f"no regression possible: base and head build the same package and define the same cases "
            f"({', '.join([*builds.BUILD_INPUTS, WORKLOADS])} are identical), nothing to measure "
            f"(the gate took {time.monotonic() - began:.0f} s)"
        )
        return 0

    cython, constraints = builds.toolchain(repo, base_commit)
    say(
        f"building {options.base} and {options.head} (Python {sys.version.split()[0]}, Cython {cython}, "
        f"extras {builds.EXTRAS})"
    )
    with ThreadPoolExecutor(2) as pool:
        made = [
            pool.submit(builds.build, repo, rev, cython, constraints, options.cache, say, options.out)
            for rev in (options.base, options.head)
        ]
        base, head = (future.result() for future in made)
    base_harness = builds.harness_of(repo, base, "base")
    head_harness = builds.harness_of(repo, head, "head")
    required = builds.by_name(builds.cases(base.python, base_harness, "base"))
    defined = builds.by_name(builds.cases(head.python, head_harness, "head"))
    selected = [
        name
        for name in [*required, *(n for n in defined if n not in required)]
        if not options.patterns or any(p in name for p in options.patterns)
    ]
    if not selected:
        raise Undecided(f"no benchmark case matches {','.join(options.patterns)!r}")

    rows: dict[str, judge.Row] = {name: judge.Row(name) for name in selected}
    to_count: list[str] = []
    for name, row in rows.items():
        if name not in required:
            row.status = "new"
        elif name not in defined:
            row.status = "removed"
        elif (same_build and not options.measure_identical) or _unchanged(
            repo, base_commit, head_commit, required[name].frozen_on
        ):
            row.status = "skipped"
        else:
            to_count.append(name)
    skipped = [n for n, r in rows.items() if r.status == "skipped"]
    if skipped:
        say(
            f"{len(skipped)} case(s) run only files identical in base and head, not counted: "
            f"{', '.join(skipped)}"
            if not same_build
            else f"base and head build the same package: {len(skipped)} case(s) not counted"
        )

    say(f"counting {len(to_count)} case(s) in base and head")
    started = time.monotonic()
    _count(rows, to_count, base, head, base_harness, rules, None, started)
    new = [n for n, r in rows.items() if r.status == "new"]
    for name, counted in counting.count(
        new, python=head.python, harness=head_harness, progress=lambda line: say(f"  head (new)  {line}")
    ).items():
        rows[name].head = counted.per_round
        rows[name].head_memory = judge.Memory.of(counted)
    flagged = [n for n in to_count if rows[n].verdict(rules) != "ok"]
    if flagged:
        say(
            f"recounting {len(flagged)} case(s) that are not ok: the same figures twice, or no verdict; "
            f"their profiles go to {options.out}"
        )
        _count(rows, flagged, base, head, base_harness, rules, options.out, started)
    say(f"counted in {time.monotonic() - started:.0f} s; timing {rules.pairs} interleaved pairs per case")
    for name in to_count:
        row = rows[name]
        if row.status == "counted":
            row.time_ratio, notes = timed(base, head, base_harness, name, rules)
            row.notes.extend(notes)
    return _judge(rows, rules, base, head, repo, options, time.monotonic() - began)


def timed(
    base: Build, head: Build, harness: Path, name: str, rules: judge.Rules
) -> tuple[float | None, list[str]]:
    """The head/base time ratio of one case for the tripwire, and notes on how it was taken.

    Wall time on a loaded machine was seen at 1.7x and 1.8x for builds counted identical to the
    instruction, so a trip stands only if a second timing, twice as long, trips too: a sleep or
    a lock slows every pair, a neighbour's burst does not. The lower of the two decides.
    """
    first, note = tripwire.ratio(base, head, harness, name, rules.pairs, rules.hang)
    notes = [note] if note else []
    if first is None or not rules.tripwire < first < math.inf:
        return first, notes
    again, note = tripwire.ratio(base, head, harness, name, 2 * rules.pairs, rules.hang)
    if again is None:
        return first, [*notes, note]
    return min(first, again), [
        *notes,
        f"timed twice: {first:.2f}x, then {again:.2f}x over {2 * rules.pairs} pairs",
    ]


def _note_dirty(repo: Path) -> None:
    """One line when the working tree differs from HEAD where a gate looks: it gates commits,
    so such changes are not part of the head."""
    status = builds.git(repo, "status", "--porcelain", "--", *builds.BUILD_INPUTS, WORKLOADS)
    paths = [line.split(maxsplit=1)[1] for line in status.splitlines() if line.strip()]  # "XY path"
    if paths:
        more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
        print(
            f"gate: note: the working tree has uncommitted changes ({', '.join(paths[:3])}{more}) that the "
            "head, a commit, does not have: commit them, or add --worktree to gate the tracked ones",
            file=sys.stderr,
            flush=True,
        )


def _unchanged(repo: Path, base: str, head: str, frozen_on: Sequence[str] | None) -> bool:
    if frozen_on is None:
        return False
    return all(builds.blob(repo, base, path) == builds.blob(repo, head, path) for path in frozen_on)


def _count(
    rows: dict[str, judge.Row],
    names: list[str],
    base: Build,
    head: Build,
    harness: Path,
    rules: judge.Rules,
    keep: Path | None,
    started: float,
) -> None:
    """Counts base then head of each case, two cases at a time. With ``keep`` it is the
    recount of cases that are not ok: the figures must agree exactly, and the profiles kept
    there explain where the instructions went."""

    def one(name: str) -> None:
        row = rows[name]
        b = counting.count_one(
            name, python=base.python, harness=harness, timeout=BASE_TIMEOUT, keep=keep and keep / "base"
        )
        if b.timed_out:
            raise Undecided(f"no count for the base of {name} after {BASE_TIMEOUT:.0f} s")
        if b.per_round is None:
            raise Undecided(f"the base cannot run {name}, a case it defines: {b.error}")
        if keep is not None and row.status == "stopped":
            # A stopped head would only be stopped again: one round, without the time limit,
            # is enough to see where it spends.
            h = counting.count_one(
                name,
                python=head.python,
                harness=harness,
                timeout=EXPLAIN_TIMEOUT,
                keep=keep / "head",
                rounds=1,
            )
            _recounted(row, b, h)
            return
        # The head may take ``hang`` times the base's rounds (at least 5 s) after a start-up
        # of up to twice the base's: past that it is stopped, a regression.
        start_up = b.seconds - b.measured_seconds
        h = counting.count_one(
            name,
            python=head.python,
            harness=harness,
            timeout=2 * start_up + max(rules.hang * b.measured_seconds, 5.0),
            keep=keep and keep / "head",
        )
        if h.per_round is None and not h.timed_out:
            raise Undecided(f"the head cannot run {name}, a case it defines: {h.error}")
        if keep is not None:
            _recounted(row, b, h)
            return
        row.base, row.base_memory = b.per_round, judge.Memory.of(b)
        row.head, row.head_memory = (math.inf, None) if h.timed_out else (h.per_round, judge.Memory.of(h))
        if h.timed_out:
            row.status = "stopped"
            row.notes.append(
                f"head stopped after {h.seconds:.1f} s, over {rules.hang:g}x its base's "
                f"{b.measured_seconds:.2f} s"
            )
        ratio = "stopped" if h.timed_out else f"{row.ratio:.3f}"
        say(
            f"  {name}: {b.per_round:,.1f} -> {'stopped' if h.timed_out else f'{h.per_round:,.1f}'} "
            f"instructions per round, ratio {ratio} ({time.monotonic() - started:.0f} s)"
        )

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, names))


def _recounted(row: judge.Row, b: counting.Counted, h: counting.Counted) -> None:
    """Checks a recount against the first count (for a stopped head, the base's alone: ``h``
    is then one round of the head) and explains the case from its profiles."""
    stopped = row.status == "stopped"
    first: tuple[object, ...] = (row.base, row.base_memory)
    again: tuple[object, ...] = (b.per_round, judge.Memory.of(b))
    if not stopped:
        first += (row.head, row.head_memory)
        again += (h.per_round, judge.Memory.of(h))
    if again != first:
        raise Undecided(
            f"{row.name}: a recount differs ({first} then {again}); figures that move decide nothing"
        )
    say(f"  recount    {row.name}: the same, to the instruction and the block")
    if b.profile and b.zero_profile and h.profile and h.zero_profile:
        head_profile = explain.per_round(h.profile, h.zero_profile, h.rounds)
        row.changes = explain.changes(explain.per_round(b.profile, b.zero_profile, b.rounds), head_profile)
        if stopped and row.base:
            row.notes.append(
                f"one head round, counted to explain it: {head_profile.total:,.0f} instructions "
                f"({head_profile.total / row.base:,.0f}x)"
            )
    elif h.timed_out:
        row.notes.append(f"no profile: one head round ran over {EXPLAIN_TIMEOUT:.0f} s")


def _judge(
    rows: dict[str, judge.Row],
    rules: judge.Rules,
    base: Build,
    head: Build,
    repo: Path,
    options: Options,
    seconds: float,
) -> int:
    accepted = judge.acceptances(repo, base.commit, head.commit)
    verdicts, regressions, unaccepted = {}, [], []
    for row in rows.values():
        verdict = row.verdict(rules)
        if verdict.startswith("REGRESSION"):
            regressions.append(row)
            row.accepted = next((a for a in accepted if a.covers(row.name, row.ratio)), None)
            if row.accepted:
                verdict += f", accepted: {row.accepted.reason}"
            else:
                unaccepted.append(row)
        verdicts[row.name] = verdict
    if not regressions:
        status, summary = (
            0,
            (
                f"no regression: every instruction ratio within +{rules.threshold:.1%}, no memory retained or "
                f"allocated beyond it, every time ratio within {rules.tripwire:g}x"
            ),
        )
    elif not unaccepted:
        status, summary = (
            0,
            f"{len(regressions)} regression(s), each accepted by a Performance-Accepted trailer",
        )
    else:
        status, summary = (
            1,
            (
                f"REGRESSION in {len(unaccepted)} case(s): {', '.join(r.name for r in unaccepted)} (over "
                f"+{rules.threshold:.1%} instructions or allocations, memory retained, {rules.tripwire:g}x time, "
                "or removed; if it is meant, add a trailer 'Performance-Accepted: <case glob> <= <max ratio>: "
                "<reason>')"
            ),
        )
    outcome = report.Outcome(
        list(rows.values()), verdicts, rules, base, head, accepted, seconds, status, summary, options.out
    )
    print(report.terminal(outcome))
    for acceptance in accepted:
        say(f"Performance-Accepted for {acceptance}")
    report.write(outcome, options.json, options.markdown)
    say(summary)
    return status
