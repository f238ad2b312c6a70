"""The pure-Python twin of ``fastfun._core``.

It keeps the compiled core's functions in the same order, with the same docstrings and
the same argument contract, so the two can be read side by side and tested against each
other. It is what runs on PyPy, with ``FASTFUN_NO_EXTENSIONS`` set, or from a pure wheel.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from operator import index as _index

# typing is for type checkers only (which read this name as true): the compiled core imports
# this module for large F(n), and importing typing costs ~7 ms.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, SupportsIndex

    from fastfun import Notification

# gmpy2 is optional (GMP's Fibonacci is far faster for large n) and importing it costs ~20 ms
# (it loads importlib.metadata), so it is looked up on the first F(n) with n >= _GMP_IMPORT_MIN:
# below, CPython ints take under 20 us (F(9999): 17 us against 4.8 us with gmpy2), a
# thousandth of the import, and a one-shot `fastfun fib 100` should not pay for it. Once
# found, gmpy2 serves every n above the table.
# _gmp_fib: gmpy2.fib once found, None without gmpy2 (or when a test switches it off).
_NOT_LOOKED_UP: Any = object()
_gmp_fib: Any = _NOT_LOOKED_UP
_GMP_IMPORT_MIN = 10_000

# F(93) is the largest Fibonacci number below 2**64: the table holds every exact 64-bit one.
_TABLE_MAX = 93
# F(2**40) would have 7.6e11 bits (95 GB) and take days: a larger n is refused up front
# rather than left to exhaust the machine's memory.
_N_BITS_MAX = 40
# Operands above this many bits are split (Karatsuba) so that no single CPython multiply
# runs for more than a fraction of a second: Ctrl-C is then seen between the pieces.
_SPLIT_BITS = 1 << 21
# gmpy2 (when installed) takes over right above the table: measured on CPython 3.11, x86-64,
# int(gmpy2.fib(n)) beat the int doubling already at n = 100 (0.23 us against 0.94 us) and
# by 7.5x at n = 10**5. Only up to 10**8 (0.44 s, an 8.7 MB result): a GMP call cannot be
# interrupted by Ctrl-C, and GMP aborts the whole process when an allocation fails, where
# CPython raises MemoryError. Above, CPython ints take over: slower, but stoppable and safe.
_GMP_FIB_MAX = 100_000_000

_FIZZBUZZ: tuple[str | None, ...] = tuple(
    "FizzBuzz" if d % 15 == 0 else "Fizz" if d % 3 == 0 else "Buzz" if d % 5 == 0 else None for d in range(15)
)


def _fib_table() -> tuple[int, ...]:
    table = [0, 1]
    while len(table) <= _TABLE_MAX:
        table.append(table[-1] + table[-2])
    return tuple(table)


_FIB: tuple[int, ...] = _fib_table()

# The notification of every day the table covers (a month's days among them), ready-made:
# a day's notification depends only on its number.
_DAY_NOTES: tuple[Notification, ...] = tuple(
    _FIZZBUZZ[d % 15] if d % 7 else _FIB[d] for d in range(_TABLE_MAX + 1)
)


def _shown(n: int) -> str:
    # A huge number is described, not printed: printing it could take longer than the call.
    if n.bit_length() <= 64:
        return str(n)
    return f"a {n.bit_length()}-bit integer"


def _as_int(n: Any, func: str, what: str) -> int:
    """Return n as a plain int, or raise the contract's TypeError."""
    try:
        return _index(n)
    except TypeError:
        raise TypeError(
            f"{func}() {what} must be an integer (int or a type with __index__), not {type(n).__name__!r}"
        ) from None


def _as_count(n: Any, func: str, what: str = "argument") -> int:
    """Return n as a plain non-negative int, or raise the contract's error."""
    value = _as_int(n, func, what)
    if value < 0:
        raise ValueError(f"{func}() {what} must be a non-negative integer, got {_shown(value)}")
    return value


def _mul(x: int, y: int) -> int:
    """x * y for non-negative ints, split into pieces CPython multiplies quickly."""
    bits = max(x.bit_length(), y.bit_length())
    if bits <= _SPLIT_BITS:
        return x * y
    half = bits >> 1
    mask = (1 << half) - 1
    x_hi, x_lo = x >> half, x & mask
    if x is y:
        hi = _mul(x_hi, x_hi)
        lo = _mul(x_lo, x_lo)
        both = x_hi + x_lo
        mid = _mul(both, both)
    else:
        y_hi, y_lo = y >> half, y & mask
        hi = _mul(x_hi, y_hi)
        lo = _mul(x_lo, y_lo)
        mid = _mul(x_hi + x_lo, y_hi + y_lo)
    return (hi << (2 * half)) + ((mid - hi - lo) << half) + lo


def _lucas_doubling(n: int) -> int:
    """F(n) for n > 93 by doubling the pair (F(k), L(k)), L the Lucas numbers.

    Each step costs two squarings: L(2k) = L(k)**2 - 2(-1)**k and
    F(2k) = F(k)L(k) = ((F(k) + L(k))**2 - L(k)**2 - F(k)**2) / 2 with
    5F(k)**2 = L(k)**2 - 4(-1)**k; the last step needs F alone, one multiplication.
    """
    shift = n.bit_length() - 6
    k = n >> shift  # 32 <= k < 64: start from the table
    f = _FIB[k]
    lucas = _FIB[k - 1] + _FIB[k + 1]
    for bit in range(shift - 1, 0, -1):
        sign = -1 if k & 1 else 1
        l_sq = _mul(lucas, lucas)
        total = f + lucas
        f_sq = (l_sq - 4 * sign) // 5
        f = (_mul(total, total) - l_sq - f_sq) >> 1
        lucas = l_sq - 2 * sign
        k <<= 1
        if (n >> bit) & 1:
            f, lucas = (f + lucas) >> 1, (5 * f + lucas) >> 1
            k += 1
    if n & 1:  # F(2k+1) = F(k+1)L(k) - (-1)**k
        return _mul((f + lucas) >> 1, lucas) - (-1 if k & 1 else 1)
    return _mul(f, lucas)  # F(2k) = F(k)L(k)


def _gmp() -> Any:
    """gmpy2.fib, imported on first use; None when gmpy2 is not installed."""
    global _gmp_fib  # noqa: PLW0603 - set once, on first need
    if _gmp_fib is _NOT_LOOKED_UP:
        try:
            from gmpy2 import fib
        except ImportError:  # pragma: no cover - depends on the environment
            fib = None
        _gmp_fib = fib
    return _gmp_fib


def _fib_large(n: int, func: str) -> int:
    if n <= _TABLE_MAX:
        return _FIB[n]
    if n.bit_length() > _N_BITS_MAX:
        raise OverflowError(f"{func}() argument is too large: F(n) for n >= 2**40 would need over 90 GB")
    fib = _gmp_fib
    if fib is _NOT_LOOKED_UP:
        fib = _gmp() if n >= _GMP_IMPORT_MIN else None
    if fib is not None and n <= _GMP_FIB_MAX:
        return int(fib(n))
    return _lucas_doubling(n)


def fibonacci(n: SupportsIndex, /) -> int:
    """Return the n-th Fibonacci number, F(0) = 0, F(1) = 1, exactly, for every n >= 0.

    >>> fibonacci(28)
    317811
    """
    n = n if type(n) is int and n >= 0 else _as_count(n, "fibonacci")
    if n <= _TABLE_MAX:
        return _FIB[n]
    return _fib_large(n, "fibonacci")


def fizz(n: SupportsIndex, /) -> str | None:
    """Return the v1 notification for day n: "Fizz" if 3 divides n, else None.

    >>> fizz(9)
    'Fizz'
    """
    n = n if type(n) is int and n >= 0 else _as_count(n, "fizz")
    return "Fizz" if n % 3 == 0 else None


def fizzbuzz(n: SupportsIndex, /) -> str | None:
    """Return the v2 notification for day n: "FizzBuzz", "Fizz", "Buzz" or None.

    >>> fizzbuzz(15)
    'FizzBuzz'
    """
    n = n if type(n) is int and n >= 0 else _as_count(n, "fizzbuzz")
    return _FIZZBUZZ[n % 15]


def fun_notification(n: SupportsIndex, /) -> Notification:
    """Return the v3 notification for day n: F(n) if 7 divides n, else fizzbuzz(n).

    >>> fun_notification(14)
    377
    """
    if type(n) is int and 0 <= n <= _TABLE_MAX:
        return _DAY_NOTES[n]
    n = _as_count(n, "fun_notification")
    if n % 7:
        return _FIZZBUZZ[n % 15]
    return _fib_large(n, "fun_notification")


def fun_notifications(days: Iterable[SupportsIndex], /) -> list[Notification]:
    """Return [fun_notification(d) for d in days] for any iterable of days, in one call.

    >>> fun_notifications(range(5, 8))
    ['Buzz', 'Fizz', 13]
    """
    if type(days) is range and days.start >= 0 and days.step > 0:
        # Every day is a plain non-negative int: skip the per-day checks.
        if days.stop <= _TABLE_MAX + 1:
            return [_DAY_NOTES[d] for d in days]
        return [_FIZZBUZZ[d % 15] if d % 7 else _fib_large(d, "fun_notification") for d in days]
    try:
        items = iter(days)
    except TypeError:
        raise TypeError(
            f"fun_notifications() argument must be an iterable of integers, not {type(days).__name__!r}"
        ) from None
    return [fun_notification(d) for d in items]


def _days_in_month(year: int, month_: int) -> int:
    if month_ == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month_ in (4, 6, 9, 11) else 31


def _in_range(value: Any, func: str, what: str, low: int, high: int) -> int:
    number = value if type(value) is int else _as_int(value, func, what)
    if not low <= number <= high:
        raise ValueError(f"{func}() {what} must be in {low}..{high}, got {_shown(number)}")
    return number


def month(year: SupportsIndex, month: SupportsIndex, /) -> list[tuple[datetime.date, Notification]]:
    """Return [(date, fun_notification(date.day)), ...] for every day of that month.

    >>> month(2022, 9)[27]
    (datetime.date(2022, 9, 28), 317811)
    """
    y = _in_range(year, "month", "year", datetime.MINYEAR, datetime.MAXYEAR)
    m = _in_range(month, "month", "month", 1, 12)
    date = datetime.date
    return [(date(y, m, d), _DAY_NOTES[d]) for d in range(1, _days_in_month(y, m) + 1)]
