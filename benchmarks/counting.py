"""Instruction counts per round, exact: callgrind counts only the measured rounds.

Each case is counted in a callgrind process of its own (``benchmarks/_child.py`` runs inside
it). Instrumentation is off during start-up and imports, and callgrind's client requests
(``callgrind_bridge.c``) switch it on around the rounds and dump one profile of zero rounds
and one of ``k`` rounds per case, through the same code: their difference over ``k`` is the
cost of one round.

What could still move a count is the state of the measured interpreter's heap before the
rounds, so that interpreter is given nothing from the caller: it runs in a private directory
holding a copy of the harness (``_child.py``, ``workloads.py``), with a fixed environment,
``PYTHONHASHSEED=0`` and address randomisation off. The caller's working directory, its
environment and whatever happens in them cannot reach a count (``tests/tooling`` proves it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from benchmarks._child import SEPARATOR

HERE = Path(__file__).resolve().parent
BRIDGE_SOURCE = HERE / "callgrind_bridge.c"
# The files a measured interpreter imports from the tooling; everything else stays out.
HARNESS = ("__init__.py", "_child.py", "workloads.py")
_TOTALS = re.compile(r"^totals:\s+(\d+)", re.MULTILINE)
_TRIGGER = re.compile(r"^desc: Trigger: Client Request: (.*)$", re.MULTILINE)

Progress = Callable[[str], None]


class CountError(RuntimeError):
    """valgrind could not count: it is missing, or the measured process failed."""


@dataclass
class Counted:
    """One case's count. ``per_round`` is None when the build cannot run the case
    (``error`` says why) or when it ran past its time limit (``timed_out``)."""

    name: str
    per_round: float | None = None
    rounds: int = 0
    seconds: float = 0.0  # the whole process
    measured_seconds: float = 0.0  # the instrumented part: the rounds under callgrind
    error: str | None = None
    timed_out: bool = False
    # callgrind's dumps of the k rounds and of zero rounds, where the caller keeps them
    profile: Path | None = None
    zero_profile: Path | None = None
    # Per round, counted after the instructions with the interpreter's allocators wrapped:
    # blocks and bytes allocated, blocks retained after a full collection; and garbage
    # collector runs per 1,000 rounds with the collector on (information only).
    blocks: float | None = None
    bytes: float | None = None
    retained: float | None = None
    gc_runs: float | None = None


def valgrind_available() -> bool:
    return shutil.which("valgrind") is not None and shutil.which("setarch") is not None


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(os.environ.get("FASTFUN_BENCH_CACHE") or os.path.join(base, "fastfun-bench"))


def bridge() -> Path:
    """The bridge library, compiled once per source, compiler and Python (the measured
    interpreters are this Python or venvs of it: its headers fit them)."""
    source = BRIDGE_SOURCE.read_bytes()
    compiler = os.environ.get("CC", "cc")
    include = sysconfig.get_paths()["include"]
    key = hashlib.sha256(source + f"{compiler} {include} {sys.version}".encode()).hexdigest()[:16]
    library = cache_dir() / f"callgrind_bridge-{key}.so"
    if library.exists():
        return library
    library.parent.mkdir(parents=True, exist_ok=True)
    partial = library.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
    result = subprocess.run(
        [compiler, "-O2", "-shared", "-fPIC", f"-I{include}", "-o", str(partial), str(BRIDGE_SOURCE)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise CountError(
            "cannot build the callgrind bridge (valgrind's headers come with the "
            f"valgrind package): {result.stderr.strip()[-300:]}"
        )
    partial.replace(library)
    return library


def measured_env() -> dict[str, str]:
    """The whole environment of a measured interpreter: fixed, whatever the caller's is."""
    return {
        "PATH": os.defpath,
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "FASTFUN_REQUIRE_EXTENSIONS": "1",
    }


def make_harness(into: Path, read: Callable[[str], str] = lambda name: (HERE / name).read_text()) -> Path:
    """A private working directory for measured interpreters, holding the harness files
    (``read(name)`` gives each one's text; by default this package's own)."""
    (into / "benchmarks").mkdir(parents=True, exist_ok=True)
    for name in HARNESS:
        (into / "benchmarks" / name).write_text(read(name))
    return into


def _dumps(folder: Path) -> dict[str, Path]:
    found = {}
    for path in folder.glob("cg.*.*"):
        trigger = _TRIGGER.search(path.read_text(errors="replace"))
        if trigger:
            found[trigger.group(1)] = path
    return found


def _totals(path: Path) -> int:
    match = _TOTALS.search(path.read_text(errors="replace"))
    if match is None:
        raise CountError(f"{path}: callgrind wrote no totals")
    return int(match.group(1))


def count_one(
    name: str,
    *,
    python: str = sys.executable,
    harness: Path | None = None,
    timeout: float | None = None,
    keep: Path | None = None,
    rounds: int | None = None,
) -> Counted:
    """One case's count, in a callgrind process of its own: no other case's work can move
    it (run in one process, cases were seen to shift each other's counts through the
    interpreter's specialisation caches and the heap). ``harness``: a directory from
    make_harness (default: this package's own). ``keep``: a folder where its profiles stay.
    ``rounds``: instead of the case's own number (a slow head counted once to explain it)."""
    library = bridge()
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fastfun-count-") as scratch:
        run_dir = harness or make_harness(Path(scratch) / "harness")
        out = Path(scratch) / "profiles"
        out.mkdir()
        command = [
            "setarch",
            "-R",
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}/cg.%p",
            python,
            "-m",
            "benchmarks._child",
            "count",
            str(library),
            *(["--rounds", str(rounds)] if rounds else []),
            name,
        ]
        try:
            result = subprocess.run(
                command, cwd=run_dir, env=measured_env(), text=True, capture_output=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return Counted(name, seconds=time.monotonic() - began, timed_out=True)
        seconds = time.monotonic() - began
        lines = result.stdout.splitlines()
        for line in lines:
            if line.startswith(f"cannot {name} "):
                return Counted(name, seconds=seconds, error=line[len(f"cannot {name} ") :])
        done = [line for line in lines if line.startswith(f"done {name} ")]
        if result.returncode != 0 or not done:
            tail = "\n".join(result.stderr.splitlines()[-12:])
            raise CountError(f"callgrind failed on {name} (exit {result.returncode}):\n{tail}")
        rounds_text, measured = done[0][len(f"done {name} ") :].split()
        k = int(rounds_text)
        dumps = _dumps(out)
        zero, full = dumps.get(f"{name}{SEPARATOR}0"), dumps.get(f"{name}{SEPARATOR}{k}")
        if zero is None or full is None:
            raise CountError(f"callgrind wrote no profile for {name}")
        counted = Counted(name, (_totals(full) - _totals(zero)) / k, k, seconds, float(measured))
        for line in lines:
            if line.startswith(f"memory {name} "):
                figures = [float(x) for x in line[len(f"memory {name} ") :].split()]
                counted.blocks, counted.bytes, counted.retained, counted.gc_runs = figures
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            counted.profile = keep / f"callgrind.out.{_file_name(name)}"
            counted.zero_profile = keep / f"callgrind.out.{_file_name(name)}.zero-rounds"
            shutil.copyfile(full, counted.profile)
            shutil.copyfile(zero, counted.zero_profile)
        return counted


def _file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")


def count(
    names: Sequence[str],
    *,
    jobs: int = 0,
    progress: Progress | None = None,
    **options: object,
) -> dict[str, Counted]:
    """``count_one`` for many cases, ``jobs`` at a time (default: one per CPU): counts do
    not depend on the load. ``progress`` gets a line per case as it is counted."""
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(names) or 1))

    def one(name: str) -> Counted:
        counted = count_one(name, **options)  # type: ignore[arg-type]
        if progress:
            progress(describe(counted))
        return counted

    with ThreadPoolExecutor(jobs) as pool:
        return dict(zip(names, pool.map(one, names), strict=True))


def figures(counts: dict[str, Counted]) -> dict[str, float]:
    """Instructions per round of every case that was counted."""
    return {name: c.per_round for name, c in counts.items() if c.per_round is not None}


def describe(counted: Counted) -> str:
    """The progress line of one count."""
    if counted.timed_out:
        return f"{counted.name}: stopped after {counted.seconds:.1f} s"
    if counted.per_round is None:
        return f"{counted.name}: cannot run ({counted.error})"
    return f"{counted.name}: {counted.per_round:,.1f} instructions per round ({counted.seconds:.1f} s)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks count", description="Print the instructions per round of every case."
    )
    parser.add_argument(
        "filters", nargs="*", metavar="FILTER", help="only cases whose name contains one of these"
    )
    parser.add_argument("-o", "--output", help="also write the counts as JSON to this file")
    args = parser.parse_args(argv)
    if not valgrind_available():
        print("counting: valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    from benchmarks.workloads import CASES

    names = [case.name for case in CASES if not args.filters or any(f in case.name for f in args.filters)]
    try:
        counts = count(names, progress=lambda line: print(line, flush=True))
    except CountError as error:
        print(f"counting: {error}", file=sys.stderr)
        return 2
    figures = {
        name: {
            "instructions": c.per_round,
            "blocks": c.blocks,
            "bytes": c.bytes,
            "retained": c.retained,
            "gc_runs": c.gc_runs,
        }
        for name, c in counts.items()
    }
    if args.output:
        Path(args.output).write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if all(c.per_round is not None for c in counts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
