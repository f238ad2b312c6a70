"""A git revision, built into a virtual environment of its own, cached by what it builds from."""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks import counting
from benchmarks.venvs import make_venv

# What the installed package is built from: the same blobs give the same build.
BUILD_INPUTS = ("src", "setup.py", "pyproject.toml", "MANIFEST.in", "build-constraints.txt")
CONSTRAINTS = "benchmarks/constraints.txt"
EXTRAS = "api,gmp"  # the gate counts what users of fastfun[api] and fastfun[gmp] run


class Undecided(Exception):
    """The gate cannot decide; the message says why, in one line."""


@dataclass(frozen=True)
class CaseInfo:
    name: str
    frozen_on: Sequence[str] | None  # see benchmarks.workloads.Case.frozen_on


@dataclass
class Build:
    rev: str
    commit: str
    home: Path
    tree: Path  # the files it was built from
    python: str  # its environment's interpreter
    fresh: bool = False  # built now, not taken from the cache


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise Undecided(f"git {' '.join(args)}: {result.stderr.strip() or 'failed'}")
    return result.stdout.strip()


def commit_of(repo: Path, rev: str) -> str:
    return git(repo, "rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}")


@functools.cache  # a commit's contents never change: asked once per path
def blob(repo: Path, commit: str, path: str) -> str | None:
    """The object id of ``path`` at ``commit`` (file or folder), None where it does not exist."""
    result = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "-q", f"{commit}:{path}"],
        capture_output=True,
        text=True,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def show(repo: Path, commit: str, path: str) -> str | None:
    result = subprocess.run(
        ["git", "-C", str(repo), "show", f"{commit}:{path}"], capture_output=True, text=True
    )
    return result.stdout if result.returncode == 0 else None


def build_key(repo: Path, commit: str) -> list[str | None]:
    """What a build of ``commit`` depends on in the repository."""
    return [blob(repo, commit, path) for path in BUILD_INPUTS]


def cython_pin(text: str | None) -> str:
    for line in (text or "").splitlines():
        if line.strip().lower().startswith("cython=="):
            return line.split("==", 1)[1].strip()
    raise Undecided("build-constraints.txt pins no Cython version")


_locks: dict[Path, threading.Lock] = {}
_locks_lock = threading.Lock()


def _lock(home: Path) -> threading.Lock:
    """One build at a time per home: base and head may share it."""
    with _locks_lock:
        return _locks.setdefault(home, threading.Lock())


def build(repo: Path, rev: str, cython: str, constraints: str, cache: Path, log: counting.Progress) -> Build:
    """The revision installed with its api and gmp extras into a venv under ``cache``; reused
    while the build inputs, this Python, the Cython pin and the constraints are the same."""
    commit = commit_of(repo, rev)
    key = hashlib.sha256(
        json.dumps([build_key(repo, commit), sys.executable, sys.version, cython, constraints]).encode()
    ).hexdigest()[:16]
    home = cache / key
    python = home / "venv" / "bin" / "python"
    made = Build(rev, commit, home, home / "tree", str(python))
    with _lock(home):
        return _build(repo, made, cython, constraints, log)


def _build(repo: Path, made: Build, cython: str, constraints: str, log: counting.Progress) -> Build:
    rev, commit, home = made.rev, made.commit, made.home
    if (home / "ok").exists():
        log(f"{rev}: cached build {home}")
        return made
    subprocess.run(["rm", "-rf", str(home)], check=True)
    home.mkdir(parents=True)
    _extract(repo, commit, made.tree)
    (home / "constraints.txt").write_text(constraints)
    log(f"{rev}: building {commit[:12]} into {home}")
    installs = [
        [f"Cython=={cython}", "setuptools>=77", "wheel"],
        ["--no-build-isolation", "-c", str(home / "constraints.txt"), f"{made.tree}[{EXTRAS}]"],
    ]
    if make_venv(sys.executable, home / "venv", installs, home / "build.log") is None:
        raise Undecided(f"building {rev} failed: see {home / 'build.log'}")
    (home / "ok").touch()
    made.fresh = True
    return made


def _extract(repo: Path, commit: str, into: Path) -> None:
    subprocess.run(["rm", "-rf", str(into)], check=True)
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(repo), "archive", commit], capture_output=True)
    if archive.returncode != 0:
        raise Undecided(f"git archive {commit[:12]}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)


_LIST = (
    "import json\nfrom benchmarks import workloads\n"
    "print(json.dumps([[c.name, getattr(c, 'frozen_on', None)] for c in workloads.CASES]))"
)


def cases(python: str, harness: Path, who: str) -> list[CaseInfo]:
    """The cases a harness defines, as that build's environment sees them."""
    result = subprocess.run(
        [python, "-c", _LIST], cwd=harness, env=counting.measured_env(), capture_output=True, text=True
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise Undecided(f"the {who}'s benchmarks/workloads.py does not load: {last}")
    return [CaseInfo(name, frozen) for name, frozen in json.loads(result.stdout)]


def harness_of(repo: Path, build_: Build, who: str) -> Path:
    """A private working directory holding the revision's benchmark harness (one per side:
    base and head may share a build)."""

    def read(name: str) -> str:
        text = show(repo, build_.commit, f"benchmarks/{name}")
        if text is None:
            raise Undecided(f"the {who} has no benchmark harness (benchmarks/{name} is missing)")
        return text

    return counting.make_harness(build_.home / f"harness-{who}", read)


def changed(repo: Path, base: str, head: str, paths: Sequence[str]) -> list[str]:
    """The files under ``paths`` that differ between two commits."""
    out = git(repo, "diff", "--name-only", base, head, "--", *paths)
    return [line for line in out.splitlines() if line]


def by_name(infos: Sequence[CaseInfo]) -> dict[str, CaseInfo]:
    return {info.name: info for info in infos}
