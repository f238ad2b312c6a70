"""The pytest side of ``fake_measure``: keeps the tests that use ``benchmark``, and for each
counts trace events of one measured call (after a warm-up call), or times calls."""

from __future__ import annotations

import json
import os
import re
import sys
import time
import zlib
from collections import Counter

import pytest

RESULTS: dict[str, dict] = {}


def _matches(glob: str, name: str) -> bool:
    pattern = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.fullmatch(pattern, name) is not None


def pytest_collection_modifyitems(config, items):
    select = [g for g in os.environ.get("FAKE_SELECT", "").split("\x1f") if g]
    shard = os.environ.get("FAKE_SHARD", "")
    kept = []
    for item in items:
        if "benchmark" not in getattr(item, "fixturenames", ()):
            continue
        if select and not any(_matches(g, item.nodeid) for g in select):
            continue
        if shard:
            k, n = map(int, shard.split("/"))
            if zlib.crc32(item.nodeid.encode()) % n != k - 1:
                continue
        kept.append(item)
    items[:] = kept
    if os.environ["FAKE_MODE"] == "collect":
        RESULTS.update({item.nodeid: {} for item in kept})
        items[:] = []


class Benchmark:
    def __init__(self, nodeid):
        self.nodeid = nodeid
        self.extra_info = {}

    def __call__(self, fn, *args, **kwargs):
        fn(*args, **kwargs)  # warm-up
        if os.environ["FAKE_MODE"] == "time":
            calls = int(os.environ.get("FAKE_CALLS", "10"))
            started = time.perf_counter()
            for _ in range(calls):
                result = fn(*args, **kwargs)
            RESULTS[self.nodeid] = {"seconds": (time.perf_counter() - started) / calls}
            return result
        events = Counter()

        def trace(frame, event, arg):
            events[frame.f_code.co_name] += 1
            return trace

        sys.settrace(trace)
        try:
            result = fn(*args, **kwargs)
        finally:
            sys.settrace(None)
        RESULTS[self.nodeid] = {"events": sum(events.values()), "functions": dict(events)}
        return result

    def pedantic(self, target, args=(), kwargs=None, setup=None, rounds=1, iterations=1, warmup_rounds=0):
        return self(target, *args, **(kwargs or {}))


@pytest.fixture
def benchmark(request):
    return Benchmark(request.node.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and item.nodeid not in RESULTS:
        RESULTS[item.nodeid] = {"error": str(report.longrepr).splitlines()[-1][:200]}


def pytest_sessionfinish(session):
    with open(os.environ["FAKE_OUT"], "w") as out:
        json.dump(RESULTS, out)
