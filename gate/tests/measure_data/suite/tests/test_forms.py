"""Every way a suite calls the benchmark fixture, each measuring the same work: a walk over
``n`` items that allocates nothing. The call form runs at two sizes (its count grows with
the items); each other form at the larger size, to compare with the call form."""

import random

import pytest

SIZES = [1000, 2000]
LARGE = SIZES[-1]


def walk(items):
    for _ in items:
        pass
    return len(items)


@pytest.fixture
def items(request):
    return [None] * request.param


sized = pytest.mark.parametrize("items", SIZES, indirect=True)
large = pytest.mark.parametrize("items", [LARGE], indirect=True)


@sized
def test_call(benchmark, items):
    assert benchmark(walk, items) == len(items)


@large
def test_decorator(benchmark, items):
    @benchmark
    def result():
        return walk(items)

    assert result == len(items)


@large
def test_pedantic_args(benchmark, items):
    assert benchmark.pedantic(walk, args=(items,), rounds=3, iterations=2, warmup_rounds=1) == len(items)


@large
def test_pedantic_setup(benchmark, items):
    def setup():
        [None] * 100_000  # costly, and not the measured call's  # noqa: B018
        return (items,), {}

    def teardown(items):
        sorted(range(10_000))

    assert benchmark.pedantic(walk, setup=setup, teardown=teardown, rounds=5) == len(items)


@large
def test_codspeed_fixture(codspeed_benchmark, items):
    assert codspeed_benchmark(walk, items) == len(items)


@large
@pytest.mark.benchmark
def test_marker(items):
    walk(items)


def test_fixture_attributes(benchmark):
    benchmark.extra_info["size"] = 3
    assert benchmark.name == "test_fixture_attributes"
    assert benchmark.fullname == "tests/test_forms.py::test_fixture_attributes"
    assert benchmark.group is None
    benchmark(walk, [1, 2, 3])


def test_random_draws(benchmark):
    # The work depends on random numbers: counted the same only if every run draws the same.
    benchmark(walk, [None] * random.randrange(1000))
