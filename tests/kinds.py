"""What the behaviour tests and the differential fuzzer share: the per-day functions, the
kinds of integer the contract accepts besides int, and how a call's outcome is compared."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PER_DAY = ["fibonacci", "fizz", "fizzbuzz", "fun_notification"]


class Index:
    """Any object with __index__ counts as an integer."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value

    def __repr__(self) -> str:
        return f"Index({self.value})"


class Subclass(int):
    """An int subclass: accepted, and results are plain ints all the same."""


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    """What a call gave: its result with its exact type, or its exception type and message."""
    try:
        result = call()
    except Exception as error:  # noqa: BLE001 - the point is to compare any exception
        return ("raised", (type(error), str(error)))
    return ("returned", (type(result), result))
