"""Builds without building: a failed build's one line (the compiler's diagnostic, whatever
colours pip and the compiler used), and a build's name."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from fastfun_gate import builds
from fastfun_gate.config import Install

COLOURED_LOG = (
    "$ pip wheel --no-deps .\n"
    "\x1b[1msrc/core.c:12:5:\x1b[0m \x1b[1;31merror:\x1b[0m expected ';' before 'return'\n"
    "\x1b[31merror\x1b[0m: \x1b[1msubprocess-exited-with-error\x1b[0m\n"
    "\x1b[31m\u00d7\x1b[0m Building wheel for demo (pyproject.toml) did not run successfully.\n"
    "\x1b[31m\u2502\x1b[0m exit code: \x1b[1;36m1\x1b[0m\n"
    "\x1b[1;35mnote\x1b[0m: This error originates from a subprocess.\n"
)


def test_a_coloured_log_is_quoted_by_its_diagnostic_without_colour() -> None:
    assert builds.failure_lines(COLOURED_LOG) == "src/core.c:12:5: error: expected ';' before 'return'"


def test_two_threads_naming_builds_at_once_read_the_interpreter_alike(monkeypatch, pure) -> None:  # type: ignore[no-untyped-def]
    """compare names base's and head's builds in two threads at once. sysconfig fills its
    variables lazily and not thread-safely (a second reader was seen to get None), so this
    stand-in answers None to a reader that comes while another is reading."""
    repo, commits = pure
    reading, seen = [], []

    def get_config_var(name: str) -> str | None:
        reading.append(name)
        time.sleep(0.05)
        seen.append(len(reading))
        reading.pop()
        return None if seen[-1] > 1 else f"{name}-value"

    monkeypatch.setattr(builds.sysconfig, "get_config_var", get_config_var)
    builds._interpreter.cache_clear()
    start = threading.Barrier(2)

    def key() -> str:
        start.wait()
        return builds.key_of(repo, commits["base"], Install(), [])

    try:
        with ThreadPoolExecutor(2) as pool:
            first, second = pool.submit(key), pool.submit(key)
            assert first.result() == second.result()
        assert seen == [1]
    finally:
        builds._interpreter.cache_clear()
