"""The time tripwire decides only on a slowdown that holds when timed again."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.gate import run, tripwire
from benchmarks.gate.judge import Rules

RULES = Rules(threshold=0.03, tripwire=1.5, hang=20.0, pairs=5, source="test")


def _timings(monkeypatch: pytest.MonkeyPatch, *ratios: float | None) -> list[int]:
    """Makes tripwire.ratio answer ``ratios`` in turn; returns the pair counts it was asked for."""
    answers: Iterator[float | None] = iter(ratios)
    asked: list[int] = []

    def ratio(*args: Any) -> tuple[float | None, str]:
        asked.append(args[4])
        return next(answers), ""

    monkeypatch.setattr(tripwire, "ratio", ratio)
    return asked


def _timed() -> tuple[float | None, list[str]]:
    return run.timed(None, None, Path("."), "test_case", RULES)  # type: ignore[arg-type]


def test_a_ratio_under_the_tripwire_is_timed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _timings(monkeypatch, 1.2)
    assert _timed() == (1.2, [])
    assert asked == [5]


def test_a_burst_of_noise_that_does_not_hold_is_not_a_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _timings(monkeypatch, 1.8, 1.02)
    ratio, notes = _timed()
    assert ratio == 1.02 and ratio < RULES.tripwire
    assert asked == [5, 10]
    assert notes == ["timed twice: 1.80x, then 1.02x over 10 pairs"]


def test_a_slowdown_that_holds_trips(monkeypatch: pytest.MonkeyPatch) -> None:
    _timings(monkeypatch, 2.5, 2.2)
    ratio, _ = _timed()
    assert ratio == 2.2 and ratio > RULES.tripwire


def test_a_stopped_head_is_not_timed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _timings(monkeypatch, math.inf)
    assert _timed()[0] == math.inf
    assert asked == [5]
