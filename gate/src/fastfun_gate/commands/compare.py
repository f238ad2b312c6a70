"""Compare two revisions: build both, count every benchmark of both under callgrind, judge.

    fastfun-gate compare --base origin/main [--head HEAD] [--tests "tests/bench"] [--json r.json]

Settings come from the BASE revision's [tool.fastfun-gate] with the flags over them. Exit
status: 0 no regression, 1 regression, 2 could not decide (one line says why).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastfun_gate import builds, cache, compare, config, git, report
from fastfun_gate.commands import Command, options
from fastfun_gate.commands.options import say
from fastfun_gate.errors import Undecided, UsageError

TIME_CALLS = 20  # calls per timed run of the tripwire; a trip is timed again with twice as many
PAIRS = 3  # interleaved base/head timed runs per round of the tripwire
FUNCTIONS = 10  # functions listed per flagged benchmark


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base", required=True, metavar="REV", help="the revision to compare with, e.g. origin/main"
    )
    parser.add_argument("--head", metavar="REV", help="the revision judged (default: HEAD)")
    parser.add_argument(
        "--worktree",
        action="store_true",
        help="judge the working tree's uncommitted changes to tracked files as the head",
    )
    options.add_repo(parser)
    options.add_install(parser)
    options.add_settings(parser)
    parser.add_argument("--shard", metavar="K/N", help="count only shard K of N (merge the shards' --json)")
    parser.add_argument("--json", metavar="FILE", help="write the JSON report here")
    parser.add_argument("--markdown", metavar="FILE", help="write the markdown report here")
    parser.add_argument(
        "--out",
        default="gate-report",
        metavar="DIR",
        help="build logs and callgrind profiles (default: gate-report)",
    )


def run(args: argparse.Namespace) -> int:
    if args.worktree and args.head:
        raise UsageError("compare: --worktree judges the working tree as the head: give no --head")
    return Run(args).run()


def keep_names(tests: Sequence[str], pyproject: str | None) -> set[str]:
    """Top-level folders the tests live in (paths in the pytest arguments, else the project's
    testpaths): never removed from a measured tree, even if the wheel ships a package so named."""
    paths = [arg for arg in tests if not arg.startswith("-")]
    if not paths and pyproject is not None:
        paths = config.testpaths(pyproject)
    return {Path(path.split("::")[0]).parts[0] for path in paths if path.split("::")[0] not in ("", ".")}


class Run:
    """One comparison, from the arguments to the exit status."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.began = time.monotonic()
        self.repo = options.repo_of(args)
        self.out = Path(args.out).resolve()
        self.json = config.resolved(args.json)
        self.markdown = config.resolved(args.markdown)
        self.shard = config.shard_of(args.shard) if args.shard else None
        self.flags = options.flags_of(args)
        self.settings: config.Config | None = None
        self.sides: dict[str, dict[str, str]] = {}
        self.accepted: list[str] = []

    def run(self) -> int:
        base_commit = git.commit_of(self.repo, self.args.base)
        self.settings = config.of_revision(self.repo, base_commit, self.flags)  # user mistakes first
        measure = options.measure()
        try:
            options.need_valgrind()
            rows = self._rows(measure, base_commit)
            selected = self.settings.select
            if not rows and selected and not self.shard:
                # The suite may have benchmarks; none matched (a shard may hold none by chance).
                raise Undecided(
                    f"no benchmark matches select {', '.join(selected)} (node ids from the project's root)"
                )
            verdict = compare.decide(rows)
        except Undecided as error:
            verdict = compare.decide([], [str(error)])
        except measure.MeasureError as error:
            verdict = compare.decide([], [f"the measuring harness could not run: {error}"])
        return self._report(verdict)

    def _head(self) -> tuple[str, str]:
        if self.args.worktree:
            commit = git.worktree_commit(self.repo)
            say(f"the head is the working tree's tracked files, as commit {commit[:12]} (git stash create)")
            return "working tree", commit
        rev = self.args.head or "HEAD"
        commit = git.commit_of(self.repo, rev)
        if commit == git.commit_of(self.repo, "HEAD"):
            dirty = git.dirty_paths(self.repo)
            if dirty:
                more = f" and {len(dirty) - 3} more" if len(dirty) > 3 else ""
                say(
                    f"note: uncommitted changes ({', '.join(dirty[:3])}{more}) are not part of the head, "
                    "a commit: commit them, or add --worktree to judge them"
                )
        return rev, commit

    def _rows(self, measure: Any, base_commit: str) -> list[compare.Row]:
        settings = self.settings
        assert settings is not None
        head_rev, head_commit = self._head()
        self.sides = {
            "base": {"rev": self.args.base, "commit": base_commit},
            "head": {"rev": head_rev, "commit": head_commit},
        }
        say(
            f"settings from {settings.source}; threshold +{settings.threshold:.1%}, "
            f"tripwire {settings.tripwire or 'off'}"
        )
        folder = cache.folder_from_env()
        worker = measure.worker_requirements()
        with ThreadPoolExecutor(2) as pool:
            made = [
                pool.submit(
                    builds.build,
                    self.repo,
                    side["commit"],
                    settings.install,
                    worker,
                    folder,
                    say,
                    self.out,
                    side["rev"],
                )
                for side in self.sides.values()
            ]
            base, head = (future.result() for future in made)
        work = Path(tempfile.mkdtemp(prefix="fastfun-gate-"))
        try:
            return self._measure(measure, base, head, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _measure(self, measure: Any, base: builds.Build, head: builds.Build, work: Path) -> list[compare.Row]:
        settings = self.settings
        assert settings is not None
        tests = list(settings.tests)
        keep = keep_names(tests, git.show(self.repo, base.commit, "pyproject.toml"))
        trees = {
            side: builds.measured_tree(self.repo, b, work / side / "tree", keep)
            for side, b in (("base", base), ("head", head))
        }
        shard = f", shard {self.shard[0]}/{self.shard[1]}" if self.shard else ""
        say(f"counting the benchmarks of base and head under callgrind{shard}")
        started = time.monotonic()

        def count(side: str, made: builds.Build) -> Mapping[str, Any]:
            counted: Mapping[str, Any] = measure.count(
                made.python,
                trees[side],
                tests,
                select=[config.as_fnmatch(g) for g in settings.select],
                shard=self.shard,
                out=self.out / side,
                timeout=settings.timeout,
            )
            return counted

        with ThreadPoolExecutor(2) as pool:
            counting = [pool.submit(count, side, made) for side, made in (("base", base), ("head", head))]
            base_counts, head_counts = (future.result() for future in counting)
        say(
            f"counted {len(base_counts)} + {len(head_counts)} benchmarks in {time.monotonic() - started:.0f} s"
        )
        rows = compare.rows_of(base_counts, head_counts, settings.threshold_for)
        if settings.tripwire is not None:
            self._tripwire(measure, rows, base, head, trees, settings.tripwire)
        for row in rows:
            if row.status == "regression":
                row.functions = attribution(measure, base_counts[row.name], head_counts[row.name])
        acceptances = [
            a
            for c, v in git.trailers(self.repo, base.commit, head.commit, compare.TRAILER)
            if (a := compare.acceptance(c, v)) is not None
        ]
        self.accepted = [str(a) for a in acceptances]
        compare.accept(rows, acceptances)
        return rows

    def _tripwire(
        self,
        measure: Any,
        rows: list[compare.Row],
        base: builds.Build,
        head: builds.Build,
        trees: dict[str, Path],
        tripwire: float,
    ) -> None:
        """Wall time catches what instructions cannot (a sleep, I/O, a lock). It is noisy on a
        shared machine, so it is taken as interleaved base/head pairs of runs (a neighbour's
        burst slows one run, a sleep slows every head), the median of the pairs' ratios; a
        trip stands only if as many pairs again, of twice the calls, trip too: the lower
        median decides."""
        tests = list(self.settings.tests) if self.settings else []
        names = [row.name for row in rows if row.status in ("ok", "improvement")]
        taken: dict[str, tuple[float, float, float]] = {}  # name -> (base, head, median ratio)
        for calls in (TIME_CALLS, 2 * TIME_CALLS):
            if not names:
                break
            if calls == TIME_CALLS:
                say(
                    f"timing {len(names)} benchmark(s): {PAIRS} base/head pairs of {calls} calls (the tripwire)"
                )
            else:
                say(
                    f"timing again, with {calls} calls, what went over the tripwire's {tripwire}: {', '.join(names)}"
                )
            pairs: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
            for _ in range(PAIRS):
                b = measure.time(base.python, trees["base"], tests, names, calls=calls, out=self.out / "base")
                h = measure.time(head.python, trees["head"], tests, names, calls=calls, out=self.out / "head")
                for name in names:
                    if name in b and name in h and b[name] > 0:
                        pairs[name].append((b[name], h[name]))
            for name, found in pairs.items():
                if found:
                    median = statistics.median(h / b for b, h in found)
                    if name not in taken or median < taken[name][2]:
                        taken[name] = (
                            statistics.median(b for b, _ in found),
                            statistics.median(h for _, h in found),
                            median,
                        )
            names = [name for name in names if name in taken and taken[name][2] > tripwire]
        by_name = {row.name: row for row in rows}
        for name, (b_seconds, h_seconds, ratio) in taken.items():
            compare.tripped(by_name[name], b_seconds, h_seconds, tripwire, ratio)

    def _report(self, verdict: compare.Verdict) -> int:
        settings = self.settings
        assert settings is not None
        result = report.Report(
            verdict,
            base=self.sides.get("base"),
            head=self.sides.get("head"),
            threshold=settings.threshold,
            thresholds=dict(settings.thresholds),
            tripwire=settings.tripwire,
            config=settings.source,
            shard=self.shard,
            seconds=time.monotonic() - self.began,
            accepted=self.accepted,
            out=str(self.out),
        )
        print(report.text(result))
        report.write(result, self.json, self.markdown)
        if verdict.verdict == "undecided":
            print(f"fastfun-gate: undecided: {verdict.reason}", file=sys.stderr)
        return verdict.exit_status


def attribution(measure: Any, base: Any, head: Any) -> list[dict[str, Any]]:
    """The functions whose instructions per call changed most, base -> head."""
    if base.profile is None or head.profile is None:
        return []
    b, h = measure.functions(base.profile), measure.functions(head.profile)
    names = sorted(set(b) | set(h), key=lambda name: (-abs(h.get(name, 0) - b.get(name, 0)), name))
    return [
        {"function": name, "base": b.get(name), "head": h.get(name)}
        for name in names[:FUNCTIONS]
        if h.get(name, 0) != b.get(name, 0)
    ]


COMMAND = Command("compare", "compare a head revision with its base (the gate)", add_arguments, run, __doc__)
