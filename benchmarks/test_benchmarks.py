"""The suite: every workload of ``workloads.py`` run by every implementation that applies.

Run ``pytest benchmarks`` (or ``python -m benchmarks`` for the whole report). Test ids are
stable across runs; Bencher keys its history on the full node id, e.g.
``benchmarks/test_benchmarks.py::test_fibonacci_month[compiled]`` (``Case.fullname``).
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.workloads import Case, cases_of


def _params(workload: str) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("case", cases_of(workload), ids=lambda case: case.id)


def _run(benchmark: Any, case: Case) -> None:
    benchmark.extra_info.update(
        workload=case.workload, version=case.version, implementation=case.implementation
    )
    benchmark.group = f"{case.workload} {case.version or ''}".strip()
    benchmark(case.make_round())


@_params("fibonacci_month")
def test_fibonacci_month(benchmark: Any, case: Case) -> None:
    _run(benchmark, case)


@_params("days_in_month")
def test_days_in_month(benchmark: Any, case: Case) -> None:
    _run(benchmark, case)


@_params("month_batch")
def test_month_batch(benchmark: Any, case: Case) -> None:
    _run(benchmark, case)


@_params("fibonacci_big")
def test_fibonacci_big(benchmark: Any, case: Case) -> None:
    _run(benchmark, case)


@_params("api_fun")
def test_api_fun(benchmark: Any, case: Case) -> None:
    _run(benchmark, case)
