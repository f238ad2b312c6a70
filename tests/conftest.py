"""Every behaviour test takes ``core``: once with the compiled core, once with the pure twin."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

CORES = {"compiled": "fastfun._core", "pure": "fastfun._core_py"}


def load_core(name: str) -> ModuleType:
    """Import one implementation; a missing compiled core fails when CI requires it."""
    try:
        return importlib.import_module(CORES[name])
    except ImportError:
        if name == "pure" or os.environ.get("FASTFUN_REQUIRE_EXTENSIONS"):
            raise
        pytest.skip("the compiled core is not installed (a pure build)")


@pytest.fixture(scope="session", params=list(CORES))
def core(request: pytest.FixtureRequest) -> ModuleType:
    return load_core(request.param)


@pytest.fixture(scope="session")
def compiled() -> ModuleType:
    return load_core("compiled")


@pytest.fixture(scope="session")
def pure() -> ModuleType:
    return load_core("pure")
