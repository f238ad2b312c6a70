"""Compiled core, pure twin and the talk's reference agree on every input hypothesis finds."""

from __future__ import annotations

import decimal
import fractions
from types import ModuleType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from kinds import PER_DAY, Index, Subclass, outcome

from fastfun import reference

days = st.integers(min_value=0, max_value=400)
# Any size, but not the n in 50,000..2**40 whose F(n) is slow to compute (and fine to skip:
# the split-multiplication range is covered in test_contract).
huge = st.integers(min_value=-(2**200), max_value=2**200).filter(lambda n: n < 50_000 or n >= 2**40)
anything = st.one_of(
    huge,
    st.booleans(),
    st.builds(Index, huge),
    st.builds(Subclass, huge),
    st.floats(allow_nan=True),
    st.text(max_size=3),
    st.none(),
    st.binary(max_size=2),
    st.builds(decimal.Decimal, st.integers(-100, 100)),
    st.builds(fractions.Fraction, st.integers(-100, 100), st.integers(1, 9)),
    st.complex_numbers(max_magnitude=10),
    st.lists(st.integers(0, 9), max_size=2),
)


@settings(max_examples=400, deadline=None)
@given(value=anything)
def test_every_per_day_function_behaves_the_same_in_both_cores(
    compiled: ModuleType, pure: ModuleType, value: Any
) -> None:
    for name in PER_DAY:
        compiled_func, pure_func = getattr(compiled, name), getattr(pure, name)
        assert outcome(lambda: compiled_func(value)) == outcome(lambda: pure_func(value)), name  # noqa: B023


@settings(max_examples=200, deadline=None)
@given(n=st.integers(min_value=0, max_value=30_000))
def test_fibonacci_is_the_same_number_in_both_cores(compiled: ModuleType, pure: ModuleType, n: int) -> None:
    assert outcome(lambda: compiled.fibonacci(n)) == outcome(lambda: pure.fibonacci(n))


@settings(max_examples=200, deadline=None)
@given(day=days)
def test_both_cores_agree_with_the_talks_memoized_version(
    compiled: ModuleType, pure: ModuleType, day: int
) -> None:
    expected = outcome(lambda: reference.fun_notification_v3_memoized(day))
    assert outcome(lambda: compiled.fun_notification(day)) == expected
    assert outcome(lambda: pure.fun_notification(day)) == expected
    assert compiled.fizz(day) == pure.fizz(day) == reference.fun_notification_v1(day)
    assert compiled.fizzbuzz(day) == pure.fizzbuzz(day) == reference.fun_notification_v2(day)


@settings(max_examples=100, deadline=None)
@given(day=st.integers(min_value=0, max_value=25))
def test_the_naive_reference_agrees_with_the_memoized_one(day: int) -> None:
    assert reference.naive_fibonacci(day) == reference.memoized_fibonacci(day)
    assert reference.fun_notification_v3_naive(day) == reference.fun_notification_v3_memoized(day)


batches = st.one_of(
    st.lists(anything, max_size=6),
    st.lists(anything, max_size=6).map(tuple),
    st.builds(range, st.integers(-5, 200), st.integers(-5, 200), st.integers(1, 9)),
    st.builds(range, st.integers(-5, 200), st.integers(-5, 200), st.integers(-9, -1)),
    st.lists(days, max_size=6).map(iter),
    st.lists(days, max_size=6).map(lambda xs: (x for x in xs)),
    anything,
)


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_fun_notifications_behaves_the_same_in_both_cores(
    compiled: ModuleType, pure: ModuleType, data: st.DataObject
) -> None:
    batch = data.draw(batches)
    # An iterator is used up by one call: draw the same items twice instead.
    if not isinstance(batch, (list, tuple, range)) and hasattr(batch, "__next__"):
        items = list(batch)
        first, second = iter(items), iter(items)
    else:
        first = second = batch
    assert outcome(lambda: compiled.fun_notifications(first)) == outcome(
        lambda: pure.fun_notifications(second)
    )


@settings(max_examples=300, deadline=None)
@given(year=st.one_of(st.integers(-5, 10_005), anything), month=st.one_of(st.integers(-1, 14), anything))
def test_month_behaves_the_same_in_both_cores(
    compiled: ModuleType, pure: ModuleType, year: Any, month: Any
) -> None:
    assert outcome(lambda: compiled.month(year, month)) == outcome(lambda: pure.month(year, month))
