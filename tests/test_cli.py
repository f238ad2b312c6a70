"""The command line, run through its real entry points."""

from __future__ import annotations

import datetime
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import IO

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
        (["fib", "٣"], "fastfun: error: N must be a whole number, got '٣'"),
        (["fib", "+5"], "fastfun: error: N must be a whole number, got '+5'"),
        *(
            (
                ["notify", day],
                f"fastfun: error: DAY must be a day of the month (1..31) or a date YYYY-MM-DD, got {day!r}",
            )
            # A date without its dashes is not a day number 20,220,928 (F of it would run for minutes).
            for day in ["2022-02-30", "-1", "0", "32", "20220928", "2022-9-1", "٣", "2022-09-28T00"]
        ),
        ([], "fastfun: error: the following arguments are required: COMMAND (see 'fastfun --help')"),
    ],
)
def test_a_mistake_is_one_line_on_stderr_and_exit_status_2(args: list[str], message: str) -> None:
    result = fastfun(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == message + "\n"


def test_help_is_output_like_any_other() -> None:
    result = fastfun("fib", "--help")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("usage: fastfun fib") and result.stdout.endswith("\n")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_help_that_cannot_be_written_is_one_line_and_exit_status_1() -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "fastfun", "--help"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert (result.returncode, result.stderr) == (
        1,
        "fastfun: error: cannot write the output: No space left on device\n",
    )


def script_env(core: ModuleType) -> dict[str, str]:
    """The environment that makes the console script run ``core``, and fail if it cannot."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASTFUN_")}
    if core.__name__ == "fastfun._core_py":
        env["FASTFUN_NO_EXTENSIONS"] = "1"
    else:
        env["FASTFUN_REQUIRE_EXTENSIONS"] = "1"
    return env


def script(core: ModuleType, *args: str, stdout: int | IO[bytes]) -> subprocess.Popen[bytes]:
    """The installed console script running ``core``; stderr is a pipe to read."""
    assert SCRIPT is not None
    return subprocess.Popen([SCRIPT, *args], env=script_env(core), stdout=stdout, stderr=subprocess.PIPE)


def test_a_reader_that_stops_after_a_few_bytes_ends_the_command_quietly(core: ModuleType) -> None:
    # fastfun fib 1000000 | head -c 10: 208,988 digits, of which the reader takes ten.
    with script(core, "fib", "1000000", stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.read(10) == b"1953282128"
        proc.stdout.close()
        assert proc.stderr.read() == b""
        assert proc.wait(timeout=60) == 1


@pytest.mark.parametrize("args", [["calendar", "2022", "9"], ["fib", "10"], ["info"]])
def test_a_reader_that_is_gone_before_the_output_ends_the_command_quietly(
    core: ModuleType, args: list[str]
) -> None:
    # fastfun calendar 2022 9 | true: the read end is closed before anything is written.
    with script(core, *args, stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        assert proc.stderr.read() == b""
        assert proc.wait(timeout=60) == 1


def test_the_readme_s_pipe_prints_its_ten_digits_and_nothing_else() -> None:
    result = subprocess.run(
        ["sh", "-c", 'exec "$0" fib 1000000 | head -c 10', str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.stdout, result.stderr) == ("1953282128", "")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_an_output_error_is_one_line_on_stderr(core: ModuleType) -> None:
    with open("/dev/full", "wb") as full, script(core, "calendar", "2022", "9", stdout=full) as proc:
        assert proc.stderr is not None
        assert proc.stderr.read() == b"fastfun: error: cannot write the output: No space left on device\n"
        assert proc.wait(timeout=60) == 1


def test_a_closed_standard_output_is_one_line_on_stderr(core: ModuleType) -> None:
    result = subprocess.run(
        ["sh", "-c", 'exec "$0" fib 10 >&-', str(SCRIPT)],
        env=script_env(core),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (
        1,
        "fastfun: error: cannot write the output: standard output is closed\n",
    )


@pytest.mark.parametrize(
    "year, month, title, first_week",
    [
        ("1", "1", "January 1", ["1", "2", "3", "4", "5", "6", "7"]),  # a Monday: no week before it
        ("9999", "12", "December 9999", ["1", "2", "3", "4", "5"]),  # ends on a Friday: no week after
    ],
)
def test_the_first_and_last_months_of_the_calendar_render(
    core: ModuleType, year: str, month: str, title: str, first_week: list[str]
) -> None:
    assert SCRIPT is not None
    result = subprocess.run(
        [SCRIPT, "calendar", year, month], env=script_env(core), capture_output=True, text=True, timeout=60
    )
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0].strip() == title
    day_rows = lines[2::2]
    assert day_rows[0].split() == first_week
    assert [int(day) for row in day_rows for day in row.split()] == list(range(1, 32))
