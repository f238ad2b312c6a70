"""The talk's own implementations, kept as they were shown.

They are the baselines of the benchmarks (the regression and its fix) and oracles for the
tests. They take plain non-negative ints and check nothing. Not part of fastfun's API: use
``fastfun.fibonacci`` and friends.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fastfun import Notification


def naive_fibonacci(n: int) -> int:
    """The recursive Fibonacci that v3 shipped with: exponential time.

    >>> naive_fibonacci(10)
    55
    """
    if n <= 1:
        return n
    return naive_fibonacci(n - 1) + naive_fibonacci(n - 2)


def memoized_fibonacci(n: int, pad: dict[int, int] | None = None) -> int:
    """The fix: the same recursion, remembering each result in a pad made afresh per call.

    >>> memoized_fibonacci(28)
    317811
    """
    if pad is None:
        pad = {}
    if n <= 1:
        return n
    if n not in pad:
        pad[n] = memoized_fibonacci(n - 1, pad) + memoized_fibonacci(n - 2, pad)
    return pad[n]


def fun_notification_v1(n: int) -> str | None:
    """v1: "Fizz" on days divisible by 3.

    >>> fun_notification_v1(3)
    'Fizz'
    """
    if n % 3 == 0:
        return "Fizz"
    return None


def fun_notification_v2(n: int) -> str | None:
    """v2: FizzBuzz.

    >>> fun_notification_v2(10)
    'Buzz'
    """
    if n % 15 == 0:
        return "FizzBuzz"
    if n % 3 == 0:
        return "Fizz"
    if n % 5 == 0:
        return "Buzz"
    return None


def fun_notification_v3_naive(n: int) -> Notification:
    """v3 as it shipped: the n-th Fibonacci number on days divisible by 7, naively.

    >>> fun_notification_v3_naive(21)
    10946
    """
    if n % 7 == 0:
        return naive_fibonacci(n)
    return fun_notification_v2(n)


def fun_notification_v3_memoized(n: int) -> Notification:
    """v3 after the fix: the same rule with the memoized Fibonacci.

    >>> fun_notification_v3_memoized(28)
    317811
    """
    if n % 7 == 0:
        return memoized_fibonacci(n)
    return fun_notification_v2(n)
