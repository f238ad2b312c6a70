"""The release machinery that only runs in GitHub Actions, checked here: the workflows lint
clean and cibuildwheel would build exactly the promised wheels."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))

pytestmark = [
    pytest.mark.repository,
    pytest.mark.skipif(not WORKFLOWS, reason="needs the repository, not just the wheel"),
]


def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install '.[dev]'")
    return found


def test_every_workflow_passes_actionlint() -> None:
    result = subprocess.run([tool("actionlint"), *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cibuildwheel_builds_exactly_the_promised_wheels() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIBW_")}
    result = subprocess.run([tool("cibuildwheel"), "--print-build-identifiers", "--platform", "linux"],
                            cwd=ROOT, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    expected = {f"{py}-{libc}_x86_64" for py in ["cp310", "cp311", "cp312", "cp313", "cp314", "cp314t"]
                for libc in ["manylinux", "musllinux"]}
    assert set(result.stdout.split()) == expected


def test_the_wheel_workflow_pins_the_cibuildwheel_it_is_tested_with() -> None:
    workflow = (ROOT / ".github" / "workflows" / "wheels.yml").read_text()
    pinned = re.search(r"pypa/cibuildwheel@v([\d.]+)", workflow)
    assert pinned is not None
    dev_pin = re.search(r'"cibuildwheel==([\d.]+)"', (ROOT / "pyproject.toml").read_text())
    assert dev_pin is not None and dev_pin.group(1) == pinned.group(1)


def test_publishing_uses_trusted_publishing_and_no_stored_password() -> None:
    workflow = (ROOT / ".github" / "workflows" / "wheels.yml").read_text()
    assert "id-token: write" in workflow
    assert "pypa/gh-action-pypi-publish" in workflow
    assert "password" not in workflow.lower() and "PYPI_API_TOKEN" not in workflow


def test_bencher_thresholds_are_the_documented_ones() -> None:
    workflow = (ROOT / ".github" / "workflows" / "benchmarks.yml").read_text()
    for flag in ["--threshold-test t_test", "--threshold-max-sample-size 64",
                 "--threshold-upper-boundary 0.99", "--threshold-test percentage",
                 "--threshold-upper-boundary 0.03", "--thresholds-reset", "--start-point-clone-thresholds",
                 "--start-point-reset", "--github-actions", "--adapter json"]:
        assert flag in workflow, flag
    assert "github.event.pull_request.head.repo.full_name == github.repository" in workflow
