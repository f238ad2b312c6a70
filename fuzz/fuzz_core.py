"""Differential fuzzing: the compiled core and the pure twin must agree on every input.

    python fuzz/fuzz_core.py -max_total_time=60          # what .ci/run does
    python fuzz/fuzz_core.py -max_total_time=3600 -jobs=2 -workers=2   # a longer hunt

atheris turns its byte stream into arguments of every kind (integers of any size and sign,
bools, floats, strings, None, objects with ``__index__``, int subclasses, and lists, tuples,
ranges and generators of them for ``fun_notifications``), calls every function of both cores,
and fails on any difference in result, result type, exception type or message. A finding is
saved by libFuzzer as ``crash-*`` (``python fuzz/fuzz_core.py crash-...`` replays it); none
has been found so far. A finding's input belongs in tests/test_differential.py as an explicit
example, written before the fix.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports():
    import fastfun._core as compiled

    import fastfun._core_py as pure

# The argument kinds and the outcome comparison are the tests' own (tests/kinds.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from kinds import PER_DAY, Index, Subclass, outcome

# F(n) between these bounds is correct but slow; the fuzzer's time is better spent elsewhere.
SLOW_FIB = (50_000, 2**40)


def integer(data: atheris.FuzzedDataProvider) -> int:
    size = data.ConsumeIntInRange(0, 3)
    value: int = data.ConsumeInt([1, 2, 8, 40][size])
    if SLOW_FIB[0] <= abs(value) < SLOW_FIB[1]:
        value %= SLOW_FIB[0]
    return value


def scalar(data: atheris.FuzzedDataProvider) -> Any:
    kind = data.ConsumeIntInRange(0, 9)
    if kind <= 3:
        return integer(data)
    return [
        data.ConsumeBool,
        lambda: Index(integer(data)),
        lambda: Subclass(integer(data)),
        data.ConsumeRegularFloat,
        lambda: data.ConsumeUnicode(3),
        lambda: None,
    ][kind - 4]()


def days(data: atheris.FuzzedDataProvider) -> tuple[Callable[[], Any], str]:
    """A fun_notifications argument, as a factory: an iterator is used up by one call."""
    kind = data.ConsumeIntInRange(0, 4)
    items = [scalar(data) for _ in range(data.ConsumeIntInRange(0, 5))]
    if kind == 0:
        return (lambda: list(items)), "list"
    if kind == 1:
        return (lambda: tuple(items)), "tuple"
    if kind == 2:
        start, stop = integer(data), integer(data)
        step = data.ConsumeIntInRange(-9, 9) or 1
        return (lambda: range(start, stop, step)), "range"
    if kind == 3:
        return (lambda: (x for x in items)), "generator"
    value = scalar(data)
    return (lambda: value), "scalar"


def check(name: str, args: Callable[[], list[Any]]) -> None:
    got = outcome(lambda: getattr(compiled, name)(*args()))
    want = outcome(lambda: getattr(pure, name)(*args()))
    if got != want:
        raise AssertionError(f"{name}{tuple(args())!r}: compiled {got!r} != pure {want!r}")


def one_input(raw: bytes) -> None:
    data = atheris.FuzzedDataProvider(raw)
    target = data.ConsumeIntInRange(0, 5)
    if target < 4:
        value = scalar(data)
        check(PER_DAY[target], lambda: [value])
    elif target == 4:
        make, kind = days(data)
        if kind == "range":
            r = make()
            if abs((r.stop - r.start) // r.step) > 10_000:
                return  # a huge range only measures memory
        check("fun_notifications", lambda: [make()])
    else:
        year, month = scalar(data), scalar(data)
        check("month", lambda: [year, month])


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
