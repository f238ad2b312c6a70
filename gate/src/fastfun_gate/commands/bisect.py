"""Since when: the first commit whose count of one benchmark is over the threshold.

    fastfun-gate bisect --good REV --bad REV --benchmark NODEID [--threshold 0.03]
    git bisect run fastfun-gate bisect-run --good REV --benchmark NODEID   # from another worktree

Counts are exact, so a binary search over the first-parent commits between the two finds
even a 1% step with about log2(commits) builds. Each commit is built and counted with its own
tree, against the good one's count; a commit that does not build or cannot run the benchmark
is skipped and a neighbour tried. The settings are the good revision's, flags over them.

``bisect`` exits 0 having named the first bad commit, 1 when no commit is over the threshold,
2 when it cannot decide. ``bisect-run`` judges HEAD once for ``git bisect run``: 0 within the
threshold, 1 over it, 125 (skip) when HEAD cannot be counted, 128 (abort) for a benchmark the
good revision does not have.
"""

from __future__ import annotations

import argparse
import difflib
from dataclasses import dataclass, field
from pathlib import Path

from fastfun_gate import config, git
from fastfun_gate.commands import Command, options
from fastfun_gate.errors import Undecided, UsageError

SKIP = 125  # what `git bisect run` reads as "cannot test this commit"
ABORT = 128  # what `git bisect run` reads as "stop": a wrong benchmark name is no commit's fault


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--good", required=True, metavar="REV", help="a revision whose count is the reference"
    )
    parser.add_argument(
        "--benchmark",
        required=True,
        metavar="NODEID",
        help="the benchmark's pytest node id, e.g. tests/test_x.py::test_y[a]",
    )
    parser.add_argument("--threshold", type=float, metavar="FRACTION", help="default: the good revision's")
    parser.add_argument(
        "--tests", metavar="'PYTEST ARGS'", help="pytest's arguments (default: the good revision's)"
    )
    parser.add_argument("--out", default="gate-report", metavar="DIR", help="build logs and profiles")
    options.add_repo(parser)
    options.add_install(parser)


@dataclass
class Search:
    repo: Path
    benchmark: str
    settings: config.Config
    out: Path
    reference: int | None = None
    counted: int = 0
    skipped: list[str] = field(default_factory=list)

    @property
    def threshold(self) -> float:
        return self.settings.threshold_for(self.benchmark)

    def count(self, commit: str) -> int | None:
        """The benchmark's instructions per call at ``commit``; None where it cannot be had."""
        what = f"{commit[:12]} {git.subject(self.repo, commit)[:50]}"
        known: list[str] = []
        try:
            counts = options.count_revision(
                self.repo, commit, self.settings, [self.benchmark], self.out, known
            )
        except Undecided as error:
            options.say(f"{what}: skipped, it does not build ({error})")
            return None
        found = counts.get(self.benchmark)
        if self.reference is None and found is None:
            nearest = difflib.get_close_matches(self.benchmark, known, n=3, cutoff=0.5)
            hint = f"; the nearest: {', '.join(nearest)}" if nearest else ""
            raise UsageError(f"the good revision has no benchmark {self.benchmark!r}{hint}")
        if found is None or found.instructions is None:
            options.say(f"{what}: skipped, cannot count it ({found.error if found else 'not collected'})")
            return None
        self.counted += 1
        if self.reference is None:
            self.reference = found.instructions
        ratio = found.instructions / self.reference if self.reference else 1.0
        options.say(
            f"{what}: {found.instructions:,} instructions per call, {ratio:.4f}  "
            + ("BAD" if self.over(found.instructions) else "good")
        )
        return int(found.instructions)

    def over(self, figure: int) -> bool:
        assert self.reference is not None
        return figure > self.reference * (1 + self.threshold)


def _search(args: argparse.Namespace) -> Search:
    options.need_valgrind()
    repo = options.repo_of(args)
    good = git.commit_of(repo, args.good)
    settings = config.of_revision(repo, good, options.flags_of(args))
    search = Search(repo, args.benchmark, settings, Path(args.out).resolve())
    if search.count(good) is None:
        raise Undecided(f"the good revision {args.good} cannot be counted")
    return search


def add_bisect_arguments(parser: argparse.ArgumentParser) -> None:
    _add_common(parser)
    parser.add_argument("--bad", required=True, metavar="REV", help="a later revision over the threshold")


def bisect(args: argparse.Namespace) -> int:
    search = _search(args)  # first: it checks the benchmark's name
    commits = git.git(
        search.repo, "rev-list", "--first-parent", "--reverse", f"{args.good}..{args.bad}"
    ).split()
    if not commits:
        raise UsageError(f"{args.bad} has no first-parent commits after {args.good}")
    options.say(f"{len(commits)} commits after the good one; over means above +{search.threshold:.1%}")
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
            raise Undecided(f"{args.bad} cannot be counted")
        if not search.over(figure):
            print(f"no commit up to {args.bad} is over +{search.threshold:.1%} for {args.benchmark}")
            return 1
    first = commits[high]
    between = [commits[i][:12] for i in sorted(skipped) if low < i < high]
    if between:
        print(f"the first commit over the threshold is one of {', '.join(between)} or {first[:12]}")
    else:
        print(f"first commit over +{search.threshold:.1%}: {first} {git.subject(search.repo, first)}")
    options.say(f"{search.counted} commits counted")
    return 0


def bisect_run(args: argparse.Namespace) -> int:
    try:
        search = _search(args)
        figure = search.count(git.commit_of(search.repo, "HEAD"))
    except UsageError as error:
        options.say(str(error))
        return ABORT
    except Undecided as error:
        options.say(f"cannot decide: {error}")
        return SKIP
    if figure is None:
        return SKIP
    return 1 if search.over(figure) else 0


BISECT = Command(
    "bisect",
    "find the first commit over the threshold for one benchmark",
    add_bisect_arguments,
    bisect,
    __doc__,
)
BISECT_RUN = Command(
    "bisect-run",
    "judge HEAD against a good revision, for git bisect run (0 good, 1 bad, 125 skip)",
    _add_common,
    bisect_run,
    __doc__,
)
