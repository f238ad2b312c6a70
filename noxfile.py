"""Every CI job's work, as a nox session: a GitHub Actions job calls `nox -s NAME -- ARGS`
and a maintainer runs exactly the same line here (`pip install nox==2026.10.20`).

nox rather than shell scripts: it is what pypa/cibuildwheel, urllib3 and the aio-libs family
use for this, it makes and reuses each session's venv, lists what exists (`nox -l`), and its
sessions are Python that ruff and mypy read. The YAML keeps only checkout, Python set-up,
caches and artifacts.
"""

from __future__ import annotations

import time

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
