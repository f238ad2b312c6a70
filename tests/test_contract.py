"""The public contract of the core, checked on both implementations."""

from __future__ import annotations

import datetime
import decimal
import fractions
from types import ModuleType
from typing import Any

import pytest
from kinds import PER_DAY, Index, Subclass

SMALL_FIB = [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377]


def test_fibonacci_starts_at_zero_and_one(core: ModuleType) -> None:
    assert [core.fibonacci(n) for n in range(len(SMALL_FIB))] == SMALL_FIB


def test_fibonacci_is_exact_at_the_64_bit_edge(core: ModuleType) -> None:
    assert core.fibonacci(93) == 12200160415121876738
    assert core.fibonacci(94) == 19740274219868223167
    assert core.fibonacci(100) == 354224848179261915075


def test_fibonacci_matches_the_recurrence_well_past_the_table(core: ModuleType) -> None:
    a, b = 0, 1
    for n in range(1200):
        assert core.fibonacci(n) == a, n
        a, b = b, a + b


def test_fibonacci_of_1000_has_the_known_leading_digits(core: ModuleType) -> None:
    digits = str(core.fibonacci(1000))
    assert len(digits) == 209
    assert digits.startswith("43466557686937456435")
    assert digits.endswith("76137795166849228875")


def test_fibonacci_of_a_million_is_practical_and_satisfies_the_doubling_identity(
    core: ModuleType,
) -> None:
    n = 10**6
    f_n, f_n1, f_2n = core.fibonacci(n), core.fibonacci(n + 1), core.fibonacci(2 * n)
    assert f_n.bit_length() == 694241
    assert f_2n == f_n * (2 * f_n1 - f_n)


@pytest.mark.parametrize("n", [2**21, 2**22 + 12345])
def test_fibonacci_is_exact_where_multiplications_are_split(core: ModuleType, n: int) -> None:
    # Cassini's identity F(n-1)F(n+1) - F(n)^2 = (-1)^n pins every bit of the result.
    f_prev, f_n, f_next = core.fibonacci(n - 1), core.fibonacci(n), core.fibonacci(n + 1)
    assert f_next == f_n + f_prev
    assert f_prev * f_next - f_n * f_n == (-1) ** n


@pytest.mark.parametrize("day, expected", [(3, "Fizz"), (5, None), (9, "Fizz"), (0, "Fizz"), (1, None)])
def test_fizz_says_fizz_on_multiples_of_three(core: ModuleType, day: int, expected: Any) -> None:
    assert core.fizz(day) == expected


@pytest.mark.parametrize(
    "day, expected",
    [(15, "FizzBuzz"), (30, "FizzBuzz"), (3, "Fizz"), (5, "Buzz"), (7, None), (0, "FizzBuzz")],
)
def test_fizzbuzz_follows_the_classic_rules(core: ModuleType, day: int, expected: Any) -> None:
    assert core.fizzbuzz(day) == expected


@pytest.mark.parametrize(
    "day, expected",
    [
        (7, 13),
        (14, 377),
        (21, 10946),
        (28, 317811),
        (0, 0),
        (15, "FizzBuzz"),
        (3, "Fizz"),
        (10, "Buzz"),
        (1, None),
    ],
)
def test_fun_notification_prefers_fibonacci_on_multiples_of_seven(
    core: ModuleType, day: int, expected: Any
) -> None:
    assert core.fun_notification(day) == expected


def test_integers_beyond_64_bits_work_everywhere(core: ModuleType) -> None:
    big = 15 * 2**100
    assert core.fizz(big) == "Fizz"
    assert core.fizzbuzz(big) == "FizzBuzz"
    assert core.fun_notification(big) == "FizzBuzz"
    assert core.fizzbuzz(2**64 + 1) is None  # 2**64 + 1 = 3 * 6148914691236517205 + 2
    # 2**63 and 2**63 - 2 are not multiples of 7, so FizzBuzz decides.
    assert core.fun_notifications([big, 2**63, 2**63 - 2]) == ["FizzBuzz", None, "Fizz"]


def test_fibonacci_of_an_n_beyond_40_bits_is_an_overflow_not_a_hang(core: ModuleType) -> None:
    with pytest.raises(OverflowError, match=r"fibonacci\(\) argument is too large"):
        core.fibonacci(2**40)
    with pytest.raises(OverflowError, match=r"fibonacci\(\) argument is too large"):
        core.fibonacci(2**64)
    with pytest.raises(OverflowError, match=r"fun_notification\(\) argument is too large"):
        core.fun_notification(7 * 2**100)


@pytest.mark.parametrize("func", PER_DAY)
@pytest.mark.parametrize("day", [True, Subclass(21), Index(21)], ids=["bool", "int-subclass", "__index__"])
def test_anything_with_index_is_a_day_and_results_are_plain(core: ModuleType, func: str, day: Any) -> None:
    result = getattr(core, func)(day)
    plain = getattr(core, func)(int(day.__index__()))
    assert result == plain
    assert type(result) in (int, str, type(None))
    assert type(result) is type(plain)


def test_numpy_integers_are_days(core: ModuleType) -> None:
    np = pytest.importorskip("numpy")
    assert core.fun_notification(np.int64(28)) == 317811
    assert type(core.fibonacci(np.uint8(90))) is int
    with pytest.raises(TypeError, match="not 'float64'"):
        core.fizz(np.float64(3.0))


@pytest.mark.parametrize("func", PER_DAY)
@pytest.mark.parametrize(
    "value",
    [3.0, "3", None, decimal.Decimal(3), fractions.Fraction(3), 3j, [3], b"3"],
    ids=lambda v: type(v).__name__,
)
def test_a_non_integer_is_a_type_error_naming_its_type(core: ModuleType, func: str, value: Any) -> None:
    with pytest.raises(TypeError) as info:
        getattr(core, func)(value)
    assert str(info.value) == (
        f"{func}() argument must be an integer (int or a type with __index__), not {type(value).__name__!r}"
    )


@pytest.mark.parametrize("func", PER_DAY)
def test_a_negative_integer_is_a_value_error(core: ModuleType, func: str) -> None:
    with pytest.raises(ValueError, match=rf"^{func}\(\) argument must be a non-negative integer, got -7$"):
        getattr(core, func)(-7)
    with pytest.raises(ValueError, match=r"got a 201-bit integer$"):
        getattr(core, func)(-(2**200))


def test_an_error_raised_inside_index_propagates_unchanged(core: ModuleType) -> None:
    class Broken:
        def __index__(self) -> int:
            raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError, match="boom"):
        core.fizzbuzz(Broken())


def test_fun_notifications_equals_the_single_day_calls(core: ModuleType) -> None:
    days = list(range(120))
    expected = [core.fun_notification(d) for d in days]
    assert core.fun_notifications(days) == expected
    assert core.fun_notifications(tuple(days)) == expected
    assert core.fun_notifications(range(120)) == expected
    assert core.fun_notifications(iter(days)) == expected
    assert core.fun_notifications(d for d in days) == expected


@pytest.mark.parametrize(
    "days",
    [range(0), range(5, 0), range(30, 0, -3), range(2, 99, 7), range(2**63 - 10, 2**63 + 10), range(-3, 4)],
    ids=str,
)
def test_fun_notifications_handles_every_kind_of_range(core: ModuleType, days: range) -> None:
    try:
        expected = [core.fun_notification(d) for d in days]
    except (ValueError, OverflowError) as error:
        with pytest.raises(type(error)) as batch:
            core.fun_notifications(days)
        assert str(batch.value) == str(error)
    else:
        assert core.fun_notifications(days) == expected


def test_fun_notifications_raises_on_the_first_bad_item_like_the_single_call(core: ModuleType) -> None:
    for bad, kind in ((-1, ValueError), ("3", TypeError), (2.5, TypeError)):
        with pytest.raises(kind) as single:
            core.fun_notification(bad)
        with pytest.raises(kind) as batch:
            core.fun_notifications([1, 2, bad, None])
        assert str(batch.value) == str(single.value)


def test_fun_notifications_rejects_a_non_iterable(core: ModuleType) -> None:
    with pytest.raises(
        TypeError, match=r"^fun_notifications\(\) argument must be an iterable of integers, not 'int'$"
    ):
        core.fun_notifications(31)


def test_fun_notifications_survives_a_list_changed_during_the_call(core: ModuleType) -> None:
    days: list[Any] = []

    class Shrinking:
        def __index__(self) -> int:
            days.clear()
            return 3

    days.extend([1, Shrinking(), 7, 14])
    assert core.fun_notifications(days) == [None, "Fizz"]


def test_month_lists_every_day_with_its_date(core: ModuleType) -> None:
    september = core.month(2022, 9)
    assert len(september) == 30
    assert september[0] == (datetime.date(2022, 9, 1), None)
    assert september[27] == (datetime.date(2022, 9, 28), 317811)
    assert [note for _, note in september] == [core.fun_notification(d) for d in range(1, 31)]
    assert all(type(date) is datetime.date for date, _ in september)


@pytest.mark.parametrize("year, month", [(1, 1), (9999, 12)])
def test_month_covers_the_first_and_last_months_of_the_calendar(
    core: ModuleType, year: int, month: int
) -> None:
    days = core.month(year, month)
    assert [date for date, _ in days] == [datetime.date(year, month, d) for d in range(1, 32)]
    assert days[27] == (datetime.date(year, month, 28), 317811)


@pytest.mark.parametrize("year, days", [(2024, 29), (2023, 28), (1900, 28), (2000, 29), (1, 28), (9999, 28)])
def test_month_knows_february(core: ModuleType, year: int, days: int) -> None:
    assert len(core.month(year, 2)) == days


@pytest.mark.parametrize(
    "args, message",
    [
        ((2022, 0), "month() month must be in 1..12, got 0"),
        ((2022, 13), "month() month must be in 1..12, got 13"),
        ((0, 1), "month() year must be in 1..9999, got 0"),
        ((10000, 1), "month() year must be in 1..9999, got 10000"),
        ((-(2**80), 1), "month() year must be in 1..9999, got a 81-bit integer"),
    ],
)
def test_month_outside_the_calendar_is_a_value_error(core: ModuleType, args: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        core.month(*args)
    assert str(info.value) == message


def test_month_rejects_a_non_integer(core: ModuleType) -> None:
    with pytest.raises(TypeError, match=r"^month\(\) year must be an integer .*not 'str'$"):
        core.month("2022", 9)
    with pytest.raises(TypeError, match=r"^month\(\) month must be an integer .*not 'float'$"):
        core.month(2022, 9.0)
    assert core.month(Index(2022), True)[0][0] == datetime.date(2022, 1, 1)


def test_errors_leave_no_trace_on_later_calls(core: ModuleType) -> None:
    before = core.fun_notifications(range(32))
    for bad in (-1, "x", 2.0, -(2**70)):
        for func in PER_DAY:
            with pytest.raises((TypeError, ValueError)):
                getattr(core, func)(bad)
    assert core.fun_notifications(range(32)) == before


@pytest.mark.parametrize(
    "name, args",
    [
        ("fibonacci", {"n": 3}),
        ("fizz", {"n": 3}),
        ("fizzbuzz", {"n": 3}),
        ("fun_notification", {"n": 3}),
        ("fun_notifications", {"days": [3]}),
        ("month", {"year": 2022, "month": 9}),
    ],
)
def test_arguments_are_positional_only(core: ModuleType, name: str, args: dict[str, Any]) -> None:
    # The wording is the interpreter's and differs between the cores (docs/api.md says why);
    # the type and the function named are the contract.
    with pytest.raises(TypeError, match=rf"\b{name}\(\)"):
        getattr(core, name)(**args)
