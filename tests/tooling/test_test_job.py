"""The `test` job of ci.yml sees only what it installs: its own lines, read from the workflow and
run in a fresh venv (setup-python's Python has pip and nothing else) on a copy of this checkout,
with the pure wheel where the job downloads it and the workflow's and job's environment. The
job installs nox, whose session installs the wheel with the test extra: a test module importing
anything else stops the whole job at collection (pytest exit 2), whatever the marks deselect.

Collection only (PYTEST_ADDOPTS), so that this stays quick: the suite itself runs in .ci/run,
where act runs the job as written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from children import child_env

yaml = pytest.importorskip("yaml", reason="PyYAML comes with the release extra")

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / ".github" / "workflows" / "ci.yml"

pytestmark = pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the repository's checkout")


def copy_checkout(to: Path) -> None:
    """This checkout's files as a clone of it would have them, uncommitted changes included."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    for name in filter(None, listed.stdout.split("\0")):
        if (ROOT / name).is_file():
            (to / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, to / name)


def test_the_test_job_collects_the_suite_with_only_what_it_installs(tmp_path: Path) -> None:
    workflow = yaml.safe_load(CI.read_text())
    job = workflow["jobs"]["test"]
    (download,) = [step for step in job["steps"] if "download-artifact" in step.get("uses", "")]
    lines = [step["run"].replace("${{ matrix.core }}", "pure") for step in job["steps"] if "run" in step]
    assert any(re.search(r"\bnox -s test -- pure ", line) for line in lines), lines
    checkout = tmp_path / "checkout"
    copy_checkout(checkout)
    wheels = checkout / download["with"]["path"]
    # The pure wheel, as the pure-wheel job builds it (its own line runs in .ci/run).
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(checkout)],
        env=child_env(FASTFUN_NO_EXTENSIONS="1"),
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    python = tmp_path / "python"
    subprocess.run([sys.executable, "-m", "venv", str(python)], check=True)
    env = child_env() | {**workflow.get("env", {}), **job.get("env", {})}
    env |= {"PATH": f"{python / 'bin'}:{os.environ['PATH']}", "PYTEST_ADDOPTS": "--collect-only"}
    env.pop("PYTHONPATH", None)
    for line in lines:
        result = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", line],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
        )
        output = result.stdout[-3000:] + result.stderr[-2000:]
        assert result.returncode == 0, f"{line}: exit {result.returncode}\n{output}"
    assert re.search(r"\d+ tests collected", result.stdout), result.stdout[-1000:]
