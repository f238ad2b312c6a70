"""The release and CI machinery that only runs in GitHub Actions, checked here: the workflows
lint clean, each wheel job builds exactly its half of the promised wheels, every action is
pinned to a commit, publishing stores no credential, and Bencher fails only on counts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML comes with the dev extra")

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
PYTHONS = ["cp310", "cp311", "cp312", "cp313", "cp314", "cp314t", "cp315", "cp315t"]

pytestmark = pytest.mark.skipif(not WORKFLOWS.exists(), reason="needs the repository, not just the wheel")


def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install '.[dev]'")
    return found


def workflow(name: str) -> Any:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def run_steps(job: Any) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_every_workflow_passes_actionlint() -> None:
    files = sorted(map(str, WORKFLOWS.glob("*.yml")))
    result = subprocess.run([tool("actionlint"), *files], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("libc", ["manylinux", "musllinux"])
def test_each_wheel_job_builds_exactly_its_half_of_the_promised_wheels(libc: str) -> None:
    job = workflow("ci.yml")["jobs"]["wheels"]
    (entry,) = [e for e in job["strategy"]["matrix"]["include"] if e["libc"] == libc]
    # The job's environment exactly: what the workflow sets, nothing inherited.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIBW_")}
    for step in job["steps"]:
        env.update(
            {k: str(v).replace("${{ matrix.skip }}", entry["skip"]) for k, v in step.get("env", {}).items()}
        )
    result = subprocess.run(
        [tool("cibuildwheel"), "--print-build-identifiers", "--platform", "linux"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [f"{py}-{libc}_x86_64" for py in PYTHONS]


def test_the_workflow_runs_the_cibuildwheel_the_release_tests_use() -> None:
    assert "nox -s wheels -- sdist/*.tar.gz" in run_steps(workflow("ci.yml")["jobs"]["wheels"])
    installed = re.findall(r'"cibuildwheel==([\d.]+)"', (ROOT / "noxfile.py").read_text())
    dev_pin = re.findall(r'"cibuildwheel==([\d.]+)"', (ROOT / "pyproject.toml").read_text())
    assert installed and installed == dev_pin


def test_every_action_is_pinned_to_a_commit_with_its_version_named() -> None:
    uses = [
        line.strip()
        for path in WORKFLOWS.glob("*.yml")
        for line in path.read_text().splitlines()
        if line.strip().startswith(("uses:", "- uses:"))
    ]
    assert len(uses) > 10
    for line in uses:
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*", line), line


def test_the_test_matrix_installs_built_wheels_on_every_promised_python() -> None:
    job = workflow("ci.yml")["jobs"]["test"]
    pythons = job["strategy"]["matrix"]["python"]
    assert [f"cp{p.replace('.', '')}" for p in pythons] == PYTHONS
    assert job["strategy"]["matrix"]["core"] == ["compiled", "pure"]
    assert "nox -s test -- ${{ matrix.core }} dist" in run_steps(job)


def test_check_requires_every_other_job() -> None:
    jobs = workflow("ci.yml")["jobs"]
    assert set(jobs["check"]["needs"]) == set(jobs) - {"check", "publish"}
    assert jobs["publish"]["needs"] == "check"


def test_publishing_uses_trusted_publishing_and_no_stored_password() -> None:
    text = (WORKFLOWS / "ci.yml").read_text()
    publish = workflow("ci.yml")["jobs"]["publish"]
    assert publish["permissions"] == {"id-token": "write"}
    assert any("pypa/gh-action-pypi-publish" in step.get("uses", "") for step in publish["steps"])
    assert "password" not in text.lower() and "PYPI_API_TOKEN" not in text


def test_bencher_fails_a_pull_request_on_instruction_alerts_only() -> None:
    jobs = workflow("benchmarks.yml")["jobs"]
    uploads = {
        step["name"]: step["run"]
        for step in jobs["bencher-pr"]["steps"]
        if "bencher run" in step.get("run", "")
    }
    decisive = [run for run in uploads.values() if "--file bmf-instructions.json" in run]
    informative = [run for run in uploads.values() if "--file bmf-time.json" in run]
    assert len(decisive) == len(informative) == 1 and len(uploads) == 2
    assert "--err" in decisive[0] and "--err" not in informative[0]
    main_upload = run_steps(jobs["bencher-main"])
    for flag in [
        "--threshold-test t_test",
        "--threshold-max-sample-size 64",
        "--threshold-upper-boundary 0.99",
        "--threshold-test percentage",
        "--threshold-upper-boundary 0.03",
        "--thresholds-reset",
    ]:
        assert flag in main_upload, flag
    assert jobs["bencher-pr"]["if"].endswith(
        "github.event.pull_request.head.repo.full_name == github.repository"
    )


def test_the_gate_job_judges_the_merge_checkout_against_its_first_parent() -> None:
    gate = workflow("benchmarks.yml")["jobs"]["gate"]
    steps = run_steps(gate)
    assert "--base HEAD^1 --head HEAD" in steps
    assert 'git worktree add -q "$RUNNER_TEMP/judge" HEAD^1' in steps
    assert gate["steps"][0]["with"]["fetch-depth"] == 0
