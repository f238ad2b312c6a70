"""Large F(n): the same exact numbers with CPython ints or gmpy2, and Ctrl-C stops the work."""

from __future__ import annotations

import importlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BACKENDS = ["int", "gmp"]


# Both cores compute F(n) beyond the table with the twin's code (written once), so the
# switch between gmpy2 and CPython ints lives there.
TWIN = importlib.import_module("fastfun._core_py")
SCENARIOS = Path(__file__).resolve().parent / "scenarios"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, core: ModuleType) -> Iterator[str]:
    """Run a test with gmpy2 taking over large n, and with CPython ints alone."""
    if request.param == "int":
        saved = TWIN._gmp()
        TWIN.__dict__["_gmp_fib"] = None
        try:
            yield "int"
        finally:
            TWIN.__dict__["_gmp_fib"] = saved
    else:
        if TWIN._gmp() is None:
            pytest.skip("gmpy2 is not installed (pip install 'fastfun[gmp]')")
        yield "gmp"


def naive_loop(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


@pytest.mark.parametrize("n", [94, 95, 127, 128, 1000, 4095, 4096, 20_001])
def test_large_fibonacci_is_exact_on_either_backend(core: ModuleType, backend: str, n: int) -> None:
    assert core.fibonacci(n) == naive_loop(n)
    assert type(core.fibonacci(n)) is int


def test_gmpy2_is_imported_on_the_first_n_that_pays_for_the_import(core: ModuleType) -> None:
    # A fresh interpreter: F(n) below the threshold leaves gmpy2 unimported (a one-shot
    # `fastfun fib 100` would pay ~20 ms for nothing); F(threshold) imports it if installed.
    script = (
        f"import sys, {core.__name__} as core, fastfun._core_py as twin\n"
        "core.fibonacci(twin._GMP_IMPORT_MIN - 1)\n"
        "print('gmpy2' in sys.modules)\n"
        "core.fibonacci(twin._GMP_IMPORT_MIN)\n"
        "print('gmpy2' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    installed = TWIN._gmp() is not None
    assert result.stdout.split() == ["False", str(installed)], result.stderr


def test_above_the_gmp_limit_cpython_ints_take_over_exactly(
    core: ModuleType, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Above _GMP_FIB_MAX the interruptible int loop runs even with gmpy2 installed: a spy in
    # gmpy2's place sees exactly the n up to the limit, and the answers stay exact.
    monkeypatch.setattr(TWIN, "_GMP_FIB_MAX", 1000)
    handed: list[int] = []
    gmp_fib = TWIN._gmp()
    if gmp_fib is not None:

        def spy(n: int) -> Any:
            handed.append(n)
            return gmp_fib(n)

        monkeypatch.setitem(TWIN.__dict__, "_gmp_fib", spy)
    for n in (999, 1000, 1001, 4096, 20_001):
        assert core.fibonacci(n) == naive_loop(n)
    assert handed == ([999, 1000] if backend == "gmp" else [])


def test_a_few_million_is_exact_on_either_backend(core: ModuleType, backend: str) -> None:
    # Cassini's identity pins every bit of F(n) without a second implementation.
    n = 3_000_001
    f_prev, f_n, f_next = core.fibonacci(n - 1), core.fibonacci(n), core.fibonacci(n + 1)
    assert f_prev + f_n == f_next
    assert f_prev * f_next - f_n * f_n == (-1) ** n


def test_ctrl_c_interrupts_a_long_fibonacci(core: ModuleType) -> None:
    name = core.__name__
    proc = subprocess.Popen(
        [sys.executable, str(SCENARIOS / "interrupt_fibonacci.py"), name], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    time.sleep(2.0)  # deep into F(10**9): its multiplications are already millions of bits
    assert proc.poll() is None, "F(10**9) cannot have finished in two seconds"
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    latency = time.monotonic() - sent
    print(f"{name}: Ctrl-C honoured after {latency:.2f} s")
    assert out.strip() == "interrupted"
