"""Every CI job's work, as a nox session: a GitHub Actions job calls `nox -s NAME -- ARGS`
and a maintainer runs exactly the same line here (`pip install nox==2026.10.20`).

nox rather than shell scripts: it is what pypa/cibuildwheel, urllib3 and the aio-libs family
use for this, it makes and reuses each session's venv, lists what exists (`nox -l`), and its
sessions are Python that ruff and mypy read. The YAML keeps only checkout, Python set-up,
caches and artifacts.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True
# A session runs only when named: CI names each one, so `nox` alone does nothing by surprise.
nox.options.sessions = []


# -- documentation and changelog ---------------------------------------------------------------
# The docs session is what .ci/run and Read the Docs build; the changelog session is the release
# job's check (and a maintainer's, before tagging).

DOCS_BUILD = "docs/_build/html"


@nox.session
def docs(session: nox.Session) -> None:
    """Build the site with warnings as errors (nitpicky), then run every example of it and the README."""
    session.install(".[docs]")
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


# -- The benchmark gate (benchmarks.yml: jobs gate-cache and gate) --------------------------


@nox.session(venv_backend="none")
def gate(session: nox.Session) -> None:
    """The benchmark gate as CI runs it, in this interpreter: the gate needs only the standard
    library (and valgrind), and it builds each revision into a venv of its own.

    nox -s gate -- pr [REPORT]  the merge checkout (HEAD) against its base (HEAD^1), judged by
                                the base's gate; JSON, build logs and profiles into REPORT
    nox -s gate -- key REV      the name of REV's build in the gate's cache (CI's cache key)
    nox -s gate -- build REV    build REV into the gate's cache (CI does it on main)
    """
    command, *rest = session.posargs or ["pr"]
    gate_command = [sys.executable, "-m", "benchmarks.gate"]
    if command in ("key", "build"):
        session.run(*gate_command, command, *rest, external=True)
        return
    if command != "pr" or len(rest) > 1:
        session.error("usage: nox -s gate -- pr [REPORT] | key REV | build REV")
    workspace = Path.cwd()  # nox works in the noxfile's folder: the checkout
    report = Path(session.invoked_from, rest[0] if rest else "gate-report").resolve()
    with tempfile.TemporaryDirectory(prefix="fastfun-judge-") as scratch:
        # The judge is the base's gate, rules and workloads, so that a pull request cannot
        # weaken the check it must pass; a base older than the gate package has only the head's.
        judge = Path(scratch) / "judge"
        session.run("git", "worktree", "add", "-q", "--detach", str(judge), "HEAD^1", external=True)
        try:
            if not (judge / "benchmarks" / "gate" / "__main__.py").exists():
                judge = workspace
            with session.chdir(judge):
                session.run(
                    *gate_command,
                    *["--repo", str(workspace), "--base", "HEAD^1", "--head", "HEAD"],
                    *["--out", str(report), "--json", str(report / "gate.json")],
                    external=True,
                )
        finally:
            session.run("git", "worktree", "remove", "--force", str(Path(scratch) / "judge"), external=True)


@nox.session(python=False)
def gate_job(session: nox.Session) -> None:
    """The gate's jobs of benchmarks.yml run here as GitHub runs them (tools/gate_job.py):
    `-- clean` must pass, `-- regression` must fail the pull request."""
    session.run(sys.executable, "-m", "tools.gate_job", *session.posargs, external=True)
