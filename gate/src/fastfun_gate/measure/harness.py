"""Running the measured venv's pytest with the plugin, in a fixed environment.

Everything that enters the measured interpreter is the same from run to run and from one
side to the other, whatever the caller's environment and working directory: the environment
is built here from nothing, every path is the same (``Run``), and the plugin's folder holds
all its files before the run starts (the import system lists the folders of ``sys.path``, so
even a file appearing there would move a count).
"""

from __future__ import annotations

import contextlib
import fcntl
import fnmatch
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLUGIN = HERE / "plugin.py"
PLUGIN_MODULE = "_fastfun_gate_plugin"
BOOT = HERE / "boot.py"  # starts pytest with every folder listed in sorted order
BOOT_MODULE = "_fastfun_gate_boot"
PLACE_VARIABLE = "FASTFUN_GATE_PLACE"


def place() -> Path:
    """Where counts run: ``FASTFUN_GATE_PLACE``, else ``/tmp/fastfun-gate-measure-UID`` (under
    /tmp whatever TMPDIR says). Figures are comparable between runs at the same place."""
    return Path(os.environ.get(PLACE_VARIABLE) or f"/tmp/fastfun-gate-measure-{os.getuid()}")


NO_PYTEST = (
    "pytest is not installed in the measured environment: name the project's test requirements"
    " (--requirements, --extra, --group) or add it (--with pytest)"
)


class MeasureError(RuntimeError):
    """The harness itself could not run: valgrind or the C compiler is missing, pytest could
    not start, or the suite does not collect. The message is one line a user can act on."""


@dataclass
class Measured:
    """One benchmark's figures, per measured call.

    ``name``: the pytest node id from the rootdir; ``instructions``: callgrind's Ir per call
    (None when it could not be measured, ``error`` says why in one line); ``calls``: k, the
    calls in the measured profile; ``allocated_blocks``/``allocated_bytes``: allocations made
    by a call (the interpreter's raw, mem and object domains); ``retained_bytes``: bytes still
    allocated after a call and a full collection (a leak); ``profile``: callgrind's dump of the
    k calls (the dump of 0 calls beside it, named ``PROFILE.zero``), for ``functions``.
    """

    name: str
    instructions: int | None
    calls: int
    allocated_blocks: int | None
    allocated_bytes: int | None
    retained_bytes: int | None
    error: str | None
    profile: Path | None


class Run:
    """One pytest run of the plugin, at a fixed place (``place()``).

    Python hashes the strings it holds, and the order of sets and dicts of paths decides the
    order of allocations and so the heap's layout, which moves counts (seen: the same suite
    in two private folders of equal length read different counts). So every path the
    measured interpreter sees is the same on each run and each side: the tree is copied to
    ``PLACE/tree`` (the working directory), the venv is reached through the symlink
    ``PLACE/venv`` (a venv finds its prefix from the path it is started by), and the plugin's
    folder is ``PLACE/p``: ``run.json`` says what to do, ``out/`` gets what the plugin
    writes, ``dumps/`` callgrind's files. One run at a time holds the place (a lock across
    processes); a run spreads over the cores itself (``jobs``).
    """

    def __init__(
        self,
        settings: Mapping[str, object],
        python: Path,
        tree: Path,
        files: Mapping[str, Path] = {},
        exact: bool = True,
    ) -> None:
        """``exact``: at the fixed place (else in a temporary folder, for runs whose figures
        do not need it: collecting, timing)."""
        self.lock: int | None = None
        if exact:
            self.place = place()
            self.place.parent.mkdir(parents=True, exist_ok=True)
            self.lock = os.open(f"{self.place}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self.lock, fcntl.LOCK_EX)
        else:
            self.place = Path(tempfile.mkdtemp(prefix="fastfun-gate-")) / "place"
        try:
            self.lay_out(settings, absolute(python), absolute(tree), files)
        except BaseException:
            self.close()
            raise

    def lay_out(
        self, settings: Mapping[str, object], python: Path, tree: Path, files: Mapping[str, Path]
    ) -> None:
        place = self.place
        shutil.rmtree(place, ignore_errors=True)
        place.mkdir(mode=0o700)
        self.folder = place / "p"
        self.tree = place / "tree"
        try:
            shutil.copytree(tree, self.tree, symlinks=True)
        except OSError as error:
            raise MeasureError(f"cannot copy the tree {tree}: {error}") from None
        venv = python.parent.parent
        if (venv / "pyvenv.cfg").is_file():
            (place / "venv").symlink_to(venv, target_is_directory=True)
            self.python = place / "venv" / python.parent.name / python.name
        else:
            self.python = python
        self.folder.mkdir()
        shutil.copyfile(PLUGIN, self.folder / f"{PLUGIN_MODULE}.py")
        shutil.copyfile(BOOT, self.folder / f"{BOOT_MODULE}.py")
        for name, source in files.items():
            shutil.copyfile(source, self.folder / name)
        (self.folder / "run.json").write_text(json.dumps(dict(settings)))
        (self.folder / "pytest.log").write_text("")
        for sub in ("out", "out/results", "dumps", "home"):
            (self.folder / sub).mkdir()
        self.out = self.folder / "out"

    def close(self) -> None:
        if self.lock is None:
            shutil.rmtree(self.place.parent, ignore_errors=True)
        else:
            shutil.rmtree(self.place, ignore_errors=True)
            os.close(self.lock)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The whole environment of the measured interpreter."""
        env = {
            "PATH": f"{self.python.parent}:/usr/bin:/bin",
            "HOME": str(self.folder / "home"),
            "LC_ALL": "C.UTF-8",
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",  # the tree's listing stays as exported
            "PYTHONPATH": str(self.folder),
        }
        env.update(extra or {})
        return env

    def pytest(self, pytest_args: Sequence[str]) -> list[str]:
        return [
            str(self.python),
            "-S",  # site runs in BOOT_MODULE, after it sorts listings
            "-m",
            BOOT_MODULE,
            "-p",
            PLUGIN_MODULE,
            "-o",
            f"cache_dir={self.folder / 'home' / 'pytest-cache'}",
            # pytest's faulthandler_timeout starts a watchdog thread at every test: it starts
            # whenever valgrind schedules it, often inside a measured phase (seen: its thread
            # start and first malloc, 4,000 instructions, in one side's count of a yarl A/A).
            "-o",
            "faulthandler_timeout=0",
            *pytest_args,
            # pytest's capture files are opened once and shared by every forked child: what one
            # child printed would reach the next one's heap.
            "--capture=no",
        ]

    def execute(
        self,
        command: Sequence[str],
        env: Mapping[str, str],
        timeout: float,
    ) -> subprocess.CompletedProcess[str]:
        log = self.folder / "pytest.log"
        with open(log, "w") as output:
            try:
                running = subprocess.Popen(
                    list(command),
                    cwd=self.tree,
                    env=dict(env),
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    text=True,
                    start_new_session=True,
                )
            except OSError as error:
                raise MeasureError(f"cannot run {command[0]}: {error.strerror}") from None
            try:
                status = running.wait(timeout)
            except subprocess.TimeoutExpired:
                raise MeasureError(f"pytest ran over {timeout:.0f} s and was stopped") from None
            finally:
                # The whole session: the benchmarks' forked children too, which outlive their
                # parent (and hold the place's files) when only it is killed.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(running.pid, signal.SIGKILL)
                running.wait()
        process = subprocess.CompletedProcess(list(command), status, log.read_text(errors="replace"))
        self.failure(process)
        return process

    def failure(self, process: subprocess.CompletedProcess[str]) -> None:
        """Raise MeasureError when the run did not get as far as listing the benchmarks."""
        error = self.out / "error.json"
        if error.exists():
            raise MeasureError(json.loads(error.read_text())["error"])
        if not (self.out / "names.json").exists():
            reason = last_reason(process.stdout)
            if reason.endswith("No module named pytest"):
                raise MeasureError(NO_PYTEST)
            raise MeasureError(f"pytest exited with status {process.returncode}: {reason}")

    def names(self) -> list[str]:
        names: list[str] = json.loads((self.out / "names.json").read_text())
        return names

    def save_log(self, out: Path, name: str) -> None:
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.folder / "pytest.log", out / name)


def last_reason(output: str) -> str:
    """pytest's own one-line reason from its output: a usage error, an internal error's last
    line, or the last line it printed."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for at, line in enumerate(lines):
        if line.startswith("ERROR: usage:"):
            # argparse's reason is the next line, "prog: error: unrecognized arguments: ...",
            # often options of the project's addopts whose plugin is not installed.
            return usage_reason(lines[at + 1 :]) or line
        if line.startswith(("ERROR: ", "ImportError while loading conftest")):
            return line
    for line in reversed(lines):
        if line.startswith(("E ", "INTERNALERROR> E ")):
            return line.split("E ", 1)[1].strip()
    return lines[-1] if lines else "no output"


def usage_reason(lines: Sequence[str]) -> str | None:
    """argparse's reason after pytest's usage line, with the ini file its addopts came from."""
    reason = next((line.split(": error: ", 1)[1] for line in lines[:2] if ": error: " in line), None)
    if reason is None:
        return None
    inifile = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("inifile:")), "")
    return f"{reason} (pytest's configuration: {Path(inifile).name})" if inifile else reason


def absolute(path: Path | str) -> Path:
    # Not resolved: a venv's python is a symlink, and resolving it leaves the venv.
    return Path(os.path.abspath(path))


def collect(
    python: Path,
    tree: Path,
    pytest_args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 600.0,
    out: Path | None = None,
) -> list[str]:
    """The node ids of the benchmarks the suite defines, in collection order, without
    valgrind (the project's own configuration applies; doctests are not collected).
    ``env``: variables added to the fixed environment; ``out``: where pytest's output is kept
    as ``collect.log`` when it fails. Raises MeasureError when pytest cannot start or the
    suite does not collect (pytest's one-line reason)."""
    with Run({"mode": "collect"}, python, tree, exact=False) as run:
        try:
            run.execute(run.pytest(pytest_args), run.environment(env), timeout)
        except MeasureError:
            if out is not None:
                run.save_log(absolute(out), "collect.log")
            raise
        return run.names()


def shard_of(name: str, shards: int) -> int:
    """The 1-based shard of a benchmark among ``shards``: a stable hash of its name alone, so
    every benchmark is in exactly one shard whatever the others are."""
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % shards + 1


def chosen(names: Sequence[str], select: Sequence[str], shard: tuple[int, int] | None) -> list[bool]:
    """Which of ``names`` to measure: equal to, or matching as an fnmatch glob, one of
    ``select`` (all when none: a node id's ``[param]`` reads as a glob's character class, so
    an exact id is taken as it is), and in shard ``(K, N)``."""
    if shard is not None:
        k, n = shard
        if not (isinstance(k, int) and isinstance(n, int) and 1 <= k <= n):
            raise ValueError(f"a shard is (K, N) with 1 <= K <= N, not {shard!r}")
    return [
        (not select or any(name == glob or fnmatch.fnmatchcase(name, glob) for glob in select))
        and (shard is None or shard_of(name, shard[1]) == shard[0])
        for name in names
    ]
