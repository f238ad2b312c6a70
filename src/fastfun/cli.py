"""The ``fastfun`` command line: a month as the talk's calendar, and single notifications.

A user's mistake ends in one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys

import fastfun

# Every call of the command line pays for its imports: typing, calendar and platform (~5 ms
# together) are imported only where they are used; type checkers read this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import NoReturn

    from _typeshed import SupportsWrite

# Eleven-character cells, seven of them with a space between: 83 is too wide for 80
# columns, so a cell is ten characters and a week 76.
_CELL = 10
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class UsageError(Exception):
    """A mistake in what the user typed: reported in one line, exit status 2."""


class _Help(Exception):
    """--help was asked for: its text goes out as any other output does (a full disk is an error)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse would print the whole usage first; one line that says what to do is enough.
        raise UsageError(f"{message} (see '{self.prog} --help')")

    def print_help(self, file: SupportsWrite[str] | None = None) -> None:
        if file is not None:
            super().print_help(file)
            return
        # argparse would print it, ignore a failed write and exit 0.
        raise _Help(self.format_help().rstrip("\n"))


def _shown(notification: fastfun.Notification) -> str:
    return "" if notification is None else str(notification)


def render_month(year: int, month: int, today: datetime.date | None = None) -> str:
    """The month as a grid of weeks; each day shows its number and its notification.

    Today's number is put in brackets, as on the talk's slides.
    """
    import calendar

    days = dict(fastfun.month(year, month))
    title = f"{calendar.month_name[month]} {year}"
    width = 7 * _CELL + 6
    lines = [title.center(width).rstrip(), " ".join(f"{d:<{_CELL}}" for d in _WEEKDAYS).rstrip()]
    # Day numbers, 0 outside the month: dates of the weeks' other months would reach past
    # the calendar (year 10000 after December 9999).
    for week in calendar.Calendar(firstweekday=0).monthdayscalendar(year, month):
        numbers, texts = [], []
        for day in week:
            if day == 0:
                numbers.append(" " * _CELL)
                texts.append(" " * _CELL)
                continue
            date = datetime.date(year, month, day)
            number = f"[{date.day}]" if date == today else f"{date.day}"
            numbers.append(f"{number:<{_CELL}}")
            text = _shown(days[date])
            texts.append(f"{text:<{_CELL}}"[:_CELL])
        lines.append(" ".join(numbers).rstrip())
        lines.append(" ".join(texts).rstrip())
    if today is not None and today.year == year and today.month == month:
        lines.append(f"[{today.day}] is today.")
    return "\n".join(lines)


# What a person types: ASCII digits only (int() would also take "+5", "5_0", " 5" and other
# scripts' digits), and a date only as YYYY-MM-DD.
_WHOLE = re.compile(r"-?[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _whole(text: str, what: str) -> int:
    if not _WHOLE.fullmatch(text):
        raise UsageError(f"{what} must be a whole number, got {text!r}")
    return int(text)


def _day(text: str) -> int:
    """A day of the month, 1..31, or a date written YYYY-MM-DD (its day)."""
    try:
        if _DATE.fullmatch(text):
            return datetime.date.fromisoformat(text).day
        if _WHOLE.fullmatch(text) and 1 <= int(text) <= 31:
            return int(text)
    except ValueError:
        pass
    raise UsageError(f"DAY must be a day of the month (1..31) or a date YYYY-MM-DD, got {text!r}")


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser (the documentation renders its help from it)."""
    parser = _Parser(
        prog="fastfun",
        description="The daily fun notification: Fizz, Buzz, FizzBuzz, or F(n) on days divisible by 7.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    cal = commands.add_parser("calendar", help="show a month with every day's notification")
    cal.add_argument("year", nargs="?", metavar="YEAR", help="default: this year")
    cal.add_argument("month", nargs="?", metavar="MONTH", help="1..12, default: this month")
    fib = commands.add_parser("fib", help="print the N-th Fibonacci number")
    fib.add_argument("n", metavar="N", help="a whole number >= 0")
    notify = commands.add_parser("notify", help="print the notification of a day")
    notify.add_argument(
        "day",
        nargs="?",
        metavar="DAY",
        help="a day of the month (1..31) or a date YYYY-MM-DD; default: today",
    )
    commands.add_parser("info", help="show version, core implementation and Python")
    serve = commands.add_parser("serve", help="serve the calendar API (needs fastfun[api])")
    serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    serve.add_argument("--port", default="8000", help="default: 8000")
    serve.add_argument("--workers", metavar="N", help="worker processes, default: one per CPU")
    return parser


def _serve(args: argparse.Namespace) -> str:
    port = _whole(args.port, "--port")
    workers = None if args.workers is None else _whole(args.workers, "--workers")
    if not 0 < port < 65536:
        raise UsageError(f"--port must be in 1..65535, got {port}")
    if workers is not None and not 1 <= workers <= 64:
        raise UsageError(f"--workers must be in 1..64, got {workers}")
    try:
        from fastfun.serve import AddressUnavailable, serve
    except ImportError:
        raise UsageError("serve needs the api extra: pip install 'fastfun[api]'") from None
    try:
        serve(args.host, port, workers)
    except AddressUnavailable as error:  # in use, not this machine's, or privileged
        raise UsageError(str(error)) from None
    return ""


def _run(args: argparse.Namespace) -> str:
    today = datetime.date.today()
    if args.command == "calendar":
        if (args.year is None) != (args.month is None):
            raise UsageError("give both YEAR and MONTH, or neither for this month")
        if args.year is None:
            return render_month(today.year, today.month, today)
        return render_month(_whole(args.year, "YEAR"), _whole(args.month, "MONTH"), today)
    if args.command == "serve":
        return _serve(args)
    if args.command == "fib":
        return str(fastfun.fibonacci(_whole(args.n, "N")))
    if args.command == "notify":
        day = today.day if args.day is None else _day(args.day)
        notification = fastfun.fun_notification(day)
        return f"day {day}: " + ("no notification" if notification is None else str(notification))
    import platform

    gmpy2 = _gmpy2_version()
    return "\n".join(
        [
            f"fastfun {fastfun.__version__}",
            f"implementation: {fastfun.IMPLEMENTATION}",
            f"python: {platform.python_implementation()} {platform.python_version()} ({sys.platform})",
            f"gmpy2: {gmpy2 or 'not installed'}",
        ]
    )


def _gmpy2_version() -> str | None:
    try:
        import gmpy2
    except ImportError:
        return None
    return str(gmpy2.version())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    # F(n) for a large n has far more than the 4300 digits CPython prints by default.
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    try:
        args = parser.parse_args(argv)
        output = _run(args)
    except _Help as help_text:
        return _write(str(help_text))
    except (UsageError, TypeError, ValueError, OverflowError) as error:
        print(f"fastfun: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fastfun: interrupted", file=sys.stderr)
        return 130
    return _write(output) if output else 0


def _write(output: str) -> int:
    """Prints ``output``; returns the exit status.

    A reader that goes away (``fastfun fib 1000000 | head -c 10``) ends the command quietly
    with status 1, as the note on SIGPIPE in Python's ``signal`` docs does it. Restoring
    SIGPIPE's default action instead would kill ``fastfun serve`` whenever a client hangs up.
    Any other output error (a full disk) is one line on stderr, status 1.
    """
    if sys.stdout is None:  # started with file descriptor 1 closed
        print("fastfun: error: cannot write the output: standard output is closed", file=sys.stderr)
        return 1
    try:
        print(output)
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
        return 1
    except OSError as error:
        _discard_stdout()
        print(f"fastfun: error: cannot write the output: {error.strerror or error}", file=sys.stderr)
        return 1
    return 0


def _discard_stdout() -> None:
    # Python flushes stdout once more at exit; what it still holds must go nowhere, not fail again.
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # a stdout without a file descriptor (a test's capture)
        pass
