"""Every benchmark workload, defined once.

The pytest-benchmark suite (``test_benchmarks.py``) builds its rounds from here; the timings,
the instruction counts and the gate all run that suite, so a figure always means the same work.

A workload's round is a function of no arguments doing one unit of work. ``limit`` is the
physical limit of a per-day API: the same loop calling ``operator.index``, the least a C
function taking a day can do; every other figure is read as a ratio to it.
"""

from __future__ import annotations

import importlib
import operator
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from types import ModuleType
from typing import Any

Round = Callable[[], Any]

SUITE = "benchmarks/test_benchmarks.py"  # the pytest-benchmark suite, from the repository root

TALK_MONTH = (7, 14, 21, 28)  # the talk's benchmark: the Fibonacci days of a month
DAYS = range(1, 32)


@dataclass(frozen=True)
class Case:
    """One implementation running one workload; ``id`` is its stable benchmark id."""

    workload: str
    version: str | None
    implementation: str
    make_round: Callable[[], Round]

    @property
    def id(self) -> str:
        return f"{self.version}-{self.implementation}" if self.version else self.implementation

    @property
    def name(self) -> str:
        """The pytest-benchmark test name, e.g. ``test_days_in_month[v3-memoized]``."""
        return f"test_{self.workload}[{self.id}]"

    @property
    def fullname(self) -> str:
        """pytest's node id, run from the repository: Bencher's name for the benchmark, e.g.
        ``benchmarks/test_benchmarks.py::test_days_in_month[v3-memoized]``."""
        return f"{SUITE}::{self.name}"


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def _compiled() -> ModuleType:
    return _module("fastfun._core")


def _pure() -> ModuleType:
    return _module("fastfun._core_py")


def _reference() -> ModuleType:
    return _module("fastfun.reference")


def _own_code(round_: Round) -> Round:
    """The round with a code object of its own. Rounds made by one factory share its code,
    and with it the interpreter's specialisation caches: a case measured after another one
    would run code specialised for the other's function."""
    fresh = types.FunctionType(
        round_.__code__.replace(),
        round_.__globals__,
        round_.__name__,
        round_.__defaults__,
        round_.__closure__,
    )
    return fresh


def each_day(func: Callable[[Any], Any], days: Sequence[int]) -> Round:
    """A round calling func once per day, in a plain Python loop (as a caller would)."""

    def round_() -> None:
        for day in days:
            func(day)

    return _own_code(round_)


def _each_day_of(module: Callable[[], ModuleType], name: str, days: Sequence[int]) -> Round:
    return each_day(getattr(module(), name), days)


def batch(func: Callable[[Any], Any], days: range) -> Round:
    def round_() -> None:
        func(days)

    return _own_code(round_)


def gmpy2_available() -> bool:
    try:
        importlib.import_module("gmpy2")
    except ImportError:
        return False
    return True


def flask_available() -> bool:
    try:
        importlib.import_module("flask")
    except ImportError:
        return False
    return True


def api_request(notify: Callable[[int], Any] | None) -> Round:
    """One GET of the talk's endpoint through the whole WSGI stack (Flask's test client);
    ``None`` serves a constant, the endpoint's own cost."""
    app = importlib.import_module("fastfun.app")
    client = app.create_app(notify or (lambda day: None)).test_client()

    def round_() -> None:
        client.get(API_URL)

    return _own_code(round_)


def _gmpy2_fib(n: int) -> Round:
    fib = importlib.import_module("gmpy2").fib

    def round_() -> None:
        fib(n)

    return _own_code(round_)


# The feature of each version: (the talk's implementations, the name in fastfun's cores).
_VERSIONS: dict[str, tuple[dict[str, str], str]] = {
    "v1": ({"talk": "fun_notification_v1"}, "fizz"),
    "v2": ({"talk": "fun_notification_v2"}, "fizzbuzz"),
    "v3": (
        {"naive": "fun_notification_v3_naive", "memoized": "fun_notification_v3_memoized"},
        "fun_notification",
    ),
}

BIG = {"1e4": 10**4, "1e6": 10**6}
API_URL = "/api/v1/fun?date=2022-09-28"  # a Fibonacci day: F(28) = 317811


def _cases() -> Iterator[Case]:
    limit = operator.index
    ref = _reference
    yield Case("fibonacci_month", None, "naive", lambda: each_day(ref().naive_fibonacci, TALK_MONTH))
    yield Case(
        "fibonacci_month",
        None,
        "memoized",
        lambda: each_day(ref().memoized_fibonacci, TALK_MONTH),
    )
    yield Case("fibonacci_month", None, "pure", lambda: each_day(_pure().fibonacci, TALK_MONTH))
    yield Case("fibonacci_month", None, "compiled", lambda: each_day(_compiled().fibonacci, TALK_MONTH))
    yield Case("fibonacci_month", None, "limit", lambda: each_day(limit, TALK_MONTH))

    for version, (talks, core_name) in _VERSIONS.items():
        for impl, ref_name in talks.items():
            yield Case(
                "days_in_month",
                version,
                impl,
                partial(_each_day_of, ref, ref_name, DAYS),
            )
        yield Case("days_in_month", version, "pure", partial(_each_day_of, _pure, core_name, DAYS))
        yield Case("days_in_month", version, "compiled", partial(_each_day_of, _compiled, core_name, DAYS))
        yield Case("days_in_month", version, "limit", lambda: each_day(limit, DAYS))

    yield Case("month_batch", None, "pure", lambda: batch(_pure().fun_notifications, DAYS))
    yield Case("month_batch", None, "compiled", lambda: batch(_compiled().fun_notifications, DAYS))
    yield Case("month_batch", None, "limit", lambda: each_day(limit, DAYS))

    for size, n in BIG.items():
        yield Case("fibonacci_big", size, "pure", partial(_each_day_of, _pure, "fibonacci", (n,)))
        yield Case("fibonacci_big", size, "compiled", partial(_each_day_of, _compiled, "fibonacci", (n,)))
        if gmpy2_available():
            yield Case("fibonacci_big", size, "gmpy2", partial(_gmpy2_fib, n))

    if flask_available():  # the macro benchmark, with the api extra
        yield Case("api_fun", None, "naive", lambda: api_request(ref().fun_notification_v3_naive))
        yield Case(
            "api_fun",
            None,
            "memoized",
            lambda: api_request(ref().fun_notification_v3_memoized),
        )
        yield Case("api_fun", None, "pure", lambda: api_request(_pure().fun_notification))
        yield Case("api_fun", None, "compiled", lambda: api_request(_compiled().fun_notification))
        yield Case("api_fun", None, "limit", lambda: api_request(None))


CASES: list[Case] = list(_cases())
BY_NAME: dict[str, Case] = {case.name: case for case in CASES}
BY_FULLNAME: dict[str, Case] = {case.fullname: case for case in CASES}


def workloads() -> list[str]:
    return list(dict.fromkeys(case.workload for case in CASES))


def cases_of(workload: str) -> list[Case]:
    return [case for case in CASES if case.workload == workload]
