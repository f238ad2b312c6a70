"""The release and CI machinery, checked against its definitions: every job's work is a nox
session; the jobs' lines that the local release path (tools/prove_wheels.py) runs give it the
artifacts where the jobs leave them; it carries out every cibuildwheel option set; the sdist's
tests collect against the installed package with the test-command of pyproject.toml. Also: the
workflows lint clean, each wheel job builds exactly its half of the promised wheels, every
action is pinned to a commit, publishing stores no credential, and Bencher fails only on counts.
The whole release path runs in .ci/run."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from children import child_env

# Collected even where it is deselected (the test job runs `-m "not repository"`): without
# the release extra's tools, the module is skipped rather than a collection error.
yaml = pytest.importorskip("yaml", reason="PyYAML comes with the release extra")
pytest.importorskip("nox", reason="nox comes with the release extra")
# The release path runs cibuildwheel 4, which needs Python 3.11+ (the release extra leaves it
# out below that, and .ci/run runs these on its python3).
pytest.importorskip("cibuildwheel", reason="cibuildwheel 4 (the release extra) needs Python 3.11+")

import noxfile  # noqa: E402
from tools import prove_wheels  # noqa: E402

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


def job_env(name: str, job: str) -> dict[str, str]:
    """What a job's steps run with: the workflow's ``env``, then the job's."""
    definition = workflow(name)
    return {**definition.get("env", {}), **definition["jobs"][job].get("env", {})}


def test_every_workflow_passes_actionlint() -> None:
    files = sorted(map(str, WORKFLOWS.glob("*.yml")))
    result = subprocess.run([tool("actionlint"), *files], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("libc", ["manylinux", "musllinux"])
def test_each_wheel_job_builds_exactly_its_half_of_the_promised_wheels(libc: str) -> None:
    # The job's environment exactly, as the release path reads it: nothing CIBW_* inherited.
    env = child_env() | prove_wheels.job_env("wheels", libc=libc)
    env = {k: v for k, v in env.items() if not k.startswith("CIBW_")} | prove_wheels.job_env(
        "wheels", libc=libc
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
    dev_pin = re.findall(r'"cibuildwheel==([\d.]+)[";]', (ROOT / "pyproject.toml").read_text())
    assert installed and installed == dev_pin


def sessions() -> set[str]:
    """The noxfile's sessions as `nox --list` shows them, run as the repository job runs these
    tests: with ci.yml's environment, whose FORCE_COLOR makes nox colour its list."""
    listed = subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "--list"],
        capture_output=True,
        text=True,
        env=child_env() | job_env("ci.yml", "repository"),
    )
    assert listed.returncode == 0, listed.stderr
    # `--json` lists the selected sessions only, and the noxfile selects none by default; the
    # colours (ANSI SGR sequences) are dropped before the names are read.
    plain = re.sub(r"\x1b\[[\d;]*m", "", listed.stdout)
    return set(re.findall(r"^[*-] (\S+) ->", plain, re.M))


def test_every_job_does_its_work_through_a_nox_session_of_the_noxfile() -> None:
    known = sessions()
    for name, job in workflow("ci.yml")["jobs"].items():
        if name in {"check", "publish"}:  # an action each, no work of ours
            continue
        lines = [line for step in job["steps"] for line in step.get("run", "").splitlines()]
        # Set-up only (the installer, the system packages), then the work: nox lines.
        work = [line for line in lines if not re.match(r"(python -m pip install|sudo apt-get) ", line)]
        assert work, name
        for line in work:
            called = re.fullmatch(r"nox -s ([\w-]+)( -- .+)?", line)
            assert called and called.group(1) in known, f"job {name}: {line}"


def test_every_nox_line_of_every_workflow_names_a_session_of_the_noxfile() -> None:
    called = {
        (path.name, name)
        for path in WORKFLOWS.glob("*.yml")
        for job in workflow(path.name)["jobs"].values()
        for name in re.findall(r"\bnox(?:==[\d.]+)? -s (\S+)", run_steps(job))
    }
    assert {name for _, name in called} >= {"gate", "test", "lint"}
    missing = {(file, name) for file, name in called if name not in sessions()}
    assert not missing


# actions/cache's glob module (@actions/glob, Pattern.fixupPattern), which the cache's save
# runs every `path` line through: a "." segment only first, no ".." segment; a bad line only
# warns ("Invalid pattern ... Relative pathing"), so the job stays green and nothing is saved.
def cache_path_problem(line: str) -> str | None:
    segments = [s for s in line.lstrip("!").split("/") if s]
    bad = [s for i, s in enumerate(segments) if s == ".." or (s == "." and i > 0)]
    return f"{line!r} has a {bad[0]!r} segment, which actions/cache refuses" if bad else None


# What GitHub's hosted runners give the contexts the cache paths may name.
RUNNER_CONTEXT = {
    "github.workspace": "/home/runner/work/fastfun/fastfun",
    "runner.temp": "/home/runner/work/_temp",
}


def expand(text: str, env: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("env."):
            return expand(env[name[4:]], env)
        assert name in RUNNER_CONTEXT, f"no value here for ${{{{ {name} }}}}"
        return RUNNER_CONTEXT[name]

    return re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", value, text)


@pytest.mark.parametrize("line", ["../fastfun-gate", "/home/runner/work/fastfun/fastfun/../x", "a/./b"])
def test_a_cache_path_with_a_dot_dot_or_inner_dot_segment_is_refused(line: str) -> None:
    assert cache_path_problem(line)


@pytest.mark.parametrize(
    "line", ["~/.cache/pip", "./build", "/home/runner/work/fastfun/fastfun-gate", "!x/y"]
)
def test_a_cache_path_actions_cache_accepts_passes(line: str) -> None:
    assert cache_path_problem(line) is None


def test_every_cache_path_of_every_workflow_obeys_actions_caches_rules() -> None:
    checked = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for name, job in workflow(path.name)["jobs"].items():
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/cache"):
                    for line in expand(step["with"]["path"], job_env(path.name, name)).splitlines():
                        checked.append(line)
                        assert cache_path_problem(line.strip()) is None, f"{path.name} job {name}"
    assert checked


def test_each_job_installs_the_nox_of_the_release_extra() -> None:
    installed = set(re.findall(r"nox==([\d.]+)", (WORKFLOWS / "ci.yml").read_text()))
    assert installed == set(re.findall(r'"nox==([\d.]+)"', (ROOT / "pyproject.toml").read_text()))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("workspace")


@pytest.fixture(scope="module")
def sdist(workspace: Path) -> Path:
    """The sdist, from the sdist job's own line, found where that job uploads it from."""
    logs = workspace.parent / "logs"
    logs.mkdir()
    return prove_wheels.build_sdist(prove_wheels.Run(logs), workspace)


@pytest.fixture(scope="module")
def project(sdist: Path, workspace: Path) -> Path:
    return prove_wheels.unpack(sdist, workspace.parent / "project")


def test_the_jobs_hand_on_their_artifacts_where_the_next_ones_and_the_release_path_look() -> None:
    # The sdist job's session writes into the folder it is given, and the job uploads it from there.
    out = prove_wheels.job_nox_line("sdist").split(" -- ")[1]
    assert prove_wheels.artifact_path("sdist", "upload") == f"{out}/*.tar.gz"
    for job in ("wheels", "pure-wheel"):
        # Each takes the sdist where it downloads it; both sessions write into wheelhouse/.
        downloaded = prove_wheels.artifact_path(job, "download", "sdist")
        assert prove_wheels.job_nox_line(job).endswith(f" -- {downloaded}/*.tar.gz"), job
        assert prove_wheels.artifact_path(job, "upload") == "wheelhouse/*.whl", job
    test = workflow("ci.yml")["jobs"]["test"]
    (download,) = [step for step in test["steps"] if "download-artifact" in step.get("uses", "")]
    assert "'wheels-pure' || 'wheels-manylinux'" in download["with"]["name"]
    assert f"-- ${{{{ matrix.core }}}} {download['with']['path']}" in run_steps(test)


def test_the_sdist_carries_the_package_and_its_tests_and_no_repository_tooling(project: Path) -> None:
    files = {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}
    assert {
        "src/fastfun/_core.pyx",
        "build-constraints.txt",
        "tests/conftest.py",
        "tests/children.py",
    } <= files
    assert not [
        f for f in files if f.startswith(("tests/tooling/", "tests/ci/", "benchmarks/", ".github/", "tools/"))
    ]


@pytest.mark.parametrize("libc", ["manylinux", "musllinux"])
def test_the_release_path_carries_out_every_cibuildwheel_option_that_is_set(project: Path, libc: str) -> None:
    settings = prove_wheels.cibuildwheel_settings(project, prove_wheels.job_env("wheels", libc=libc))
    assert settings <= prove_wheels.HONOURED, settings - prove_wheels.HONOURED


def test_the_test_command_collects_the_sdists_tests_without_an_error(project: Path, tmp_path: Path) -> None:
    # What cibuildwheel runs in each wheel job, against the package installed here: a test
    # module importing what the sdist lacks stops it at collection (exit 2).
    env = child_env()
    selected, build = prove_wheels.cibuildwheel_options(project, env, "cp312-manylinux_x86_64")
    assert selected and "{project}" in build.test_command
    command = prove_wheels.prepare(build.test_command, project=project, package=project, wheel="-")
    # PATH for the whole command line (every `python` of it is this venv's), as cibuildwheel
    # sets it for the test venv: a `PATH=... cmd` prefix would reach only its first command.
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    result = subprocess.run(
        ["sh", "-c", f"{command} --collect-only"],
        cwd=tmp_path,
        env=build.test_environment.as_dictionary(prev_environment=env),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert re.search(r"\d{3} tests collected", result.stdout), result.stdout[-500:]


def test_every_action_is_pinned_to_a_commit_with_its_version_named() -> None:
    uses = [
        line.strip()
        for path in WORKFLOWS.glob("*.yml")
        for line in path.read_text().splitlines()
        if line.strip().startswith(("uses:", "- uses:"))
    ]
    assert len(uses) > 10
    for line in uses:
        # owner/repository, or a sub-action of it such as actions/cache/restore
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w.-]+(/[\w.-]+)*@[0-9a-f]{40} # v\d+(\.\d+)*", line), line


def test_the_test_matrix_installs_built_wheels_on_every_promised_python() -> None:
    job = workflow("ci.yml")["jobs"]["test"]
    pythons = job["strategy"]["matrix"]["python"]
    assert [f"cp{p.replace('.', '')}" for p in pythons] == PYTHONS
    assert job["strategy"]["matrix"]["core"] == ["compiled", "pure"] == list(noxfile.CORE_ENVIRONMENT)
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
