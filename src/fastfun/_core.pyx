# cython: language_level=3, freethreading_compatible=True, embedsignature=True
# cython: binding=False, always_allow_keywords=False, boundscheck=False, wraparound=False
# cython: cdivision=True
"""The compiled core of fastfun; ``fastfun._core_py`` is its pure-Python twin.

The single-argument functions (all but ``month``) are METH_O (``binding=False`` and
``always_allow_keywords=False``), the cheapest call CPython has: the same one
``operator.index`` uses. Everything the module keeps is immutable after import (tuples,
ints, strings), except the twin's large-F(n) function, looked up once on first need;
threads racing to look it up store the same function. So it needs no lock and no GIL:
hence ``freethreading_compatible``.
"""

import datetime
from operator import index as _index

from cpython.datetime cimport date_new, import_datetime
from cpython.list cimport PyList_GET_SIZE, PyList_New, PyList_SET_ITEM
from cpython.long cimport PyLong_AsLongLongAndOverflow, PyLong_CheckExact
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_GET_SIZE


import_datetime()

# F(93) is the largest Fibonacci number below 2**64: the table holds every exact 64-bit one.
cdef enum:
    TABLE_MAX = 93

cdef tuple _FIZZBUZZ = tuple(
    "FizzBuzz" if d % 15 == 0 else "Fizz" if d % 3 == 0 else "Buzz" if d % 5 == 0 else None
    for d in range(15)
)


cdef tuple _fib_table():
    # Computed in unsigned 64-bit arithmetic, then kept as ready-made ints so that a
    # table hit returns a new reference and allocates nothing.
    cdef unsigned long long a = 0, b = 1, t
    cdef list table = []
    cdef int i
    for i in range(TABLE_MAX + 1):
        table.append(a)
        t = a + b
        a = b
        b = t
    return tuple(table)


cdef tuple _FIB = _fib_table()

# The notification of every day the table covers (a month's days among them), ready-made:
# a day's notification depends only on its number.
cdef tuple _DAY_NOTES = tuple(
    _FIZZBUZZ[d % 15] if d % 7 else _FIB[d] for d in range(TABLE_MAX + 1)
)


cdef str _shown(object n):
    # A huge number is described, not printed: printing it could take longer than the call.
    if n.bit_length() <= 64:
        return str(n)
    return f"a {n.bit_length()}-bit integer"


cdef object _as_int(object n, str func, str what):
    """Return n as a plain int, or raise the contract's TypeError."""
    try:
        return _index(n)
    except TypeError:
        raise TypeError(
            f"{func}() {what} must be an integer (int or a type with __index__), "
            f"not {type(n).__name__!r}"
        ) from None


cdef object _as_count(object n, str func, str what="argument"):
    """Return n as a plain non-negative int, or raise the contract's error."""
    value = _as_int(n, func, what)
    if value < 0:
        raise ValueError(f"{func}() {what} must be a non-negative integer, got {_shown(value)}")
    return value


# Beyond the table only Python-int (or gmpy2) arithmetic happens, so that path is written
# once, in the twin (the overflow check, gmpy2's lookup, threshold and limit, and the split
# multiplications that let Ctrl-C through): a compiled copy was measured to gain nothing
# there (F(10**6) without gmpy2: 406,131,808 instructions compiled, 405,846,193 pure). Only
# the hand-over to gmpy2 is done here, reading the twin's settings live: as a Python call it
# would cost 7% at F(10**4). The twin is imported on first need.
# One global, read once per call into a local: on a free-threaded build a second global set
# beside it could be seen out of order by another thread.
cdef object _twin = None


cdef object _fib_large(object n, str func):
    global _twin
    if n <= TABLE_MAX:
        return _FIB[n]
    twin = _twin
    if twin is None:
        import fastfun._core_py as twin
        _twin = twin
    fib = twin._gmp_fib
    if fib is twin._NOT_LOOKED_UP:
        fib = twin._gmp() if n >= twin._GMP_IMPORT_MIN else None
    # _GMP_FIB_MAX is far below 2**40, the overflow limit: no need to check that first.
    if fib is not None and n <= twin._GMP_FIB_MAX:
        return int(fib(n))
    return twin._fib_large(n, func)


cdef inline bint _small_count(object n, long long *value):
    # True when n is an exact int in 0..2**63-1, stored in value: the fast path of every
    # per-day function. Anything else takes the general path and its checks.
    cdef int overflow = 0
    if not PyLong_CheckExact(n):
        return False
    value[0] = PyLong_AsLongLongAndOverflow(n, &overflow)
    return overflow == 0 and value[0] >= 0


def fibonacci(n, /):
    """Return the n-th Fibonacci number, F(0) = 0, F(1) = 1, exactly, for every n >= 0.

    >>> fibonacci(28)
    317811
    """
    cdef long long v
    if _small_count(n, &v) and v <= TABLE_MAX:
        return _FIB[v]
    return _fib_large(_as_count(n, "fibonacci"), "fibonacci")


def fizz(n, /):
    """Return the v1 notification for day n: "Fizz" if 3 divides n, else None.

    >>> fizz(9)
    'Fizz'
    """
    cdef long long v
    if _small_count(n, &v):
        return "Fizz" if v % 3 == 0 else None
    return "Fizz" if _as_count(n, "fizz") % 3 == 0 else None


def fizzbuzz(n, /):
    """Return the v2 notification for day n: "FizzBuzz", "Fizz", "Buzz" or None.

    >>> fizzbuzz(15)
    'FizzBuzz'
    """
    cdef long long v
    if _small_count(n, &v):
        return _FIZZBUZZ[v % 15]
    return _FIZZBUZZ[_as_count(n, "fizzbuzz") % 15]


cdef inline object _notify_small(long long v):
    if v <= TABLE_MAX:
        return _DAY_NOTES[v]
    if v % 7:
        return _FIZZBUZZ[v % 15]
    return _fib_large(v, "fun_notification")


cdef object _notify(object n):
    cdef long long v
    if _small_count(n, &v):
        return _notify_small(v)
    n = _as_count(n, "fun_notification")
    if n % 7:
        return _FIZZBUZZ[n % 15]
    return _fib_large(n, "fun_notification")


def fun_notification(n, /):
    """Return the v3 notification for day n: F(n) if 7 divides n, else fizzbuzz(n).

    >>> fun_notification(14)
    377
    """
    return _notify(n)


cdef extern from *:
    bint __builtin_mul_overflow(long long, long long, long long *) nogil
    bint __builtin_add_overflow(long long, long long, long long *) nogil


cdef object _notify_range(object days):
    # A range is walked in C when all its days fit in 0..2**63-1, made without creating an
    # int per day. None means "not such a range": the general path then raises or works.
    cdef int overflow_start = 0, overflow_step = 0
    cdef long long start = PyLong_AsLongLongAndOverflow(days.start, &overflow_start)
    cdef long long step = PyLong_AsLongLongAndOverflow(days.step, &overflow_step)
    cdef long long last
    cdef Py_ssize_t i, size
    if overflow_start or overflow_step or start < 0:
        return None
    try:
        size = len(days)
    except OverflowError:  # more days than a list can hold: the general path fails the same
        return None
    if size and (
        __builtin_mul_overflow(size - 1, step, &last)
        or __builtin_add_overflow(start, last, &last)
        or last < 0
    ):
        return None
    cdef list out = PyList_New(size)
    for i in range(size):
        item = _notify_small(start + i * step)
        Py_INCREF(item)
        PyList_SET_ITEM(out, i, item)
    return out


def fun_notifications(days, /):
    """Return [fun_notification(d) for d in days] for any iterable of days, in one call.

    >>> fun_notifications(range(5, 8))
    ['Buzz', 'Fizz', 13]
    """
    cdef list out
    cdef Py_ssize_t i
    if type(days) is range:
        out = _notify_range(days)
        if out is not None:
            return out
    if type(days) is list:
        # The size is read again on every step: an item's __index__ may change the list.
        out = []
        i = 0
        while i < PyList_GET_SIZE(days):
            out.append(_notify((<list>days)[i]))
            i += 1
        return out
    if type(days) is tuple:
        out = PyList_New(PyTuple_GET_SIZE(days))
        for i in range(PyTuple_GET_SIZE(days)):
            item = _notify((<tuple>days)[i])
            Py_INCREF(item)
            PyList_SET_ITEM(out, i, item)
        return out
    try:
        items = iter(days)
    except TypeError:
        raise TypeError(
            "fun_notifications() argument must be an iterable of integers, "
            f"not {type(days).__name__!r}"
        ) from None
    return [_notify(d) for d in items]


cdef int _days_in_month(int year, int month_):
    if month_ == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month_ in (4, 6, 9, 11) else 31


cdef int _in_range(object value, str func, str what, int low, int high) except? -1:
    number = value if type(value) is int else _as_int(value, func, what)
    if not low <= number <= high:
        raise ValueError(f"{func}() {what} must be in {low}..{high}, got {_shown(number)}")
    return number


def month(year, month, /):
    """Return [(date, fun_notification(date.day)), ...] for every day of that month.

    >>> month(2022, 9)[27]
    (datetime.date(2022, 9, 28), 317811)
    """
    cdef int y = _in_range(year, "month", "year", datetime.MINYEAR, datetime.MAXYEAR)
    cdef int m = _in_range(month, "month", "month", 1, 12)
    cdef int d
    return [(date_new(y, m, d), _DAY_NOTES[d]) for d in range(1, _days_in_month(y, m) + 1)]
