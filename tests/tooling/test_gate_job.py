"""The gate's jobs of benchmarks.yml as this machine runs them (tools/actions.py): every
step of them can run here, and the sessions they call exist. The jobs themselves run in
`.ci/run` (`nox -s gate_job -- clean` and `-- regression`), from the same file."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("yaml", reason="PyYAML comes with the dev extra")

from tools import actions, gate_job

JOBS = [("gate-cache", "push"), ("gate", "pull_request")]


@pytest.mark.parametrize(("job", "event"), JOBS)
def test_every_step_of_the_gate_jobs_can_run_here(tmp_path: Path, job: str, event: str) -> None:
    scripts = actions.plan(gate_job.WORKFLOW, job, event=event, runner=actions.Runner(tmp_path))
    assert any("nox -s gate -- " in script for script in scripts)


def test_every_nox_session_the_gate_jobs_call_exists(tmp_path: Path) -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "nox", "-l"], cwd=gate_job.ROOT, capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    # "* name -> doc" for sessions selected by default, "- name -> doc" for the others
    sessions = set(re.findall(r"^[*-] (\S+) ->", listed.stdout, re.MULTILINE))
    runner = actions.Runner(tmp_path)
    called = {
        name
        for job, event in JOBS
        for script in actions.plan(gate_job.WORKFLOW, job, event=event, runner=runner)
        for name in re.findall(r"\bnox -s (\S+)", script)
    }
    assert called == {"gate"} and called <= sessions


def test_a_step_that_cannot_run_here_stops_the_job_in_one_line(tmp_path: Path) -> None:
    text = gate_job.WORKFLOW.read_text().replace("actions/upload-artifact@", "docker/build-push-action@", 1)
    changed = tmp_path / "benchmarks.yml"
    changed.write_text(text)
    with pytest.raises(actions.CannotRun, match=r"^the action docker/build-push-action cannot run here$"):
        actions.plan(changed, "gate", event="pull_request", runner=actions.Runner(tmp_path))


def test_a_job_for_another_event_is_refused(tmp_path: Path) -> None:
    with pytest.raises(actions.CannotRun, match="job gate does not run on a push event"):
        actions.plan(gate_job.WORKFLOW, "gate", event="push", runner=actions.Runner(tmp_path))


def test_the_cache_restores_an_exact_key_and_only_named_prefixes_otherwise(tmp_path: Path) -> None:
    runner = actions.Runner(tmp_path / "runner")
    job = actions.Job(runner, "gate", {}, "pull_request", Path(), "")
    saved = tmp_path / "saved"
    (saved / "build").mkdir(parents=True)
    (saved / "build" / "ok").write_text("")
    actions.ACTIONS["actions/cache/save"](job, {"path": str(saved), "key": "gate-main"})
    restored = tmp_path / "restored" / "saved"
    other = {"path": str(restored), "key": "gate-other"}
    assert actions.ACTIONS["actions/cache/restore"](job, other) == {"cache-hit": "false"}
    assert not restored.exists()
    # restore-keys, as the gate job had: any older build with the prefix comes back
    assert actions.ACTIONS["actions/cache/restore"](job, {**other, "restore-keys": "gate-"}) == {
        "cache-hit": "false",
        "cache-matched-key": "gate-main",
    }
    assert (restored / "build" / "ok").exists()
    exact = {"path": str(restored), "key": "gate-main"}
    assert actions.ACTIONS["actions/cache/restore"](job, exact)["cache-hit"] == "true"
