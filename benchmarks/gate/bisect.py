"""Since when: the first commit whose count for a case is over the threshold.

    python -m benchmarks.gate bisect --good REV --bad REV --case NAME [--threshold 0.03]
    python -m benchmarks.gate bisect --good REV --case NAME --run     # under `git bisect run`

Counts are exact, so a binary search over the first-parent history between the two
revisions finds even a 1% step, with about log2(commits) builds. Every commit is compared
with the good one's count, measured with the good revision's workloads; a commit that does
not build, or cannot run the case, is skipped and a neighbour is tried. It prints the count
of every commit it visits.

With ``--run`` it judges the repository's HEAD once, for ``git bisect run``: exit 0 within
the threshold, 1 over it, 125 when it cannot decide (a commit that does not build). Run it
from another worktree: ``git bisect`` checks out old commits in the repository it bisects.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from benchmarks import counting
from benchmarks.gate import builds, judge
from benchmarks.gate.builds import Undecided

CANNOT_DECIDE = 125  # what `git bisect run` reads as "skip this commit"
ABORT = 128  # what `git bisect run` reads as "stop": a wrong case name is no commit's fault


class UnknownCase(Exception):
    """The case to follow is not one the good revision defines; the message names the nearest."""

    @classmethod
    def of(cls, name: str, known: list[str]) -> UnknownCase:
        nearest = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"the nearest: {', '.join(nearest)}" if nearest else f"it defines {len(known)} cases"
        return cls(
            f"the good revision defines no case {name!r}; {hint} (full names, with their test_ prefix)"
        )


@dataclass
class Search:
    repo: Path
    case: str
    threshold: float
    cache: Path
    cython: str
    constraints: str
    harness: Path | None = None
    reference: float | None = None
    counted: int = 0  # commits counted (the good one included)
    builds_made: int = 0  # of them, built now rather than taken from the cache

    def say(self, text: str) -> None:
        print(f"bisect: {text}", flush=True)

    def count(self, rev: str) -> float | None:
        """The case's instructions per round at ``rev``; None where it cannot be had."""
        commit = builds.commit_of(self.repo, rev)
        subject = builds.git(self.repo, "log", "-1", "--format=%s", commit)
        try:
            made = builds.build(self.repo, commit, self.cython, self.constraints, self.cache, lambda _: None)
        except Undecided as error:
            self.builds_made += 1
            self.say(f"{commit[:12]} {subject[:50]}: skipped, it does not build ({error})")
            return None
        self.builds_made += made.fresh
        if self.harness is None:  # the good revision's workloads measure every commit
            self.harness = builds.harness_of(self.repo, made, "base")  # in its build: kept held
            known = [info.name for info in builds.cases(made.python, self.harness, "good revision")]
            if self.case not in known:
                raise UnknownCase.of(self.case, known)
        try:
            counted = counting.count_one(self.case, python=made.python, harness=self.harness, timeout=600)
        finally:
            if self.reference is not None:  # past the good one: the cache may prune it
                made.release()
        if counted.per_round is None:
            why = "ran past 600 s" if counted.timed_out else counted.error
            self.say(f"{commit[:12]} {subject[:50]}: skipped, cannot count ({why})")
            return None
        self.counted += 1
        if self.reference is None:
            self.reference = counted.per_round
        ratio = counted.per_round / self.reference
        verdict = "BAD" if self.over(counted.per_round) else "good"
        self.say(
            f"{commit[:12]} {subject[:50]}: {counted.per_round:,.1f} instructions per round, {ratio:.4f}  {verdict}"
        )
        return counted.per_round

    def over(self, figure: float) -> bool:
        assert self.reference is not None
        return figure > self.reference * (1 + self.threshold)


def _search(repo: Path, good: str, case: str, threshold: float | None, cache: Path) -> Search:
    good_commit = builds.commit_of(repo, good)
    rules = judge.rules_of(repo, good_commit)
    cython, constraints = builds.toolchain(repo, good_commit)
    search = Search(
        repo, case, rules.threshold if threshold is None else threshold, cache, cython, constraints
    )
    if search.count(good_commit) is None:
        raise Undecided(f"the good revision {good} cannot be counted")
    return search


def bisect(repo: Path, good: str, bad: str, case: str, threshold: float | None, cache: Path) -> int:
    search = _search(repo, good, case, threshold, cache)  # first: it checks the case's name
    commits = builds.git(repo, "rev-list", "--first-parent", "--reverse", f"{good}..{bad}").split()
    if not commits:
        raise Undecided(f"{bad} has no first-parent commits after {good}")
    search.say(f"{len(commits)} commits after the good one; over means above +{search.threshold:.1%}")
    low, high = -1, len(commits) - 1  # commits[low] is good (or the good revision), commits[high] bad
    high_seen = False
    skipped: set[int] = set()
    while high - low > 1:
        candidates = [i for i in range(low + 1, high) if i not in skipped]
        if not candidates:
            break
        middle = min(candidates, key=lambda i: abs(i - (low + high) // 2))
        figure = search.count(commits[middle])
        if figure is None:
            skipped.add(middle)
        elif search.over(figure):
            high, high_seen = middle, True
        else:
            low = middle
    if not high_seen:  # the bad end was taken on trust: check it
        figure = search.count(commits[high])
        if figure is None:
            raise Undecided(f"{bad} cannot be counted")
        if not search.over(figure):
            search.say(f"no commit up to {bad} is over +{search.threshold:.1%}")
            return 1
    first = commits[high]
    subject = builds.git(repo, "log", "-1", "--format=%s", first)
    between = [commits[i][:12] for i in sorted(skipped) if low < i < high]
    if between:
        search.say(f"the first commit over the threshold is one of {', '.join(between)} or {first[:12]}")
    else:
        search.say(f"first commit over +{search.threshold:.1%}: {first[:12]} {subject}")
    search.say(f"{search.counted} commits counted, {search.builds_made} of them built now (the rest cached)")
    return 0


def run_once(repo: Path, good: str, case: str, threshold: float | None, cache: Path) -> int:
    """``git bisect run`` mode: HEAD against the good revision."""
    try:
        search = _search(repo, good, case, threshold, cache)
        figure = search.count("HEAD")
    except Undecided as error:
        print(f"bisect: cannot decide: {error}", flush=True)
        return CANNOT_DECIDE
    if figure is None:
        return CANNOT_DECIDE
    return 1 if search.over(figure) else 0
