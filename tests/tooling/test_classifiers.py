"""The package's classifiers claim only what a job proves: each Python version, implementation
and free-threading claim is matched to the CI job that runs the suite there."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

tomllib = pytest.importorskip("tomllib", reason="tomllib comes with Python 3.11+")
yaml = pytest.importorskip("yaml", reason="PyYAML comes with the dev extra")

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
WHEELS = PYPROJECT["tool"]["cibuildwheel"]
CI = ROOT / ".github" / "workflows" / "ci.yml"

pytestmark = pytest.mark.skipif(not CI.exists(), reason="needs the repository, not just the wheel")


def ci_test_matrix() -> dict[str, Any]:
    matrix: dict[str, Any] = yaml.safe_load(CI.read_text())["jobs"]["test"]["strategy"]["matrix"]
    return matrix


def cpython_wheels() -> None:
    # The wheel jobs build and test (the test-command) every CPython of the build list.
    assert any(re.fullmatch(r"cp3\d+-\*", build) for build in WHEELS["build"])
    assert "{project}/tests" in WHEELS["test-command"]


def pypy_test_job() -> None:
    # The test job installs the pure wheel on PyPy and runs the suite.
    assert {"python": "pypy-3.11", "core": "pure"} in ci_test_matrix()["include"]


def free_threaded_wheels() -> None:
    # The cp3XXt wheel jobs run the suite, whose tests/test_free_threading.py checks the GIL
    # stays off; the test job installs the same wheels on 3.XXt.
    threaded = [build for build in WHEELS["build"] if re.fullmatch(r"cp3\d+t-\*", build)]
    assert threaded
    assert {f"3.{b[3:-3]}t" for b in threaded} <= set(ci_test_matrix()["python"])
    assert (ROOT / "tests" / "test_free_threading.py").exists()
    assert "{project}/tests" in WHEELS["test-command"]


PROOFS: dict[str, Callable[[], None]] = {
    "Programming Language :: Python :: Implementation :: CPython": cpython_wheels,
    "Programming Language :: Python :: Implementation :: PyPy": pypy_test_job,
    "Programming Language :: Python :: Free Threading :: 2 - Beta": free_threaded_wheels,
}


def test_every_implementation_and_free_threading_claim_has_the_job_that_proves_it() -> None:
    prefixes = ("Programming Language :: Python :: Implementation", "Programming Language :: Python :: Free")
    claims = [c for c in PYPROJECT["project"]["classifiers"] if c.startswith(prefixes)]
    assert claims
    for claim in claims:
        assert claim in PROOFS, f"{claim!r}: no job proves it (add one, and its check here)"
        PROOFS[claim]()


def test_every_python_version_claimed_is_built_and_tested() -> None:
    versions = [
        c.rsplit(" ", 1)[-1]
        for c in PYPROJECT["project"]["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    ]
    for version in versions:
        assert f"cp{version.replace('.', '')}-*" in WHEELS["build"], f"Python {version}: no wheel job"
        assert version in ci_test_matrix()["python"], f"Python {version}: no test job"
