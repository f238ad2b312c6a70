"""A user's code that calls the API passes mypy --strict against the installed package."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

USER_CODE = """
import datetime
import fastfun
from fastfun import Notification

n: int = fastfun.fibonacci(28)
f: str | None = fastfun.fizz(9)
fb: str | None = fastfun.fizzbuzz(15)
note: Notification = fastfun.fun_notification(14)
notes: list[Notification] = fastfun.fun_notifications(range(1, 32))
days: list[tuple[datetime.date, Notification]] = fastfun.month(2022, 9)
which: str = fastfun.IMPLEMENTATION
"""

WRONG_CODE = """
import fastfun
s: str = fastfun.fibonacci(3)
"""


def mypy(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("mypy")
    source = tmp_path / "user.py"
    source.write_text(textwrap.dedent(code))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            # Plain messages to compare, whatever the caller's FORCE_COLOR (ci.yml sets it).
            "--no-color-output",
            "--python-version",
            "3.10",
            str(source),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )


def test_user_code_type_checks_under_mypy_strict(tmp_path: Path) -> None:
    result = mypy(tmp_path, USER_CODE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_catches_a_wrong_use(tmp_path: Path) -> None:
    result = mypy(tmp_path, WRONG_CODE)
    assert result.returncode == 1
    assert (
        'Incompatible types in assignment (expression has type "int", variable has type "str")'
        in result.stdout
    )
