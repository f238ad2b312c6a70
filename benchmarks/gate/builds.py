"""A git revision, built into a virtual environment of its own, cached by what it builds from."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks import counting
from benchmarks.gate import cache as build_cache
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
    lease: build_cache.Lease | None = None  # held: the cache cannot prune it

    def release(self) -> None:
        if self.lease is not None:
            self.lease.release()


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


def cache_key(repo: Path, commit: str, cython: str, constraints: str) -> str:
    """The name of a build in the cache: the same for the same build inputs, Python (this
    interpreter, by path and version), Cython pin and constraints."""
    return hashlib.sha256(
        json.dumps([build_key(repo, commit), sys.executable, sys.version, cython, constraints]).encode()
    ).hexdigest()[:16]


def toolchain(repo: Path, commit: str) -> tuple[str, str]:
    """What builds every revision a gate compares: the Cython pin and the constraints of the
    base ``commit`` (this gate's constraints where the base has none)."""
    cython = cython_pin(show(repo, commit, "build-constraints.txt"))
    constraints = show(repo, commit, CONSTRAINTS)
    if constraints is None:
        constraints = (Path(__file__).resolve().parents[2] / CONSTRAINTS).read_text()
    return cython, constraints


def cython_pin(text: str | None) -> str:
    for line in (text or "").splitlines():
        if line.strip().lower().startswith("cython=="):
            return line.split("==", 1)[1].strip()
    raise Undecided("build-constraints.txt pins no Cython version")


def build(
    repo: Path,
    rev: str,
    cython: str,
    constraints: str,
    cache: Path,
    log: counting.Progress,
    logs: Path | None = None,
) -> Build:
    """The revision installed with its api and gmp extras into a venv under ``cache``; reused
    while the build inputs, this Python, the Cython pin and the constraints are the same. The
    build stays held (never pruned) until ``Build.release`` or the end of the process. A build
    made now leaves its log in ``logs``, when given."""
    commit = commit_of(repo, rev)
    key = cache_key(repo, commit, cython, constraints)
    home = cache / key
    made = Build(rev, commit, home, home / "tree", str(home / "venv" / "bin" / "python"))

    def make(into: Path) -> None:
        log(f"{rev}: building {commit[:12]} into {into}")
        built = _make(repo, made, cython, constraints)
        whole = into / "build.log"
        if logs is not None:  # uploaded with the report in CI, where the cache is not
            logs.mkdir(parents=True, exist_ok=True)
            whole = Path(shutil.copyfile(whole, logs / f"build-{commit[:12]}.log"))
        if not built:
            raise Undecided(
                f"building {rev} ({commit[:12]}) failed: {failure_lines(whole.read_text())} "
                f"(whole log: {whole})"
            )

    try:
        made.lease, made.fresh = build_cache.acquire(
            cache, key, make, bound=build_cache.bound_from_env(), say=log
        )
    except (ValueError, TimeoutError) as error:
        raise Undecided(str(error)) from None
    if not made.fresh:
        log(f"{rev}: cached build {home}")
    return made


# pip's own closing lines of a failed install, which say only that something failed
_BOILERPLATE = re.compile(r"^\s*(note:|hint:|\u00d7|\u2570\u2500>|\u2502|\[end of output\]|error: [a-z-]+$)")
_DIAGNOSTIC = re.compile(r"^\s*(\S+:\d+(:\d+)?: .*|ERROR: .*)$")


def failure_lines(log_text: str, count: int = 3) -> str:
    """The last lines of a failed build's log that say why, on one line: the compiler's or
    pip's last diagnostics, else the last lines that are not pip's boilerplate."""
    lines = [line.strip() for line in log_text.splitlines() if line.strip()]
    found = [line for line in lines if _DIAGNOSTIC.match(line)]
    if not found:
        found = [line for line in lines if not _BOILERPLATE.match(line)]
    return " | ".join(found[-count:]) or "the log is empty"


def _make(repo: Path, made: Build, cython: str, constraints: str) -> bool:
    """Builds into ``made.home``, logging to its build.log; False when the build failed."""
    _extract(repo, made.commit, made.tree)
    (made.home / "constraints.txt").write_text(constraints)
    installs = [
        [f"Cython=={cython}", "setuptools>=77", "wheel"],
        ["--no-build-isolation", "-c", str(made.home / "constraints.txt"), f"{made.tree}[{EXTRAS}]"],
    ]
    return make_venv(sys.executable, made.home / "venv", installs, made.home / "build.log") is not None


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
