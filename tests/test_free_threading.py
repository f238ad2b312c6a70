"""Free-threading, proven where it runs: the cp314t and cp315t wheel jobs run these tests.

On a build with the GIL they are skipped, saying so. The thread-safety of the answers is
tested on every build by tests/test_hardening.py (threads hammering every function); the
scaling benchmark, tests/thread_scaling.py, runs before the suite in the same test-command.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import sysconfig
from pathlib import Path
from types import ModuleType

import pytest

TESTS = Path(__file__).resolve().parent
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))

needs_free_threading = pytest.mark.skipif(
    not FREE_THREADED,
    reason=f"{platform.python_implementation()} {platform.python_version()} is not a free-threaded build "
    "(proven in the release's cp314t and cp315t wheel jobs)",
)


def without_gil_switch() -> dict[str, str]:
    # PYTHON_GIL=1 would turn the GIL on whatever fastfun does.
    return {name: value for name, value in os.environ.items() if name != "PYTHON_GIL"}


@needs_free_threading
def test_running_a_core_leaves_the_gil_off(core: ModuleType) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-W",
            "error::RuntimeWarning",
            str(TESTS / "scenarios" / "gil_after_calls.py"),
            core.__name__,
        ],
        capture_output=True,
        text=True,
        env=without_gil_switch(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "False", result.stdout + result.stderr


def test_the_scaling_benchmark_measures_both_cores_and_says_whether_threads_can_scale(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-I", str(TESTS / "thread_scaling.py"), "--rounds", "1", "--seconds", "0.002"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    expected = "GIL off: the goal is at most 0.6x" if FREE_THREADED else "expect 1.0x or more"
    assert expected in lines[0]
    cores = (
        {"pure"}
        if sys.implementation.name != "cpython" or os.environ.get("FASTFUN_NO_EXTENSIONS")
        else {"compiled", "pure"}
    )
    ratios = {line.split()[0] for line in lines[2:] if line.endswith("x") and "all of the above" in line}
    assert ratios == cores
