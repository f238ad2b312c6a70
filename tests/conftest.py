"""Every behaviour test takes ``core``: once with the compiled core, once with the pure twin
(only the twin in the pure pass)."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

CORES = {"compiled": "fastfun._core", "pure": "fastfun._core_py"}
# The pure pass (FASTFUN_NO_EXTENSIONS set, as for the selector) tests the twin alone: the
# compiled core's tests are not collected at all, rather than run again.
PURE_PASS = bool(os.environ.get("FASTFUN_NO_EXTENSIONS"))
UNDER_TEST = ["pure"] if PURE_PASS else list(CORES)


def load_core(name: str) -> ModuleType:
    """Import one implementation; a missing compiled core fails when CI requires it."""
    try:
        return importlib.import_module(CORES[name])
    except ImportError:
        if name == "pure" or os.environ.get("FASTFUN_REQUIRE_EXTENSIONS"):
            raise
        pytest.skip("the compiled core is not installed (a pure build)")


@pytest.fixture(scope="session", params=UNDER_TEST)
def core(request: pytest.FixtureRequest) -> ModuleType:
    return load_core(request.param)


@pytest.fixture(scope="session")
def compiled() -> ModuleType:
    if PURE_PASS:
        pytest.skip("the pure pass (FASTFUN_NO_EXTENSIONS) does not test the compiled core")
    return load_core("compiled")


@pytest.fixture(scope="session")
def pure() -> ModuleType:
    return load_core("pure")
