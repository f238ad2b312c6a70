"""The benchmark gate of a pull request, run here as GitHub runs it: the jobs of
``.github/workflows/benchmarks.yml``, read from the file and run by ``tools.actions``.

    python -m tools.gate_job clean|regression [--root DIR]

1. main is this checkout's HEAD; the push job ``gate-cache`` runs on it (it builds main into
   the gate's cache and saves that under the build's name, unless the name is saved already);
2. the pull request is a branch from main with one change, merged into main by a merge commit
   (GitHub's ``refs/pull/N/merge``: HEAD^1 is main, HEAD^2 the branch), and the job ``gate``
   runs on that merge checkout, restoring main's build from the cache.

``clean`` changes the compiled core without slowing it (a comment, a renamed local): the job
must pass and leave the JSON report, the job summary and the log of the one build it made
(the head's: the base's comes from the cache). ``regression`` is the talk's: v3 calling a
naive recursive Fibonacci in the compiled core (and loosening the gate's rules, which the
base's judge ignores): the job must fail with the gate's REGRESSION. Exit status 0 when the
job did what it must, 1 when not (one line says what differs), 2 for a usage error.

Jobs run under DIR (default: ``fastfun-gate-job`` in the temporary folder), at fixed paths as
on GitHub's runners; the cache store there persists between runs, as GitHub's does.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools import actions
from tools.pull_requests import PULL_REQUESTS, NoLongerFits, edit

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "benchmarks.yml"
IDENTITY = ["-c", "user.name=gate job", "-c", "user.email=gate-job@test.invalid"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *IDENTITY, *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def origin(root: Path, case: str) -> Path:
    """A repository like GitHub's: main is this checkout's HEAD, and refs/pull/1/merge the
    merge of the pull request into main."""
    repo = root / "origin"
    subprocess.run(["rm", "-rf", str(repo)], check=True)
    subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
    git(repo, "checkout", "-q", "-B", "main", "HEAD")
    changes, subject = PULL_REQUESTS[case]
    git(repo, "checkout", "-q", "-b", "pr")
    edit(repo, changes)
    git(repo, "commit", "-q", "-a", "-m", subject)
    git(repo, "checkout", "-q", "--detach", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge pr into main", "pr")
    git(repo, "update-ref", "refs/pull/1/merge", "HEAD")
    git(repo, "checkout", "-q", "main")
    return repo


def check(case: str, job: actions.Job, head: str) -> str | None:
    """What the gate job left that differs from what it must; None when all is as it must be."""
    report = job.runner.temp / "gate-report" / "gate.json"
    uploaded = job.runner.artifacts / "gate-report"
    expected_status, heading = {"clean": (0, "passed"), "regression": (1, "REGRESSION")}[case]
    if job.status != expected_status:
        return f"the gate job exited {job.status}, not {expected_status}"
    if not report.exists():
        return f"no JSON report at {report}"
    data = json.loads(report.read_text())
    if data["exit_status"] != expected_status:
        return f"the JSON report says exit status {data['exit_status']}, not {expected_status}"
    if not job.summary.startswith(f"## Benchmark gate: {heading}"):
        return f"the job summary does not open with '## Benchmark gate: {heading}': {job.summary[:80]!r}"
    logs = sorted(path.name for path in uploaded.glob("build-*.log"))
    if logs != [f"build-{head[:12]}.log"]:
        return f"the artifact should hold the head's build log alone (the base's build is cached): {logs}"
    if case == "regression":
        rows = {row["name"]: row for row in data["rows"]}
        verdict = rows["test_days_in_month[v3-compiled]"]["verdict"]
        if verdict != "REGRESSION (over 20x its base)":
            return f"test_days_in_month[v3-compiled] reads {verdict!r}, not the base's 20x hang rule"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.gate_job", description=(__doc__ or "").strip().splitlines()[0]
    )
    parser.add_argument("case", choices=sorted(PULL_REQUESTS))
    parser.add_argument("--root", type=Path, default=Path(tempfile.gettempdir()) / "fastfun-gate-job")
    args = parser.parse_args(argv)
    began = time.monotonic()
    runner = actions.Runner(args.root.resolve())
    if git(ROOT, "status", "--porcelain", "--untracked-files=no"):
        print("gate job: note: main is this checkout's HEAD, without its uncommitted changes", flush=True)
    try:
        repo = origin(runner.root, args.case)
        pushed = actions.run_job(runner, WORKFLOW, "gate-cache", event="push", source=repo, ref="main")
        if pushed.status:
            print(f"gate job: the push job gate-cache on main failed (exit {pushed.status})", file=sys.stderr)
            return 1
        job = actions.run_job(
            runner, WORKFLOW, "gate", event="pull_request", source=repo, ref="refs/pull/1/merge"
        )
    except (actions.CannotRun, NoLongerFits) as error:
        print(f"gate job: cannot run here: {error}", file=sys.stderr)
        return 1
    problem = check(args.case, job, git(repo, "rev-parse", "refs/pull/1/merge"))
    took = f"{time.monotonic() - began:.0f} s"
    if problem:
        print(f"gate job ({args.case}): {problem} ({took})", file=sys.stderr)
        return 1
    print(f"gate job ({args.case}): as it must be: exit {job.status}, JSON report and job summary ({took})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
