"""A git revision built as its users get it: a non-editable wheel from its tree (``pip wheel
--no-deps``, build isolation with the build requirements that revision declares), installed
with its test requirements into a venv of its own, cached by every input of the build.

A build lives in the cache folder (see ``cache``) under its key::

    <key>/src/        the revision's tree the wheel is built from
    <key>/wheel/      the wheel
    <key>/venv/       the measured environment
    <key>/build.log   every command and its output
    <key>/build.json  the wheel's file name and its top-level import names
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
import zipfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from fastfun_gate import __version__, cache, git
from fastfun_gate.config import Install
from fastfun_gate.errors import Undecided

Say = Callable[[str], None]

# Environment variables that change what pip builds or installs: part of the key. The
# project's own switches (``*_NO_EXTENSIONS``, msgpack's ``*_PUREPYTHON``) are among them.
_RELEVANT = re.compile(
    r"^(PIP_\w+|CC|CXX|CPP|AR|LD|LDSHARED|CFLAGS|CPPFLAGS|CXXFLAGS|LDFLAGS|ARCHFLAGS|CMAKE_\w+|SKBUILD_\w+"
    r"|SETUPTOOLS_\w+|MESON\w*|CYTHON\w*|PYO3_\w+|SOURCE_DATE_EPOCH|\w+_NO_EXTENSIONS|\w+_PUREPYTHON)$"
)
PIP_WITH_GROUPS = "pip>=25.1"  # the first pip with --group (PEP 735 dependency groups)


@dataclass
class Build:
    rev: str
    commit: str
    key: str
    home: Path
    fresh: bool = False  # made now, not taken from the cache
    lease: cache.Lease | None = None  # held: the cache cannot prune it while the gate runs

    @property
    def python(self) -> Path:
        return self.home / "venv" / "bin" / "python"

    @property
    def top_level(self) -> list[str]:
        """The import names the wheel installs at the top level (packages and modules)."""
        return list(json.loads((self.home / "build.json").read_text())["top_level"])

    def release(self) -> None:
        if self.lease is not None:
            self.lease.release()


def relevant_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    environ = dict(os.environ if environ is None else environ)
    return {name: value for name, value in sorted(environ.items()) if _RELEVANT.match(name)}


# sysconfig fills its variables on first use, and not thread-safely: on CPython 3.11 a thread
# reading SOABI while another fills them was seen to get None (about 1 run in 20), so one side
# of a comparison, whose two builds are named at once, got another name and was built again.
_INTERPRETER_LOCK = threading.Lock()


def interpreter() -> list[str]:
    """The Python that makes the builds, as a build's key names it: read once, under a lock."""
    with _INTERPRETER_LOCK:
        return list(_interpreter())


@functools.cache
def _interpreter() -> tuple[str, ...]:
    abi = sysconfig.get_config_var("SOABI") or sysconfig.get_config_var("EXT_SUFFIX")
    return (platform.python_implementation(), sys.version, str(Path(sys.executable).resolve()), str(abi))


def key_inputs(repo: Path, commit: str, install: Install, worker: Sequence[str]) -> dict[str, object]:
    """Everything a build depends on, beside what pip fetches: the same inputs, the same build."""
    return {
        "tree": git.tree_of(repo, commit),
        "python": interpreter(),
        "gate": __version__,
        "install": asdict(install),
        "worker": list(worker),
        "environment": relevant_environment(),
    }


def key_of(repo: Path, commit: str, install: Install, worker: Sequence[str]) -> str:
    """The name of the commit's build in the cache (what CI caches it under)."""
    text = json.dumps(key_inputs(repo, commit, install, worker), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def build(
    repo: Path,
    rev: str,
    install: Install,
    worker: Sequence[str],
    folder: Path,
    say: Say,
    logs: Path | None = None,
    label: str | None = None,
) -> Build:
    """The revision built into the cache ``folder`` (or taken from it), held until
    ``Build.release`` or the end of the process. A build made now leaves a copy of its log in
    ``logs``; a failed one raises Undecided quoting its last diagnostics. ``label`` names the
    revision in messages (default: ``rev``)."""
    commit = git.commit_of(repo, rev)
    rev = label or rev
    key = key_of(repo, commit, install, worker)
    made = Build(rev, commit, key, folder / key)

    def make(home: Path) -> None:
        say(f"{rev}: building {commit[:12]} into {home}")
        ok = _make(repo, commit, install, worker, home)
        log = home / "build.log"
        if logs is not None:  # uploaded with the report in CI, where the cache is not
            logs.mkdir(parents=True, exist_ok=True)
            log = Path(shutil.copyfile(log, logs / f"build-{commit[:12]}.log"))
        if not ok:
            raise Undecided(
                f"building {rev} ({commit[:12]}) failed: {failure_lines(log.read_text())} (log: {log})"
            )

    try:
        made.lease, made.fresh = cache.acquire(folder, key, make, bound=cache.bound_from_env(), say=say)
    except (ValueError, TimeoutError) as error:
        raise Undecided(str(error)) from None
    if not made.fresh:
        say(f"{rev}: cached build {made.home}")
    return made


# pip's own closing lines of a failed install, which say only that something failed
_BOILERPLATE = re.compile(
    r"^\s*(note:|hint:|\u00d7|\u2570\u2500>|\u2502|\[end of output\]|error: [a-z-]+$|\$ )"
)
# Colour (pip and compilers colour their output under FORCE_COLOR, as CI runners often set it)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_DIAGNOSTIC = re.compile(r"^\s*(\S+:\d+(:\d+)?: .*|ERROR: .*)$")


def failure_lines(log_text: str, count: int = 3) -> str:
    """The last lines of a failed build's log that say why, on one line: the compiler's or
    pip's last diagnostics, else the last lines that are not pip's boilerplate."""
    lines = [line.strip() for line in _ANSI.sub("", log_text).splitlines() if line.strip()]
    found = [line for line in lines if _DIAGNOSTIC.match(line)]
    if not found:
        found = [line for line in lines if not _BOILERPLATE.match(line)]
    return " | ".join(found[-count:]) or "the log is empty"


def _run(command: list[str], log: Path, cwd: Path, env: dict[str, str] | None = None) -> bool:
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        return subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT).returncode == 0


def _make(repo: Path, commit: str, install: Install, worker: Sequence[str], home: Path) -> bool:
    """Builds into ``home``, logging to its build.log; False when a step failed."""
    src, log = home / "src", home / "build.log"
    git.export(repo, commit, src)
    for path in (*install.requirements, *install.constraints):
        if not (src / path).is_file():
            log.write_text(
                f"ERROR: the requirements or constraints file {path} is not in {commit[:12]}'s tree\n"
            )
            return False
    constraints = [str(src / path) for path in install.constraints]
    python = str(home / "venv" / "bin" / "python")
    pip = [python, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    steps = [[sys.executable, "-m", "venv", str(home / "venv")]]
    if install.groups:
        steps.append([*pip, "install", PIP_WITH_GROUPS])
    if not all(_run(step, log, home) for step in steps):
        return False
    # Build isolation installs the build requirements in a pip of its own: it reads the
    # constraints from the environment (PIP_BUILD_CONSTRAINT from pip 25.3 on, PIP_CONSTRAINT before).
    isolated = dict(os.environ)
    for variable in ("PIP_CONSTRAINT", "PIP_BUILD_CONSTRAINT"):
        isolated[variable] = " ".join(filter(None, [os.environ.get(variable, ""), *constraints]))
    wheel_step = [*pip, "wheel", "--no-deps", "--wheel-dir", str(home / "wheel"), str(src)]
    if not _run(wheel_step, log, home, isolated if constraints else None):
        return False
    wheel = next((home / "wheel").glob("*.whl"))
    name = wheel.name.split("-", 1)[0]
    extras = f"[{','.join(install.extras)}]" if install.extras else ""
    command = [*pip, "install", f"{name}{extras} @ {wheel.as_uri()}"]
    command += [item for path in install.requirements for item in ("-r", str(src / path))]
    command += [item for path in constraints for item in ("-c", path)]
    command += [item for group in install.groups for item in ("--group", f"{src / 'pyproject.toml'}:{group}")]
    if not _run([*command, *install.with_, *worker], log, src):
        return False
    (home / "build.json").write_text(json.dumps({"wheel": wheel.name, "top_level": top_level(wheel)}))
    return True


def top_level(wheel: Path) -> list[str]:
    """The import names a wheel installs at the top of site-packages."""
    names = set()
    with zipfile.ZipFile(wheel) as archive:
        for entry in archive.namelist():
            first, slash, _ = entry.partition("/")
            if first.endswith((".dist-info", ".data")):
                continue
            names.add(first if slash else first.split(".", 1)[0])
    return sorted(names)


def measured_tree(repo: Path, made: Build, into: Path, keep: Collection[str]) -> Path:
    """The revision's files at ``into`` (replaced), less the wheel's top-level import names, so
    the tests import the installed wheel and not the tree's uncompiled sources (a flat
    layout); names in ``keep`` (where the tests are) stay."""
    if into.exists():
        shutil.rmtree(into)
    git.export(repo, made.commit, into)
    for name in made.top_level:
        if name in keep:
            continue
        for path in [into / name, *into.glob(f"{name}.*")]:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                if path.suffix in (".py", ".pyi", ".so", ".pyd", ".pyx", ".pxd", ".c") or path.is_symlink():
                    path.unlink()
    return into
