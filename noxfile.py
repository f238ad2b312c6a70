"""Every CI job's work, as a nox session: a GitHub Actions job calls `nox -s NAME -- ARGS`
and a maintainer runs exactly the same line here (`pip install nox==2026.10.20`).

nox rather than shell scripts: it is what pypa/cibuildwheel, urllib3 and the aio-libs family
use for this, it makes and reuses each session's venv, lists what exists (`nox -l`), and its
sessions are Python that ruff and mypy read. The YAML keeps only checkout, Python set-up,
caches and artifacts.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True
# A session runs only when named: CI names each one, so `nox` alone does nothing by surprise.
nox.options.sessions = []
