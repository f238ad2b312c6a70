"""Arguments and steps several commands share: the repository, the settings' flags, the
measure module, the progress line."""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from fastfun_gate import cache, config
from fastfun_gate.errors import Undecided, UsageError


def say(text: str) -> None:
    print(f"fastfun-gate: {text}", file=sys.stderr, flush=True)


def measure() -> ModuleType:
    """``fastfun_gate.measure``, looked up at run time (tests put a fake in its place)."""
    from fastfun_gate import measure as module

    return module


def need_valgrind() -> None:
    if shutil.which("valgrind") is None:
        raise Undecided("valgrind is not installed (on Debian or Ubuntu: apt-get install valgrind)")


def add_repo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", default=".", help="the project's git repository (default: here)")


def repo_of(args: argparse.Namespace) -> Path:
    """The top folder of the repository ``--repo`` is in."""
    found = subprocess.run(
        ["git", "-C", str(Path(args.repo).resolve()), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
    )
    if found.returncode != 0:
        raise UsageError(f"--repo {args.repo}: not in a git repository")
    return Path(found.stdout.strip())


# The flags over [tool.fastfun-gate]'s keys: flag, key (the attribute of config.Flags), metavar;
# their help by key. A flag whose key is a list adds one item each time it is given. The first
# five say how a build's venv is installed, the others what is measured and judged.
FLAGS = (
    ("--requirements", "requirements", "FILE"),
    ("--constraint", "constraints", "FILE"),
    ("--extra", "extras", "NAME"),
    ("--group", "groups", "NAME"),
    ("--with", "with_", "REQUIREMENT"),
    ("--tests", "tests", "'PYTEST ARGS'"),
    ("--threshold", "threshold", "FRACTION"),
    ("--threshold-for", "thresholds", "GLOB=FRACTION"),
    ("--tripwire", "tripwire", "RATIO|off"),
    ("--select", "select", "GLOB"),
    ("--timeout", "timeout", "SECONDS"),
)
HELP = {
    "requirements": "a pip requirements file, a path in the revision's tree",
    "constraints": "a pip constraints file in the revision's tree, for the venv and the wheel's build",
    "extras": "an extra of the project installed with its wheel",
    "groups": "a PEP 735 dependency group of the revision's pyproject.toml",
    "with_": "one more requirement, installed on both sides",
    "tests": "pytest's arguments, one string (default: the project's testpaths; only benchmarks run)",
    "threshold": "the largest accepted increase per benchmark (default 0.03: +3%%)",
    "thresholds": "the threshold of benchmarks matching GLOB; first match wins",
    "tripwire": "the time ratio that fails a benchmark (default 1.5), or off",
    "select": "only benchmarks whose node id matches GLOB",
    "timeout": "seconds a benchmark may take under callgrind before it fails (default 600)",
}
LISTS = {"requirements", "constraints", "extras", "groups", "with_", "thresholds", "select"}


def _add_flags(group: argparse._ArgumentGroup, flags: Sequence[tuple[str, str, str]]) -> None:
    for flag, key, metavar in flags:
        text = HELP[key]
        if key in LISTS:
            group.add_argument(
                flag, dest=key, action="append", default=[], metavar=metavar, help=f"{text} (repeatable)"
            )
        else:
            kind = _number(flag) if key == "threshold" else str
            group.add_argument(flag, dest=key, type=kind, metavar=metavar, help=text)


def add_install(parser: argparse.ArgumentParser) -> None:
    """The flags of a build's test requirements ([tool.fastfun-gate] keys of the same names)."""
    _add_flags(
        parser.add_argument_group("the measured venv (each flag replaces its [tool.fastfun-gate] key)"),
        FLAGS[:5],
    )


def add_settings(parser: argparse.ArgumentParser) -> None:
    """The flags of the judging settings."""
    _add_flags(
        parser.add_argument_group("what is measured and judged (each flag replaces its key)"), FLAGS[5:]
    )


def _number(flag: str):  # type: ignore[no-untyped-def]
    def parse(text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number such as 0.03, got {text!r}") from None

    return parse


def flags_of(args: argparse.Namespace) -> config.Flags:
    """The flags a command has, given or not (a command without a flag leaves its key alone)."""
    fields = dataclasses.fields(config.Flags)
    return config.Flags(**{f.name: getattr(args, f.name) for f in fields if hasattr(args, f.name)})


def count_revision(
    repo: Path,
    rev: str,
    settings: config.Config,
    select: Sequence[str],
    out: Path,
    known: list[str] | None = None,
) -> dict[str, Any]:
    """One revision built (or taken from the cache) and its benchmarks matching ``select``
    counted with its own tree: name -> ``measure.Measured``. The build is released after.
    When nothing matches, ``known`` (if given) gets every benchmark's name the tree has."""
    from fastfun_gate import builds, git
    from fastfun_gate.commands.compare import keep_names

    measure_ = measure()
    made = builds.build(
        repo, rev, settings.install, measure_.worker_requirements(), cache.folder_from_env(), say, out
    )
    work = Path(tempfile.mkdtemp(prefix="fastfun-gate-"))
    try:
        tests = list(settings.tests)
        keep = keep_names(tests, git.show(repo, made.commit, "pyproject.toml"))
        tree = builds.measured_tree(repo, made, work / "side" / "tree", keep)
        counts = dict(
            measure_.count(
                made.python,
                tree,
                tests,
                select=tuple(config.as_fnmatch(glob) for glob in select),
                out=out / made.commit[:12],
                timeout=settings.timeout,
            )
        )
        if not counts and known is not None:
            known.extend(measure_.collect(made.python, tree, tests))
        return counts
    finally:
        shutil.rmtree(work, ignore_errors=True)
        made.release()
