"""The gate's command line: a gate run by default, ``bisect`` to find since when, ``key`` and
``build`` for CI's cache of builds."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import counting
from benchmarks.gate import bisect as gate_bisect
from benchmarks.gate import builds
from benchmarks.gate import run as gate_run
from benchmarks.gate.builds import Undecided


def cache_folder() -> Path:
    """``FASTFUN_GATE_CACHE``, made absolute against the working directory (builds are venvs,
    whose paths must hold from any directory), or the default under the temporary folder."""
    named = os.environ.get("FASTFUN_GATE_CACHE")
    return Path(named).resolve() if named else Path(tempfile.gettempdir()) / "fastfun-gate"


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.gate",
        description=(sys.modules["benchmarks.gate"].__doc__ or "").strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Also: python -m benchmarks.gate bisect --help",
    )
    parser.add_argument(
        "--base", required=True, help="the revision to compare against, e.g. origin/main or HEAD^1"
    )
    parser.add_argument("--head", default="HEAD", help="default: HEAD")
    parser.add_argument(
        "--worktree",
        action="store_true",
        help="gate the working tree's uncommitted changes to tracked files as the head (instead of --head)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="the largest accepted increase, as a fraction (default: the base's benchmarks/gate/rules.json)",
    )
    parser.add_argument(
        "--cases", default="", help="only cases whose name contains one of these comma-separated texts"
    )
    parser.add_argument("--repo", default=".", help="the git repository (default: here)")
    parser.add_argument(
        "--measure-identical",
        action="store_true",
        help="count even when base and head build the same package",
    )
    parser.add_argument(
        "--out",
        default="gate-report",
        help="where the callgrind profiles of cases that are not ok go (gate-report)",
    )
    parser.add_argument("--json", help="also write every row, verdict and per-function table as JSON here")
    parser.add_argument(
        "--markdown",
        help="also write the report as markdown here (in GitHub Actions it goes to the job summary as well)",
    )
    return parser


def _bisect_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.gate bisect",
        description=(gate_bisect.__doc__ or "").strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--good", required=True, help="a revision whose count is the reference")
    parser.add_argument("--bad", help="a later revision that is over the threshold (not with --run)")
    parser.add_argument(
        "--case", required=True, help="the case's full name, e.g. 'test_days_in_month[v3-compiled]'"
    )
    parser.add_argument("--threshold", type=float, default=None, help="default: the good revision's rules")
    parser.add_argument("--repo", default=".", help="the git repository (default: here)")
    parser.add_argument(
        "--run", action="store_true", help="judge the repository's HEAD once, for git bisect run"
    )
    return parser


def _cache_parser(command: str, does: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.gate {command}", description=does)
    parser.add_argument("rev", help="the revision, e.g. HEAD or HEAD^1")
    parser.add_argument("--repo", default=".", help="the git repository (default: here)")
    return parser


CACHE_COMMANDS = {
    "key": "Print the name of the revision's build in the gate's cache (what CI caches it under).",
    "build": "Build the revision into the gate's cache, as a gate with that base would (CI does it on main).",
}


def _cache_command(command: str, arguments: Sequence[str]) -> int:
    args = _cache_parser(command, CACHE_COMMANDS[command]).parse_args(arguments)
    repo = Path(args.repo).resolve()
    commit = builds.commit_of(repo, args.rev)
    cython, constraints = builds.toolchain(repo, commit)
    if command == "key":
        print(builds.cache_key(repo, commit, cython, constraints))
    else:
        builds.build(repo, args.rev, cython, constraints, cache_folder(), gate_run.say)
    return 0


def _guarded(action: Callable[[], int], undecided: int, counts: bool = True) -> int:
    if counts and not counting.valgrind_available():
        print("gate: could not decide: valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return undecided
    try:
        return action()
    except Undecided as error:
        print(f"gate: could not decide: {error}", file=sys.stderr)
    except gate_bisect.UnknownCase as error:
        print(f"gate bisect: {error}", file=sys.stderr)
        return 2 if undecided == 2 else gate_bisect.ABORT
    except KeyboardInterrupt:
        print("gate: could not decide: interrupted", file=sys.stderr)
    except Exception as error:  # noqa: BLE001 - fail closed: no bug may read as pass or regression
        print(f"gate: could not decide: internal error: {type(error).__name__}: {error}", file=sys.stderr)
    return undecided


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["bisect"]:
        args = _bisect_parser().parse_args(arguments[1:])
        repo = Path(args.repo).resolve()
        if args.run:
            return _guarded(
                lambda: gate_bisect.run_once(repo, args.good, args.case, args.threshold, cache_folder()),
                gate_bisect.CANNOT_DECIDE,
            )
        if not args.bad:
            _bisect_parser().error("--bad is required (or --run, under git bisect run)")
        return _guarded(
            lambda: gate_bisect.bisect(repo, args.good, args.bad, args.case, args.threshold, cache_folder()),
            2,
        )
    if arguments[:1] and arguments[0] in CACHE_COMMANDS:
        return _guarded(lambda: _cache_command(arguments[0], arguments[1:]), 2, counts=False)
    args = _run_parser().parse_args(arguments)
    if args.worktree and args.head != "HEAD":
        _run_parser().error("--worktree gates the working tree as the head: give no --head")
    options = gate_run.Options(
        repo=Path(args.repo).resolve(),
        base=args.base,
        head=args.head,
        threshold=args.threshold,
        patterns=[p for p in args.cases.split(",") if p],
        measure_identical=args.measure_identical,
        cache=cache_folder(),
        out=Path(args.out).resolve(),
        json=Path(args.json).resolve() if args.json else None,
        markdown=Path(args.markdown).resolve() if args.markdown else None,
        worktree=args.worktree,
    )
    return _guarded(lambda: gate_run.run(options), 2)


if __name__ == "__main__":
    sys.exit(main())
