"""The pull requests CI tries, as GitHub would hold them: a branch from main with one change,
merged into main by a merge commit (GitHub's ``refs/pull/N/merge``: HEAD^1 is main, HEAD^2 the
branch). Standard library only: the package's own tests read the changes too.

``clean`` changes the compiled core without slowing it (a comment, a renamed local).
``regression`` is the talk's: v3 calling a naive recursive Fibonacci in the compiled core, and
the same pull request loosening the gate's settings (the gate reads the base's).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

CORE = "src/fastfun/_core.pyx"
IDENTITY = ["-c", "user.name=fastfun CI", "-c", "user.email=ci@test.invalid"]

# The changes a pull request makes, as replacements in files.
CLEAN = {
    CORE: {
        "    cdef unsigned long long a = 0, b = 1, t\n": "    cdef unsigned long long a = 0, b = 1, carry\n",
        "        t = a + b\n        a = b\n        b = t\n": (
            "        carry = a + b  # the next number of the sequence\n        a = b\n        b = carry\n"
        ),
    }
}
NAIVE_V3 = {
    CORE: {
        "def fun_notification(n, /):": (
            "cdef object _naive_fibonacci(object n):\n"
            "    return n if n <= 1 else _naive_fibonacci(n - 1) + _naive_fibonacci(n - 2)\n\n\n"
            "def fun_notification(n, /):"
        ),
        "    return _notify(n)\n": (
            "    n = _as_count(n, 'fun_notification')\n"
            "    return _naive_fibonacci(n) if n % 7 == 0 else _FIZZBUZZ[n % 15]\n"
        ),
    },
    # ... and the same pull request tries to loosen the gate that judges it.
    "pyproject.toml": {
        "\nthreshold = 0.03\n": "\nthreshold = 1000000\n",
        "\ntripwire = 1.5\n": "\ntripwire = false\n",
    },
}
PULL_REQUESTS = {
    "clean": (CLEAN, "Name the Fibonacci table's carry"),
    "regression": (NAIVE_V3, "v3: naive recursive Fibonacci"),
}


class NoLongerFits(Exception):
    """A change's text is no longer in its file: the pull request needs updating."""


def edit(repo: Path, changes: dict[str, dict[str, str]]) -> None:
    """Each replacement made once; a text that is not there is a change that no longer fits."""
    for path, edits in changes.items():
        file = repo / path
        text = file.read_text()
        for old, new in edits.items():
            if old not in text:
                raise NoLongerFits(f"{path} no longer has {old.strip()!r}: update the pull request")
            text = text.replace(old, new, 1)
        file.write_text(text)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *IDENTITY, *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def merge_checkout(repo: Path, case: str, number: int = 1) -> str:
    """In ``repo`` (main checked out): the pull request's branch ``pr``, its merge into main as
    ``refs/pull/NUMBER/merge``, checked out detached as GitHub's checkout leaves it; its commit."""
    changes, subject = PULL_REQUESTS[case]
    git(repo, "checkout", "-q", "-b", "pr")
    edit(repo, changes)
    git(repo, "commit", "-q", "-a", "-m", subject)
    git(repo, "checkout", "-q", "--detach", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", f"Merge pull request #{number} from pr into main", "pr")
    git(repo, "update-ref", f"refs/pull/{number}/merge", "HEAD")
    return git(repo, "rev-parse", "HEAD")
