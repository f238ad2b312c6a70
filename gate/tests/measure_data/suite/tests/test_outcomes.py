"""Benchmarks that leak, fail, skip; and a test that is no benchmark."""

import pytest

kept = []


def test_leak(benchmark):
    benchmark(lambda: kept.append(bytearray(1000)))


def test_fails(benchmark):
    benchmark(len, "abc")
    assert 1 + 1 == 3, "arithmetic is broken"


def test_skipped(benchmark):
    pytest.skip("not on this machine")


def test_not_a_benchmark():
    pass


def double(x):
    """A doctest, which --doctest-modules would collect: never a benchmark.

    >>> double(2)
    4
    """
    return 2 * x
