"""The command line, run through its real entry points."""

from __future__ import annotations

import datetime
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = shutil.which("fastfun", path=str(Path(sys.executable).parent))


def fastfun(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fastfun", *args], capture_output=True, text=True, timeout=120
    )


def test_the_console_script_is_installed_and_runs() -> None:
    assert SCRIPT is not None
    result = subprocess.run([SCRIPT, "fib", "10"], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "55\n", "")


def test_fib_prints_the_exact_number() -> None:
    assert fastfun("fib", "100").stdout == "354224848179261915075\n"


def test_fib_prints_numbers_beyond_the_default_digit_limit() -> None:
    a, b = 0, 1
    for _ in range(30000):
        a, b = b, a + b
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        expected = str(a)
    finally:
        sys.set_int_max_str_digits(limit)
    assert len(expected) == 6270  # past CPython's default limit of 4300 digits
    assert fastfun("fib", "30000").stdout == expected + "\n"


def test_notify_takes_a_day_or_a_date() -> None:
    assert fastfun("notify", "28").stdout == "day 28: 317811\n"
    assert fastfun("notify", "2022-09-15").stdout == "day 15: FizzBuzz\n"
    assert fastfun("notify", "1").stdout == "day 1: no notification\n"


def test_notify_defaults_to_today() -> None:
    out = fastfun("notify").stdout
    assert out.startswith(f"day {datetime.date.today().day}: ")


def test_calendar_shows_the_talks_month_in_80_columns() -> None:
    result = fastfun("calendar", "2022", "9")
    lines = result.stdout.splitlines()
    assert result.returncode == 0
    assert lines[0].strip() == "September 2022"
    assert lines[1].split() == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert max(len(line) for line in lines) <= 80
    week = lines.index(next(line for line in lines if line.startswith("26 ")))
    assert lines[week].split() == ["26", "27", "28", "29", "30"]
    assert lines[week + 1].split() == ["Fizz", "317811", "FizzBuzz"]


def test_calendar_marks_today() -> None:
    today = datetime.date.today()
    out = fastfun("calendar").stdout
    assert f"[{today.day}]" in out
    assert f"{today:%B} {today.year}" in out


def test_info_names_the_core_in_use() -> None:
    out = fastfun("info").stdout
    expected = (
        "pure"
        if os.environ.get("FASTFUN_NO_EXTENSIONS") or os.environ.get("FASTFUN_EXPECT_PURE")
        else "compiled"
    )
    assert f"implementation: {expected}" in out
    assert f"python: {platform.python_implementation()} " in out
    assert "gmpy2: " in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["fib", "-3"], "fastfun: error: fibonacci() argument must be a non-negative integer, got -3"),
        (["fib", "x"], "fastfun: error: N must be a whole number, got 'x'"),
        (["fib"], "fastfun: error: the following arguments are required: N (see 'fastfun fib --help')"),
        (["calendar", "2022", "13"], "fastfun: error: month() month must be in 1..12, got 13"),
        (["calendar", "2022"], "fastfun: error: give both YEAR and MONTH, or neither for this month"),
        (["calendar", "0", "1"], "fastfun: error: month() year must be in 1..9999, got 0"),
        (
            ["notify", "2022-02-30"],
            "fastfun: error: DAY must be a day number or a date YYYY-MM-DD, got '2022-02-30'",
        ),
        (
            ["notify", "-1"],
            "fastfun: error: fun_notification() argument must be a non-negative integer, got -1",
        ),
        ([], "fastfun: error: the following arguments are required: COMMAND (see 'fastfun --help')"),
    ],
)
def test_a_mistake_is_one_line_on_stderr_and_exit_status_2(args: list[str], message: str) -> None:
    result = fastfun(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == message + "\n"
