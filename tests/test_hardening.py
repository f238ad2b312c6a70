"""The compiled core under stress: threads, a million calls, a memory limit, memcheck.

A compiled core can crash a process where Python code would raise: these tests show it
raises, stays exact and holds no memory it should have released.
"""

from __future__ import annotations

import importlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

CALLS: list[tuple[str, tuple[Any, ...]]] = [
    ("fibonacci", (90,)),
    ("fibonacci", (300,)),
    ("fibonacci", (-1,)),
    ("fibonacci", (2.5,)),
    ("fizz", (9,)),
    ("fizz", ("9",)),
    ("fizzbuzz", (15 * 2**70,)),
    ("fizzbuzz", (-(2**70),)),
    ("fun_notification", (28,)),
    ("fun_notification", (None,)),
    ("fun_notification", (7 * 2**50,)),
    ("fun_notifications", (range(1, 32),)),
    ("fun_notifications", ([1, 2, -3],)),
    ("fun_notifications", (5,)),
    ("month", (2024, 2)),
    ("month", (2024, 13)),
    ("month", ("2024", 1)),
]


def call(core: ModuleType, name: str, args: tuple[Any, ...]) -> Any:
    try:
        return ("ok", getattr(core, name)(*args))
    except (TypeError, ValueError, OverflowError) as error:
        return (type(error), str(error))


# Lazily set-up paths, raced for by the threads below: the twin's lookup of gmpy2 at
# F(_GMP_IMPORT_MIN), reset before they start (the compiled core reads it from the twin).
RACED_CALLS: list[tuple[str, tuple[Any, ...]]] = [("fibonacci", (10_000,))]


def test_eight_threads_hammering_every_function_see_the_single_thread_results(
    core: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a free-threaded build (the cp314t/cp315t wheel jobs) they run at once, GIL off
    # (tests/test_free_threading.py); elsewhere the GIL interleaves them.
    calls = CALLS + RACED_CALLS
    expected = [call(core, name, args) for name, args in calls]
    twin = importlib.import_module("fastfun._core_py")
    monkeypatch.setitem(twin.__dict__, "_gmp_fib", twin._NOT_LOOKED_UP)
    failures: list[str] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(300):
            for (name, args), want in zip(calls, expected, strict=True):
                got = call(core, name, args)
                if got != want:
                    failures.append(f"{name}{args}: {got!r} != {want!r}")
                    return

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_a_million_calls_of_every_function_leave_no_memory_behind(compiled: ModuleType) -> None:
    # Every Python object lives in a pymalloc block or a malloc'd one; a reference leaked per
    # call would show up as a million blocks (and megabytes of RSS) after the loop.
    def blocks_and_rss() -> tuple[int, int]:
        with open("/proc/self/statm") as statm:
            rss_pages = int(statm.read().split()[1])
        return sys.getallocatedblocks(), rss_pages * os.sysconf("SC_PAGE_SIZE")

    loops: list[Callable[..., None]] = []
    for name, args in CALLS:
        func = getattr(compiled, name)

        def loop(func: Callable[..., Any] = func, args: tuple[Any, ...] = args, n: int = 1_000_000) -> None:
            for _ in range(n if func.__name__ != "month" else n // 10):
                try:
                    func(*args)
                except (TypeError, ValueError, OverflowError):
                    pass

        loops.append(loop)
    for loop in loops:  # warm up: caches, free lists, lazily built tables
        loop(n=1000)
    before_blocks, before_rss = blocks_and_rss()
    for loop in loops:
        loop()
    after_blocks, after_rss = blocks_and_rss()
    assert after_blocks - before_blocks < 1000
    assert after_rss - before_rss < 16 * 2**20


@pytest.mark.xfail(
    sys.implementation.name == "pypy",
    reason="PyPy's own allocator aborts the process when the memory runs out ('out of memory: "
    "couldn't allocate a few KB more'), where CPython raises MemoryError",
)
@pytest.mark.parametrize("backend", ["int", "gmp"])
def test_a_huge_fibonacci_under_a_memory_limit_fails_cleanly(core: ModuleType, backend: str) -> None:
    if backend == "gmp" and importlib.import_module("fastfun._core_py")._gmp() is None:
        pytest.skip("gmpy2 is not installed")
    proc = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve().parent / "scenarios" / "memory_limited_fibonacci.py"),
            core.__name__,
            backend,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "limited"
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)  # not out of memory yet: Ctrl-C must stop it cleanly
        out, _ = proc.communicate(timeout=30)
    # Never a crash: MemoryError, or a clean stop on Ctrl-C; the process exits normally.
    assert proc.returncode == 0, f"died with status {proc.returncode}"
    assert out.strip() in ("MemoryError", "interrupted")


MEMCHECK_SUBSET = "compiled and not million and not split and not doubling_identity"


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_memcheck_sees_no_invalid_read_or_write_in_the_compiled_core(
    compiled: ModuleType, tmp_path: Any
) -> None:
    tests = os.path.join(os.path.dirname(__file__), "test_contract.py")
    log = tmp_path / "memcheck.log"
    env = {**os.environ, "PYTHONMALLOC": "malloc"}
    started = time.monotonic()
    result = subprocess.run(
        [
            "valgrind",
            "--tool=memcheck",
            "--error-limit=no",
            f"--log-file={log}",
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-x",
            tests,
            "-k",
            MEMCHECK_SUBSET,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    report = log.read_text()
    print(f"memcheck ran {time.monotonic() - started:.0f} s: {result.stdout.strip().splitlines()[-1]}")
    assert result.returncode == 0, result.stdout[-2000:]
    assert " passed" in result.stdout
    # The dynamic loader's own strncmp is a known memcheck false positive; what matters is
    # any invalid access with fastfun's compiled core on its stack.
    ours = [error for error in invalid_accesses(report) if "_core.cpython" in error or "_core.c:" in error]
    assert ours == [], "\n\n".join(ours)


def invalid_accesses(report: str) -> list[str]:
    """Each 'Invalid read/write' error of a memcheck log, with its stack."""
    errors, current = [], None
    for line in report.splitlines():
        text = line.split("== ", 1)[-1] if line.startswith("==") else line
        if text.startswith(("Invalid read", "Invalid write")):
            current = [text]
            errors.append(current)
        elif current is not None and text.strip():
            current.append(text)
        else:
            current = None
    return ["\n".join(error) for error in errors]
