"""Benchmarks measure the installed package, with the compiled core required."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("FASTFUN_REQUIRE_EXTENSIONS", "1")


def pytest_configure(config: pytest.Config) -> None:
    # Rounds of a few hundred nanoseconds: with pytest-benchmark's default calibration the
    # timer's own cost is a large share of them; a tenfold finer precision packs enough
    # iterations into each round for the figures to be the code's, not the clock's.
    if getattr(config.option, "benchmark_calibration_precision", None) == 10:
        config.option.benchmark_calibration_precision = 100
