"""The speed goals, as ratios between two cases measured in the same run.

Instruction counts decide unless a goal says time: they are repeatable on a shared machine.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.workloads import flask_available, gmpy2_available


@dataclass(frozen=True)
class Goal:
    text: str
    measure: str  # "instructions" or "time"
    numerator: str
    denominator: str
    compare: str  # "<=" or ">="
    target: float

    def ratio(self, figures: dict[str, dict[str, float]]) -> float | None:
        by_case = figures.get(self.measure, {})
        if self.numerator not in by_case or self.denominator not in by_case:
            return None
        return by_case[self.numerator] / by_case[self.denominator]

    def met(self, ratio: float) -> bool:
        check: Callable[[float, float], bool] = operator.le if self.compare == "<=" else operator.ge
        return check(ratio, self.target)


def goals() -> list[Goal]:
    found = [
        Goal(
            "fibonacci_month: compiled / limit",
            "instructions",
            "test_fibonacci_month[compiled]",
            "test_fibonacci_month[limit]",
            "<=",
            1.3,
        ),
        Goal(
            "fibonacci_month: naive / compiled (time)",
            "time",
            "test_fibonacci_month[naive]",
            "test_fibonacci_month[compiled]",
            ">=",
            100_000,
        ),
        Goal(
            "days_in_month v3: compiled / limit",
            "instructions",
            "test_days_in_month[v3-compiled]",
            "test_days_in_month[v3-limit]",
            "<=",
            1.3,
        ),
        Goal(
            "days_in_month v3: talk's memoized / pure twin",
            "instructions",
            "test_days_in_month[v3-memoized]",
            "test_days_in_month[v3-pure]",
            ">=",
            6,
        ),
        Goal(
            "month_batch: compiled batch / 31 limit calls",
            "instructions",
            "test_month_batch[compiled]",
            "test_month_batch[limit]",
            "<=",
            0.5,
        ),
    ]
    if gmpy2_available():
        found.append(
            Goal(
                "fibonacci_big 1e6: compiled / gmpy2.fib",
                "instructions",
                "test_fibonacci_big[1e6-compiled]",
                "test_fibonacci_big[1e6-gmpy2]",
                "<=",
                1.3,
            )
        )
    else:
        found.append(
            Goal(
                "fibonacci_big 1e6: compiled / pure (no gmpy2)",
                "instructions",
                "test_fibonacci_big[1e6-compiled]",
                "test_fibonacci_big[1e6-pure]",
                "<=",
                1.1,
            )
        )
    if flask_available():
        found.append(
            Goal(
                "api_fun: compiled endpoint / constant endpoint",
                "instructions",
                "test_api_fun[compiled]",
                "test_api_fun[limit]",
                "<=",
                1.05,
            )
        )
    return found
