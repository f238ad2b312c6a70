"""Every CI job's work, as a nox session: a GitHub Actions job calls `nox -s NAME -- ARGS`
and a maintainer runs exactly the same line here (`nox` comes with the `lint` extra).

nox rather than shell scripts: it is what pypa/cibuildwheel, urllib3 and the aio-libs family
use for this, it makes and reuses each session's venv, lists what exists (`nox -l`), and its
sessions are Python that ruff and mypy read. The YAML keeps only checkout, Python set-up,
caches and artifacts.

Two kinds of session: those that build or test an artifact make their own venv from the
Python running nox; those that check the checkout (lint, repository, fuzz) run the tools of
the `dev` extra installed beside nox (python=False), as `.ci/run` and the jobs install them.
Path arguments are read from where nox was started (nox itself works in this folder).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
# nox imports this file with its own folder off sys.path; the tools live beside it.
sys.path.insert(0, str(ROOT))
from tools.prove_wheels import PURE_ENVIRONMENT  # noqa: E402

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True
# A session runs only when named: CI names each one, so `nox` alone does nothing by surprise.
nox.options.sessions = []

# The sdist's frontend, pinned: a new release may build a different sdist.
BUILD = "build==1.6.1"
# The same cibuildwheel as the dev extra, whose options tools/prove_wheels.py reads.
CIBUILDWHEEL = "cibuildwheel==4.3.5"
# How the suite is told which core the installed wheel must have.
CORE_ENVIRONMENT = {"compiled": {"FASTFUN_REQUIRE_EXTENSIONS": "1"}, "pure": PURE_ENVIRONMENT}
FUZZ_SECONDS = 60


def here(session: nox.Session, path: str) -> Path:
    """A path argument as the caller meant it: from where nox was started."""
    return Path(session.invoked_from, path).resolve()


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """pre-commit over every file: ruff, ruff format, mypy --strict, actionlint."""
    session.run("pre-commit", "run", "--all-files", "--show-diff-on-failure", external=True)


@nox.session
def sdist(session: nox.Session) -> None:
    """The sdist of this checkout into the folder given (emptied first)."""
    (out,) = session.posargs
    shutil.rmtree(here(session, out), ignore_errors=True)
    session.install(BUILD)
    session.run("python", "-m", "build", "--sdist", "--outdir", str(here(session, out)), str(ROOT))


@nox.session
def wheels(session: nox.Session) -> None:
    """Every wheel of [tool.cibuildwheel] (less CIBW_SKIP) from the sdist given, each built,
    repaired and tested by cibuildwheel in its container, into wheelhouse/."""
    (sdist_file,) = session.posargs
    session.install(CIBUILDWHEEL)
    output = here(session, "wheelhouse")
    session.run(
        "cibuildwheel", "--platform", "linux", "--output-dir", str(output), str(here(session, sdist_file))
    )


@nox.session
def pure_wheel(session: nox.Session) -> None:
    """The py3-none-any wheel, on purpose, from the sdist given, into wheelhouse/."""
    (sdist_file,) = session.posargs
    session.run(
        *("python", "-m", "pip", "wheel", "--no-deps", "-w", str(here(session, "wheelhouse"))),
        str(here(session, sdist_file)),
        env={"FASTFUN_NO_EXTENSIONS": "1"},
    )


@nox.session
def test(session: nox.Session) -> None:
    """The suite against a built wheel: `-- CORE FOLDER`, CORE compiled or pure, FOLDER the
    wheels to install from (never this checkout's sources)."""
    core, wheels_dir = session.posargs
    found = str(here(session, wheels_dir))
    # Forced: a reused venv may hold the other core's wheel of the same version.
    session.install("--force-reinstall", "--no-deps", "--no-index", "--find-links", found, "fastfun")
    session.install("--find-links", found, "fastfun[test]")
    session.run(
        "python", "-I", "-m", "pytest", "tests", "-q", "-m", "not repository", env=CORE_ENVIRONMENT[core]
    )


@nox.session(python=False)
def repository(session: nox.Session) -> None:
    """The repository's own tests (benchmarks, workflows, release), and the calendar API in
    process and through a real `fastfun serve` (the api extra)."""
    session.run("python", "-m", "pytest", "-q", "-m", "repository", external=True)
    session.run("python", "-m", "pytest", "-q", "tests/test_app.py", "tests/test_server.py", external=True)


@nox.session(python=False)
def fuzz(session: nox.Session) -> None:
    """Differential fuzzing, compiled core against the pure twin, for FUZZ_SECONDS; a
    difference's input lands in the folder given."""
    (findings,) = session.posargs
    found = here(session, findings)
    found.mkdir(parents=True, exist_ok=True)
    session.run(
        "python",
        "fuzz/fuzz_core.py",
        f"-max_total_time={FUZZ_SECONDS}",
        f"-artifact_prefix={found}/",
        external=True,
    )


# Not a CI job: GitHub's runners have these interpreters from setup-python. Here they come from
# Debian unstable in a chroot, which needs root.
@nox.session(python=False)
def interpreters(session: nox.Session) -> None:
    """CPython 3.14 and 3.15 and PyPy 3.11 on the release path, in a cached Debian sid chroot
    (tools/prove_interpreters.py; arguments are passed on, e.g. `-- --jobs 1`)."""
    session.run("python", "-m", "tools.prove_interpreters", *session.posargs, external=True)


# -- documentation and changelog ---------------------------------------------------------------
# The docs session is what .ci/run and Read the Docs build; the changelog session is the release
# job's check (and a maintainer's, before tagging).

DOCS_BUILD = "docs/_build/html"


@nox.session
def docs(session: nox.Session) -> None:
    """Build the site with warnings as errors (nitpicky), then run every example of it and the README."""
    session.install(".[docs]", "./gate")  # the examples of docs/gate.md run the gate
    started = time.monotonic()
    # -E: every page is read afresh, since Sphinx tracks the sources of a page but not the code that
    # autodoc and argparse render into it (an incremental build kept an old option on the CLI page).
    session.run(
        "python", "-m", "sphinx", "-E", "-W", "--keep-going", "-n", "-q", "-b", "html", "docs", DOCS_BUILD
    )
    built = time.monotonic() - started
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "docs")
    session.log(f"docs: built in {built:.1f} s, examples run in {time.monotonic() - started - built:.1f} s")


@nox.session(python=False)
def changelog(session: nox.Session) -> None:
    """Refuse a release whose version has no changelog entry: `nox -s changelog -- --check-version X`."""
    session.run("python3", "-m", "tools.changelog", *session.posargs)


# -- fastfun-gate (gate/): its own tests, and fastfun gated by it (benchmarks.yml) -----------


@nox.session
def gate_tests(session: nox.Session) -> None:
    """The gate's own suite (gate/tests), on the gate's fixture projects: the gate installed
    from its folder with its test extra, as its README says."""
    session.install("./gate[test,plot]")
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "gate/tests")


@nox.session
def gate(session: nox.Session) -> None:
    """fastfun-gate on this checkout, installed from the folder gate/ as any project installs
    it: `nox -s gate -- [--gate-from REV] COMMAND ARGS` runs `fastfun-gate COMMAND ARGS`.

    --gate-from REV installs the gate of revision REV (a pull request's base: the change under
    judgement cannot change its judge, as the settings are read from the base too); without
    it, the checkout's. The builds' Python is this session's, the same path in every job.
    """
    args = list(session.posargs)
    source = ROOT / "gate"
    with tempfile.TemporaryDirectory(prefix="fastfun-gate-from-") as scratch:
        if args[:1] == ["--gate-from"]:
            if len(args) < 2:
                session.error("usage: nox -s gate -- [--gate-from REV] COMMAND ARGS")
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", args[1], "gate"], capture_output=True, check=False
            )
            if archive.returncode != 0:
                session.error(f"--gate-from {args[1]}: {archive.stderr.decode().strip()}")
            tarfile.open(fileobj=io.BytesIO(archive.stdout)).extractall(scratch, filter="data")
            source, args = Path(scratch, "gate"), args[2:]
        session.install(str(source))
    session.run("fastfun-gate", *args)
