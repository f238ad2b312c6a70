"""The release job refuses a tag whose version has no changelog entry.

The step is read from ``.github/workflows/ci.yml`` and run as written in a copy of this
repository's changelog machinery, with one stand-in: ``pipx run nox==V`` (which would download
nox) runs the nox of this environment, the same version.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML comes with the dev extra")
pytest.importorskip("towncrier", reason="towncrier comes with the docs extra, which needs Python 3.11+")

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / ".github" / "workflows" / "ci.yml"

pytestmark = pytest.mark.skipif(not CI.exists(), reason="needs the repository, not just the wheel")


def publish_steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = yaml.safe_load(CI.read_text())["jobs"]["publish"]["steps"]
    return steps


def check_step() -> dict[str, Any]:
    [step] = [s for s in publish_steps() if "changelog" in s.get("run", "")]
    return step


@pytest.fixture
def release(tmp_path: Path) -> Path:
    """The job's checkout: every file git tracks here (the noxfile imports the tools, and they
    import the rest)."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in tracked.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, tmp_path / name)
    shim = tmp_path / "bin" / "pipx"
    shim.parent.mkdir()
    # `pipx run nox==V ARGS` -> this environment's nox with ARGS, refusing any other use.
    shim.write_text(
        f'#!/bin/sh\n[ "$1" = run ] && case "$2" in nox==*) shift 2; exec "{sys.executable}" -m nox "$@";; esac\n'
        'echo "pipx stand-in: unexpected $*" >&2; exit 99\n'
    )
    shim.chmod(0o755)
    return tmp_path


def run_check(release: Path, tag: str) -> tuple[int, str]:
    """The step's exit status and what it printed (nox passes the command's stderr to stdout)."""
    env = dict(os.environ, GITHUB_REF_NAME=tag, PATH=f"{release / 'bin'}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(
        ["bash", "-e", "-c", check_step()["run"]],
        cwd=release,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr


def towncrier_build(release: Path, version: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "towncrier", "build", "--yes", "--version", version, "--date", "2026-12-01"],
        cwd=release,
        check=True,
        capture_output=True,
    )


def test_the_check_runs_before_anything_is_published() -> None:
    names = [s.get("uses", "") + s.get("run", "") for s in publish_steps()]
    check = names.index(check_step()["run"])
    upload = next(i for i, name in enumerate(names) if "pypa/gh-action-pypi-publish" in name)
    assert check < upload


def test_a_version_whose_fragments_are_not_rendered_is_refused(release: Path) -> None:
    status, printed = run_check(release, "v0.1.0")
    assert status == 1, printed
    assert "changelog: refusing 0.1.0: CHANGES.md has no entry for 0.1.0" in printed


def test_a_rendered_version_is_released(release: Path) -> None:
    towncrier_build(release, "0.1.0")
    status, printed = run_check(release, "v0.1.0")
    assert status == 0, printed
    assert "changelog: 0.1.0 has its entry and no fragment is pending" in printed


def test_another_version_than_the_rendered_one_is_refused(release: Path) -> None:
    towncrier_build(release, "0.1.0")
    for tag in ["v0.2.0", "v0.1", "v0.1.00"]:
        status, printed = run_check(release, tag)
        assert status == 1, tag
        assert f"has no entry for {tag[1:]}" in printed


def test_a_fragment_added_after_the_render_is_refused(release: Path) -> None:
    towncrier_build(release, "0.1.0")
    (release / "CHANGES" / "+late.bugfix.md").write_text("A late fix.\n")
    status, printed = run_check(release, "v0.1.0")
    assert status == 1
    assert "1 fragment(s) in CHANGES/ are not in a release yet: +late.bugfix.md" in printed
