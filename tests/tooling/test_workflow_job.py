"""tools/workflow_job.py, which .ci/run runs every job with (by act): the parts that do not need
act itself. The jobs themselves run in .ci/run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML comes with the release extra")

from tools import workflow_job  # noqa: E402

WORKFLOWS = workflow_job.ROOT / ".github" / "workflows"
# Jobs that cannot run here, and why: Docker, GitHub's job graph, PyPI's OIDC, Bencher's key.
NOT_RUN = {"wheels", "check", "publish", "bencher-main", "bencher-pr", "archive"}


def test_without_needs_changes_nothing_but_the_jobs_needs(tmp_path: Path) -> None:
    copy = workflow_job.without_needs(WORKFLOWS / "ci.yml", "test", tmp_path)
    written, changed = yaml.safe_load((WORKFLOWS / "ci.yml").read_text()), yaml.safe_load(copy.read_text())
    assert written["jobs"]["test"].pop("needs") == ["wheels", "pure-wheel"]
    assert changed == written and copy.name == "ci.yml"


def test_every_action_of_every_job_ci_runs_has_a_stand_in() -> None:
    used = set()
    for path in WORKFLOWS.glob("*.yml"):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            if name not in NOT_RUN:
                used |= {step["uses"].split("@")[0] for step in job["steps"] if "uses" in step}
    assert "actions/cache/restore" in used
    # act copies the checkout itself; every other action is given from tests/ci/actions.
    missing = [
        a for a in used - {"actions/checkout"} if not (workflow_job.STAND_INS / a / "action.yml").exists()
    ]
    assert not missing


def test_each_action_is_given_to_act_at_its_pinned_commit_from_the_first_folder_holding_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "actions" / "cache").mkdir(parents=True)
    given = workflow_job.local_actions(WORKFLOWS / "benchmarks.yml", [tmp_path, workflow_job.STAND_INS])
    assert given and all(flag == "--local-repository" for flag in given[::2])
    mapped = dict(value.split("=", 1) for value in given[1::2])
    cache = next(key for key in mapped if key.startswith("actions/cache@"))
    assert mapped[cache] == str(tmp_path / "actions" / "cache")
    setup = next(key for key in mapped if key.startswith("actions/setup-python@"))
    assert mapped[setup] == str(workflow_job.STAND_INS / "actions" / "setup-python")
    assert not any(key.startswith("actions/checkout@") for key in mapped)
    assert all(len(key.split("@")[1]) == 40 for key in mapped)


def test_the_job_log_is_shown_as_it_comes_and_kept_for_the_expected_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = "import sys; print('one'); print('two', flush=True); sys.exit(3)"
    status, log = workflow_job.run_and_show([sys.executable, "-c", script], tmp_path, dict(os.environ))
    assert (status, log) == (3, "one\ntwo\n")
    assert capsys.readouterr().out == "one\ntwo\n"
