"""The benchmark gate: block a performance regression before it merges.

    python -m benchmarks.gate --base REV [--head REV] [--threshold 0.03] [--cases TEXT]

Both revisions are built from git into their own virtual environments with this Python and
the same Cython, and measured here, in this run, with the head's workload definitions:

- decisive: instructions per round (callgrind), head / base; above 1 + threshold fails. Every
  count is taken twice and must agree exactly, or the case is an error, not a pass;
- tripwire: wall time in interleaved base/head rounds, the median of the per-pair ratios;
  fails only above 1.5x (it catches what counts cannot see: a sleep, I/O). A head round that
  runs over 20x its base is stopped and counted a regression, not waited for.

Exit status: 0 no regression, 1 regression, 2 could not decide. A slowdown made on purpose
passes when the head commit carries a ``Performance-Accepted: <reason>`` trailer.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from benchmarks import instructions

TRIPWIRE = 1.5
HANG = 20.0
PAIRS = 7
# A timed round should last long enough to dwarf the clock, short enough to keep the gate quick.
ROUND_SECONDS = 0.02
CACHE = Path(os.environ.get("FASTFUN_GATE_CACHE", Path(tempfile.gettempdir()) / "fastfun-gate"))


class Undecided(Exception):
    """The gate cannot decide: a build failed, or counts were not repeatable."""


@dataclass
class Build:
    rev: str
    commit: str
    tree: Path  # the revision's files
    python: str  # its environment's interpreter


@dataclass
class Row:
    name: str
    base: Optional[float] = None
    head: Optional[float] = None
    time_ratio: Optional[float] = None
    notes: List[str] = field(default_factory=list)

    @property
    def ratio(self) -> Optional[float]:
        if self.base is None or self.head is None:
            return None
        return self.head / self.base


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise Undecided(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def _cython_pin(repo: Path) -> str:
    """The Cython both builds use: the repository's build constraint, one version for both."""
    for line in (repo / "build-constraints.txt").read_text().splitlines():
        if line.lower().startswith("cython=="):
            return line.split("==", 1)[1].strip()
    raise Undecided("build-constraints.txt pins no Cython version")


def _home(repo: Path, commit: str, cython: str) -> Path:
    tree_id = _git(repo, "rev-parse", f"{commit}^{{tree}}")
    key = hashlib.sha256(f"{tree_id} {sys.executable} {sys.version} {cython}".encode()).hexdigest()[:16]
    return CACHE / key


def build(repo: Path, rev: str, cython: str) -> Build:
    """The revision's files and an environment with it installed; reused while the tree,
    this Python and the Cython version are the same."""
    commit = _git(repo, "rev-parse", "--verify", f"{rev}^{{commit}}")
    home = _home(repo, commit, cython)
    python = home / "venv" / "bin" / "python"
    if (home / "ok").exists():
        return Build(rev, commit, home / "tree", str(python))
    subprocess.run(["rm", "-rf", str(home)], check=True)
    (home / "tree").mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(repo), "archive", commit], capture_output=True)
    if archive.returncode != 0:
        raise Undecided(f"git archive {rev}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(home / "tree")], input=archive.stdout, check=True)
    log = home / "build.log"
    with log.open("w") as out:
        steps = [
            [sys.executable, "-m", "venv", str(home / "venv")],
            [str(python), "-m", "pip", "install", "-q", f"Cython=={cython}", "setuptools>=77", "wheel"],
            [str(python), "-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps", str(home / "tree")],
        ]
        for step in steps:
            if subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, env=_build_env()).returncode:
                raise Undecided(f"building {rev} failed: see {log}")
    (home / "ok").touch()
    return Build(rev, commit, home / "tree", str(python))


def _build_env() -> Dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FASTFUN_")}


def count(build_: Build, name: str, cwd: Path, timeout: Optional[float] = None) -> Optional[float]:
    """Instructions per round of ``name`` for one build, measured twice; None when the build
    cannot run that case (a workload newer than the build)."""
    try:
        return instructions.count(name, python=build_.python, cwd=str(cwd), repeat=2, timeout=timeout)
    except instructions.NotRunnable:
        return None
    except instructions.CountError as error:
        raise Undecided(str(error)) from None


def time_rounds(build_: Build, cwd: Path, name: str, rounds: int, timeout: float) -> Optional[float]:
    """Seconds for ``rounds`` rounds in a fresh interpreter of the build; None past the
    timeout. Fresh processes on purpose: one long-lived process per side carries its own
    memory layout, and that alone was seen to skew identical builds by 30%."""
    env = {**_build_env(), "FASTFUN_REQUIRE_EXTENSIONS": "1"}
    try:
        result = subprocess.run([build_.python, "-m", "benchmarks._child", name, str(rounds), "--time"],
                                cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if result.returncode != 0:
        return float("nan")
    return float(result.stdout.strip().splitlines()[-1])


def tripwire(base: Build, head: Build, cwd: Path, name: str) -> tuple[Optional[float], bool]:
    """Median head/base time ratio over interleaved pairs; True when head hung (>20x)."""
    once = time_rounds(base, cwd, name, 1, timeout=600)
    if once is None or once != once:
        return None, False
    rounds = max(1, int(ROUND_SECONDS / max(once, 1e-9)))
    ratios = []
    for _ in range(PAIRS):
        started = time.monotonic()
        b = time_rounds(base, cwd, name, rounds, timeout=600)
        # The head's limit covers its start-up too: 20x the base's whole run, at least 5 s.
        h = time_rounds(head, cwd, name, rounds, timeout=max(HANG * (time.monotonic() - started), 5.0))
        if h is None:
            return None, True
        if b is None or b != b or h != h:
            return None, False
        ratios.append(h / b)
    return statistics.median(ratios), False


def accepted_reason(repo: Path, commit: str) -> str:
    return _git(repo, "log", "-1", "--format=%(trailers:key=Performance-Accepted,valueonly)", commit).strip()


def run_gate(repo: Path, base_rev: str, head_rev: str, threshold: float, pattern: str) -> int:
    began = time.monotonic()
    cython = _cython_pin(repo)
    print(f"gate: building {base_rev} and {head_rev} (Python {sys.version.split()[0]}, Cython {cython})",
          flush=True)
    base = build(repo, base_rev, cython)  # first: when head has the same tree, it is reused
    head = build(repo, head_rev, cython)
    # The head's workload definitions measure both builds.
    from_head = head.tree
    patterns = [p for p in pattern.split(",") if p]
    head_cases = [name for name in _case_names(head) if not patterns or any(p in name for p in patterns)]
    if not head_cases:
        raise Undecided(f"no benchmark case matches {pattern!r}")
    rows = {name: Row(name) for name in head_cases}

    print(f"gate: counting instructions for {len(rows)} cases, twice each", flush=True)
    start = time.monotonic()

    def measure(name: str) -> None:
        row = rows[name]
        t0 = time.monotonic()
        row.base = count(base, name, from_head)
        limit = None if row.base is None else HANG * (time.monotonic() - t0) + 60
        try:
            row.head = count(head, name, from_head, timeout=limit)
        except instructions.TimedOut:
            row.notes.append("head ran over 20x the base's time: stopped")
            row.head = float("inf")

    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        list(pool.map(measure, head_cases))
    print(f"gate: counted in {time.monotonic() - start:.0f} s; timing interleaved rounds", flush=True)

    for name, row in rows.items():
        if row.base is None or row.head == float("inf"):
            continue
        row.time_ratio, hung = tripwire(base, head, from_head, name)
        if hung:
            row.notes.append("a timed head round ran over 20x its base: stopped")
            row.time_ratio = float("inf")

    regressions = 0
    print(f"\n{'benchmark':<36} {'base':>14} {'head':>14} {'ratio':>7} {'time':>7}  verdict")
    for row in rows.values():
        verdict = _verdict(row, threshold)
        regressions += verdict.startswith("REGRESSION")
        fmt = lambda v: "-" if v is None else ("stopped" if v == float("inf") else f"{v:,.0f}")  # noqa: E731
        ratio = "-" if row.ratio is None else ("inf" if row.ratio == float("inf") else f"{row.ratio:.3f}")
        timed = "-" if row.time_ratio is None else ("inf" if row.time_ratio == float("inf") else f"{row.time_ratio:.2f}")
        print(f"{row.name:<36} {fmt(row.base):>14} {fmt(row.head):>14} {ratio:>7} {timed:>7}  {verdict}"
              + "".join(f"; {n}" for n in row.notes))
    print(f"\n(base {base.rev} = {base.commit[:12]}, head {head.rev} = {head.commit[:12]}; instructions per "
          f"round; 'time' is the tripwire, median head/base of {PAIRS} interleaved pairs; "
          f"the gate took {time.monotonic() - began:.0f} s)")
    if not regressions:
        print(f"gate: no regression: every instruction ratio within +{threshold:.0%}, every time ratio "
              f"within {TRIPWIRE}x")
        return 0
    reason = accepted_reason(repo, head.commit)
    if reason:
        print(f"gate: {regressions} regression(s), accepted by the head commit: "
              f"Performance-Accepted: {reason}")
        return 0
    print(f"gate: REGRESSION in {regressions} case(s): more than +{threshold:.0%} instructions or "
          f"{TRIPWIRE}x time (add a 'Performance-Accepted: <reason>' trailer if it is meant)")
    return 1


def _verdict(row: Row, threshold: float) -> str:
    if row.base is None:
        return "new (the base cannot run it)"
    ratio = row.ratio
    assert ratio is not None
    if ratio > 1 + threshold:
        return "REGRESSION (instructions)"
    if row.time_ratio is not None and row.time_ratio > TRIPWIRE:
        return "REGRESSION (time tripwire)"
    if ratio < 1 - threshold:
        return "improved"
    return "ok"


def _case_names(head: Build) -> List[str]:
    """The cases as the head defines them in the head's environment (gmpy2 cases only
    where gmpy2 is installed: the gate's environments have none)."""
    code = "import json; from benchmarks.workloads import CASES; print(json.dumps([c.name for c in CASES]))"
    result = subprocess.run([head.python, "-c", code], cwd=head.tree, capture_output=True, text=True)
    if result.returncode != 0:
        raise Undecided(f"the head's benchmarks/workloads.py does not load: {result.stderr.strip()[-300:]}")
    names: List[str] = json.loads(result.stdout)
    return names


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", help="the revision to compare against, e.g. origin/main or HEAD~1")
    parser.add_argument("--head", default="HEAD", help="default: HEAD")
    parser.add_argument("--threshold", type=float, default=0.03,
                        help="the largest accepted instruction increase, as a fraction (default 0.03)")
    parser.add_argument("--cases", default="",
                        help="only cases whose name contains one of these comma-separated texts")
    parser.add_argument("--repo", default=".", help="the git repository (default: here)")
    args = parser.parse_args(argv)
    if not args.base:
        parser.error("--base is required")
    if not instructions.valgrind_available():
        print("gate: could not decide: valgrind is not installed", file=sys.stderr)
        return 2
    try:
        return run_gate(Path(args.repo).resolve(), args.base, args.head, args.threshold, args.cases)
    except Undecided as error:
        print(f"gate: could not decide: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
