"""The environment a child interpreter starts with, shared by the tests that run fastfun in a
subprocess and the repository's tooling (benchmarks/venvs.py): it travels in the sdist."""

from __future__ import annotations

import os


def child_env(**settings: str) -> dict[str, str]:
    """This process's environment without fastfun's FASTFUN_* switches, plus ``settings``:
    the child then picks its core (and builds) as told here, whatever the caller's shell holds."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("FASTFUN_")}
    env.update(settings)
    return env
