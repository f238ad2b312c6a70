"""A GitHub Actions job, run on this machine from its workflow file, step by step as a runner
would: the ``run:`` scripts verbatim (``bash -e -o pipefail``, in the workspace, with the
job's and the step's ``env``), GitHub's variables (``GITHUB_WORKSPACE``, ``RUNNER_TEMP``,
``GITHUB_OUTPUT``, ``GITHUB_ENV``, ``GITHUB_PATH``, ``GITHUB_STEP_SUMMARY``), the
expressions this project's workflows use, and the actions they use done here:

- ``actions/checkout``: the workspace is a clone of a given repository at a given ref (the
  caller makes the ref: a merge commit for a pull request, as GitHub does);
- ``actions/setup-python``: a venv made by this machine's CPython of the asked version (with
  pip and nothing else, as setup-python leaves it) at a fixed path, first on ``PATH``;
- ``actions/cache`` (restore, then save after the job unless the key was hit),
  ``actions/cache/restore`` and ``actions/cache/save``: a folder of tar files by key;
- ``actions/upload-artifact``: the files copied into a folder per artifact name.

Anything else (another action, an expression it does not know) stops the job with one line
saying what cannot run here. ``sudo`` runs the command as it is (CI here runs as root).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

STEP_TIMEOUT = 1800.0  # seconds: a step still running then has hung
CACHE_ENTRIES = 4  # the cache store keeps the newest entries (GitHub's: 10 GB, least recently used)
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_COMPARISON = re.compile(r"^(\S+)\s*(==|!=)\s*'([^']*)'$")


class CannotRun(Exception):
    """A step or expression this runner cannot do here; the message says which, in one line."""


@dataclass
class Runner:
    """Where jobs run: fixed paths, so that what a job caches (venvs name their paths) fits the
    next job, as on GitHub's runners."""

    root: Path
    repository: str = "fastfun"
    log: Callable[[str], None] = lambda text: print(text, flush=True)

    @property
    def workspace(self) -> Path:
        return self.root / "work" / self.repository / self.repository

    @property
    def temp(self) -> Path:
        return self.root / "work" / "_temp"

    @property
    def toolcache(self) -> Path:
        return self.root / "hostedtoolcache"

    @property
    def cache_store(self) -> Path:
        return self.root / "actions-cache"

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"


@dataclass
class Job:
    """One run of a job: its context, what its steps left, and how it ended."""

    runner: Runner
    name: str
    definition: dict[str, Any]
    event: str
    source: Path  # the repository actions/checkout clones
    ref: str  # what it checks out
    env: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)  # steps.<id>.outputs
    posts: list[Callable[[], None]] = field(default_factory=list)  # post steps, run last first
    summary: str = ""  # the job summary: every step's GITHUB_STEP_SUMMARY, in order
    status: int = 0  # the exit status of the first step that failed

    def expand(self, text: str) -> str:
        return _EXPRESSION.sub(lambda match: self.value(match.group(1)), text)

    def value(self, expression: str) -> str:
        parts = expression.split(".")
        if expression == "github.workspace":
            return str(self.runner.workspace)
        if expression == "github.event_name":
            return self.event
        if expression == "runner.temp":
            return str(self.runner.temp)
        if parts[0] == "env" and len(parts) == 2:
            return self.env.get(parts[1], "")
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
            return self.outputs.get(parts[1], {}).get(parts[3], "")
        raise CannotRun(f"the expression ${{{{ {expression} }}}} cannot be evaluated here")

    def condition(self, text: str | None) -> bool:
        """Whether a step with this ``if:`` runs (the forms the workflows use)."""
        if text is None:
            return self.status == 0
        text = _EXPRESSION.sub(lambda match: match.group(1), str(text)).strip()
        if text == "always()":
            return True
        if text == "failure()":
            return self.status != 0
        compared = _COMPARISON.match(text)
        if compared is None:
            raise CannotRun(f"the condition {text!r} cannot be evaluated here")
        left, operator, right = compared.groups()
        return self.status == 0 and ((self.value(left) == right) == (operator == "=="))


def load(workflow: Path, job: str) -> dict[str, Any]:
    jobs = yaml.safe_load(workflow.read_text())["jobs"]
    if job not in jobs:
        raise CannotRun(f"{workflow.name} has no job {job!r} (it has {', '.join(jobs)})")
    definition: dict[str, Any] = jobs[job]
    return definition


def plan(workflow: Path, name: str, *, event: str, runner: Runner) -> list[str]:
    """What running the job would do, without doing it: raises CannotRun for an action or an
    expression this runner cannot do; returns the job's ``run:`` scripts, expanded."""
    definition = load(workflow, name)
    job = Job(runner, name, definition, event, Path(), "")
    if not job.condition(definition.get("if", "always()")):
        raise CannotRun(f"job {name} does not run on a {event} event (if: {definition['if']})")
    job.env.update({key: job.expand(str(value)) for key, value in definition.get("env", {}).items()})
    scripts = []
    for step in definition["steps"]:
        job.condition(step.get("if"))
        for value in [*step.get("with", {}).values(), *step.get("env", {}).values()]:
            job.expand(str(value))
        if "uses" in step and step["uses"].split("@")[0] not in ACTIONS:
            raise CannotRun(f"the action {step['uses'].split('@')[0]} cannot run here")
        if "run" in step:
            scripts.append(job.expand(step["run"]))
    return scripts


def run_job(runner: Runner, workflow: Path, name: str, *, event: str, source: Path, ref: str) -> Job:
    """Runs the job ``name`` of ``workflow`` for ``event``, on a fresh workspace and temporary
    folder (as a new runner has), the repository ``source`` checked out at ``ref``."""
    definition = load(workflow, name)
    job = Job(runner, name, definition, event, source, ref)
    if not job.condition(definition.get("if", "always()")):
        raise CannotRun(f"job {name} does not run on a {event} event (if: {definition['if']})")
    for folder in (runner.root / "work", runner.artifacts):
        shutil.rmtree(folder, ignore_errors=True)
    runner.temp.mkdir(parents=True)
    runner.workspace.mkdir(parents=True)
    job.env.update({key: job.expand(str(value)) for key, value in definition.get("env", {}).items()})
    runner.log(f"== job {name} ({workflow.name}, on {event})")
    for number, step in enumerate(definition["steps"], 1):
        title = step.get("name") or step.get("uses") or step["run"].splitlines()[0]
        if not job.condition(step.get("if")):
            runner.log(f"-- step {number}: {title}: skipped (if: {step.get('if', 'success()')})")
            continue
        began = time.monotonic()
        runner.log(f"-- step {number}: {title}")
        status = _step(job, step, number)
        runner.log(f"-- step {number}: exit {status} in {time.monotonic() - began:.0f} s")
        if status and not job.status:
            job.status = status
    for post in reversed(job.posts):
        post()
    return job


def _step(job: Job, step: dict[str, Any], number: int) -> int:
    if "uses" in step:
        action = step["uses"].split("@")[0]
        with_ = {key: job.expand(str(value)) for key, value in step.get("with", {}).items()}
        if action not in ACTIONS:
            raise CannotRun(f"the action {action} cannot run here")
        outputs = ACTIONS[action](job, with_)
        if "id" in step:
            job.outputs[step["id"]] = outputs
        return 0
    return _script(job, step, number)


def _script(job: Job, step: dict[str, Any], number: int) -> int:
    runner = job.runner
    files = {name: runner.temp / f"_runner_file_commands/{name.lower()}_{number}" for name in _FILES}
    files["GITHUB_OUTPUT"].parent.mkdir(parents=True, exist_ok=True)
    for path in files.values():
        path.touch()
    script = runner.temp / f"step_{number}.sh"
    script.write_text(step["run"])
    env = {
        **_base_env(job),
        **job.env,
        **{key: job.expand(str(value)) for key, value in step.get("env", {}).items()},
        **{name: str(path) for name, path in files.items()},
    }
    shell = ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", str(script)]
    try:
        status = subprocess.run(shell, cwd=runner.workspace, env=env, timeout=STEP_TIMEOUT).returncode
    except subprocess.TimeoutExpired:
        runner.log(f"step {number} ran over {STEP_TIMEOUT:.0f} s: stopped")
        return 124
    if "id" in step:
        job.outputs[step["id"]] = _pairs(files["GITHUB_OUTPUT"].read_text())
    job.env.update(_pairs(files["GITHUB_ENV"].read_text()))
    job.env["PATH"] = os.pathsep.join(
        [*reversed(files["GITHUB_PATH"].read_text().split()), job.env.get("PATH", _base_env(job)["PATH"])]
    )
    job.summary += files["GITHUB_STEP_SUMMARY"].read_text()
    return status


_FILES = ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")


def _pairs(text: str) -> dict[str, str]:
    """``name=value`` lines and ``name<<DELIMITER`` blocks, as GitHub reads its files."""
    found, lines = {}, iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            found[name] = "\n".join(iter(lambda: next(lines), delimiter))
        elif "=" in line:
            name, value = line.split("=", 1)
            found[name] = value
    return found


def _base_env(job: Job) -> dict[str, str]:
    """What a runner gives every step: a clean environment, GitHub's variables, sudo."""
    runner = job.runner
    shims = runner.root / "shims"
    shims.mkdir(parents=True, exist_ok=True)
    sudo = shims / "sudo"
    if not sudo.exists():
        sudo.write_text('#!/bin/sh\nexec "$@"\n')  # the runner's user is root here
        sudo.chmod(0o755)
    path = os.pathsep.join([str(shims), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
    return {
        "PATH": job.env.get("PATH", path),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": job.event,
        "GITHUB_WORKSPACE": str(runner.workspace),
        "GITHUB_JOB": job.name,
        "RUNNER_TEMP": str(runner.temp),
        "RUNNER_TOOL_CACHE": str(runner.toolcache),
        "RUNNER_OS": "Linux",
    }


def _checkout(job: Job, with_: dict[str, str]) -> dict[str, str]:
    workspace = job.runner.workspace
    # actions/checkout fetches one commit unless told fetch-depth: 0 (all history)
    depth = [] if with_.get("fetch-depth") == "0" else ["--depth", "1"]
    shutil.rmtree(workspace)
    url = f"file://{job.source}" if depth else str(job.source)
    subprocess.run(["git", "clone", "-q", "--no-checkout", *depth, url, str(workspace)], check=True)
    subprocess.run(["git", "-C", str(workspace), "fetch", "-q", *depth, "origin", job.ref], check=True)
    subprocess.run(["git", "-C", str(workspace), "checkout", "-q", "--detach", "FETCH_HEAD"], check=True)
    return {}


def _setup_python(job: Job, with_: dict[str, str]) -> dict[str, str]:
    version = with_.get("python-version", "")
    found = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python3"))
    base = str(found[-1]) if found else sys.executable
    if not found:
        job.runner.log(f"setup-python: no Python {version} on this machine, {sys.version.split()[0]} instead")
    venv = job.runner.toolcache / "Python" / version / "x64"
    # pip and nothing else, as every job starts: made once (ensurepip takes seconds), then
    # unpacked afresh at the same path (a venv names its own path) for each job.
    pristine = venv.with_name(f"x64-{Path(base).resolve().parent.parent.name}.tar")
    shutil.rmtree(venv, ignore_errors=True)
    if not pristine.exists():
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
        subprocess.run(["tar", "-cf", str(pristine), "-C", str(venv.parent), venv.name], check=True)
    else:
        subprocess.run(["tar", "-xf", str(pristine), "-C", str(venv.parent)], check=True)
    job.env["PATH"] = os.pathsep.join([str(venv / "bin"), _base_env(job)["PATH"]])
    job.env["pythonLocation"] = str(venv)
    return {"python-path": str(venv / "bin" / "python")}


def _entry(job: Job, key: str) -> Path:
    return job.runner.cache_store / f"{key}.tar"


def _restore(job: Job, with_: dict[str, str]) -> dict[str, str]:
    path, key = Path(with_["path"]), with_["key"]
    hit = _entry(job, key) if _entry(job, key).exists() else None
    for prefix in with_.get("restore-keys", "").split():
        if hit is None:
            older = sorted(job.runner.cache_store.glob(f"{prefix}*.tar"), key=lambda p: p.stat().st_mtime)
            hit = older[-1] if older else None
    if hit is None:
        job.runner.log(f"cache: no entry for {key}")
        return {"cache-hit": "false"}
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-xf", str(hit), "-C", str(path.parent)], check=True)
    hit.touch()  # recently used
    job.runner.log(f"cache: restored {hit.stem} into {path}")
    return {"cache-hit": str(hit.stem == key).lower(), "cache-matched-key": hit.stem}


def _save(job: Job, with_: dict[str, str]) -> dict[str, str]:
    path, key = Path(with_["path"]), with_["key"]
    entry = _entry(job, key)
    if entry.exists() or not path.exists():  # entries are never overwritten, as on GitHub
        return {}
    entry.parent.mkdir(parents=True, exist_ok=True)
    partial = entry.with_suffix(".partial")
    subprocess.run(["tar", "-cf", str(partial), "-C", str(path.parent), path.name], check=True)
    partial.replace(entry)
    for stale in sorted(entry.parent.glob("*.tar"), key=lambda p: p.stat().st_mtime)[:-CACHE_ENTRIES]:
        stale.unlink()
    job.runner.log(f"cache: saved {path} as {key}")
    return {}


def _cache(job: Job, with_: dict[str, str]) -> dict[str, str]:
    outputs = _restore(job, with_)

    def post() -> None:  # actions/cache saves after a job that passed, on a miss
        if job.status == 0:
            _save(job, with_)

    if outputs["cache-hit"] != "true":
        job.posts.append(post)
    return outputs


def _upload_artifact(job: Job, with_: dict[str, str]) -> dict[str, str]:
    path, into = Path(with_["path"]), job.runner.artifacts / with_["name"]
    if not path.exists() or not any(path.iterdir()):
        if with_.get("if-no-files-found", "warn") == "error":
            raise CannotRun(f"upload-artifact: no files at {path}")
        job.runner.log(f"upload-artifact: no files at {path}")
        return {}
    shutil.copytree(path, into)
    job.runner.log(
        f"upload-artifact: {with_['name']}: {sum(1 for p in into.rglob('*') if p.is_file())} files"
    )
    return {}


ACTIONS: dict[str, Callable[[Job, dict[str, str]], dict[str, str]]] = {
    "actions/checkout": _checkout,
    "actions/setup-python": _setup_python,
    "actions/cache": _cache,
    "actions/cache/restore": _restore,
    "actions/cache/save": _save,
    "actions/upload-artifact": _upload_artifact,
}
