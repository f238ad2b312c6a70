"""Small git helpers: revisions, files of a commit, exporting a tree, trailers."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

from fastfun_gate.errors import Undecided, UsageError


def git(repo: Path, *args: str) -> str:
    """``git -C repo ARGS``'s output, stripped; Undecided naming git's complaint when it fails."""
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise Undecided(f"git {' '.join(args)}: {result.stderr.strip() or 'failed'}")
    return result.stdout.strip()


def commit_of(repo: Path, rev: str) -> str:
    """The full commit id of ``rev``; UsageError when it names no commit."""
    try:
        return git(repo, "rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}")
    except Undecided:
        raise UsageError(f"{rev!r} is not a commit of the repository {repo}") from None


def tree_of(repo: Path, commit: str) -> str:
    """The id of the commit's whole tree: equal ids, equal files."""
    return git(repo, "rev-parse", f"{commit}^{{tree}}")


def show(repo: Path, commit: str, path: str) -> str | None:
    """The text of ``path`` at ``commit``; None where the commit has no such file."""
    result = subprocess.run(
        ["git", "-C", str(repo), "show", f"{commit}:{path}"], capture_output=True, text=True
    )
    return result.stdout if result.returncode == 0 else None


def export(repo: Path, commit: str, into: Path) -> None:
    """The commit's files, as ``git archive`` gives them (export-ignore honoured), in ``into``,
    which must not exist yet."""
    archive = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", commit], capture_output=True)
    if archive.returncode != 0:
        raise Undecided(f"git archive {commit[:12]}: {archive.stderr.decode().strip()}")
    into.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="tar") if hasattr(tarfile, "data_filter") else tar.extractall(into)


def worktree_commit(repo: Path) -> str:
    """A commit of the working tree's tracked files that no branch points at (``git stash
    create``); HEAD itself when nothing tracked changed."""
    return git(repo, "stash", "create") or commit_of(repo, "HEAD")


def dirty_paths(repo: Path) -> list[str]:
    """Tracked files whose working copy differs from HEAD."""
    status = git(repo, "status", "--porcelain", "--untracked-files=no")
    return [line.split(maxsplit=1)[1] for line in status.splitlines() if line.strip()]  # "XY path"


def subject(repo: Path, commit: str) -> str:
    return git(repo, "log", "-1", "--format=%s", commit)


def trailers(repo: Path, base: str, head: str, key: str) -> list[tuple[str, str]]:
    """``(commit, value)`` of every ``key:`` trailer in the commits of ``base..head``."""
    out = git(
        repo, "log", f"--format=%H%x00%(trailers:key={key},valueonly,separator=%x1f)%x1e", f"{base}..{head}"
    )
    found = []
    for record in out.split("\x1e"):
        commit, _, values = record.strip().partition("\x00")
        found += [(commit, value.strip()) for value in values.split("\x1f") if value.strip()]
    return found
