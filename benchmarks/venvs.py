"""Child interpreters of the tooling (gate builds, wheel proofs, test scenarios): the
environment they start with and the venvs they run in, written once."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from children import child_env

__all__ = ["child_env", "make_venv", "run_logged"]


def run_logged(command: Sequence[str], log: Path, env: dict[str, str] | None = None) -> bool:
    """Run ``command`` with its output appended to ``log`` (after the command line); True on success."""
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        return subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env).returncode == 0


def make_venv(base_python: str, where: Path, installs: Sequence[Sequence[str]], log: Path) -> str | None:
    """A venv at ``where`` made by ``base_python``, then ``pip install`` of each argument list
    in order, in the environment of ``child_env()``; its python, or None at the first failure.
    ``log`` gets pip's whole output (not -q: what it was doing when it failed says why)."""
    python = str(where / "bin" / "python")
    steps = [[base_python, "-m", "venv", str(where)]]
    steps += [[python, "-m", "pip", "install", "--disable-pip-version-check", *args] for args in installs]
    env = child_env()
    return python if all(run_logged(step, log, env) for step in steps) else None
