# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
# (It runs inside the measured venv, on any Python from 3.8, where pytest's objects come untyped.)
"""The pytest plugin that measures, loaded with ``-p`` INSIDE the measured venv.

Standard library and pytest only: it never imports fastfun_gate, which is not installed
there. ``harness.py`` copies it, as ``_fastfun_gate_plugin.py``, into a private folder on
PYTHONPATH with ``run.json`` (what to do) and, to count, the compiled ``bridge.c``; every file
it writes goes to ``out/`` in that folder.

The parent process collects the suite as the project's configuration says, keeps the
benchmarks (tests using the ``benchmark`` fixture, or marked ``benchmark``) and never runs a
test: each benchmark runs in a child forked for it, through pytest's own runtest protocol
(fixtures, setup, teardown), so each starts from the same state whichever others run. In the
child, this plugin's ``benchmark`` fixture replaces pytest-benchmark's and pytest-codspeed's
and accepts their call forms; a test marked ``benchmark`` without the fixture is measured as
a whole call of the test function, as pytest-codspeed does.

Modes (``run.json``):
- ``collect``: write the benchmarks' node ids to ``out/names.json`` and stop.
- ``count`` (under ``valgrind --tool=callgrind --instr-atstart=no``): the bridge forks a child
  per benchmark that ``out/plan`` selects. The child switches the interpreter to the bridge's
  measured heap at once (empty, at a fixed address: no allocation's cost or address depends on
  the process's history), runs the test up to its benchmark, warms the call up, calibrates k, then
  with instrumentation on dumps a profile of 0 calls and one of k calls through the same code;
  then, uninstrumented, counts allocations and retained bytes the same 0-vs-k way. It writes
  ``out/results/INDEX.json``; the dumps are named by their tags.
- ``time``: wall seconds per call of the named benchmarks, one forked child each: the fastest of
  a few batches of the calls.
"""

from __future__ import annotations

import copy
import ctypes
import gc
import importlib.util
import json
import math
import os
import random
import sys
import time
import tracemalloc
from typing import Any

import pytest

# A Random() seeded from the OS, drawn from before the fork, makes the parent's heap differ from
# run to run, and with it every address the children start from (seen: Hypothesis's pytest
# plugin shuffles the modules it scans for constants during collection with one). Unseeded
# generators get a fixed seed in the measured interpreter; a child reseeds (see reseed).
FIXED_SEED = 0
_seed = random.Random.seed


def _fixed_seed(self, a=None, version=2):
    _seed(self, FIXED_SEED if a is None else a, version)


random.Random.seed = _fixed_seed  # type: ignore[method-assign]
random.seed(FIXED_SEED)

# pytest-benchmark names the project when it registers its options, by running git and hg. A
# subprocess's reports reach the parent in as many reads as the scheduler makes of them (hg
# missing: "OSError:", the errno, ":" and "noexec" are four writes), and the reads allocate:
# the parent's heap differed from run to run, and with it the count of a benchmark making
# classes (by 26 or 0 instructions in 58 million, one run in three). Without git and hg it
# takes the working directory's name, the same on every run.
if importlib.util.find_spec("pytest_benchmark") is not None:
    try:
        import pytest_benchmark.utils as _benchmark_utils
    except ImportError:  # broken there: pytest reports it when it loads the plugin
        pass
    else:
        _namers = getattr(getattr(_benchmark_utils, "get_project_name", None), "functions", None)
        if isinstance(_namers, list):
            _namers.clear()

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
with open(os.path.join(HERE, "run.json"), encoding="utf-8") as _file:
    SETTINGS = json.load(_file)

# A count's k: the calls of the measured profile, a power of two at most MAX_CALLS, chosen so
# the k calls take about CALL_BUDGET instructions (from one calibrating call): enough calls to
# average a cheap call's irregular costs, few for a slow one. A power of two keeps k the same
# when a change moves the cost a little.
CALL_BUDGET = 10_000_000
MAX_CALLS = 64
# ... and k is 1 for a call that mostly waits (a sleep, I/O), whose few instructions would
# otherwise ask for 64 slow calls (seen: attrs's cached-property benchmark sleeps 0.1 s a
# round): one that took over SLOW_CALL seconds at under WAIT_RATE instructions a second.
# Callgrind runs tens of millions a second, and a busy machine slows that a few times; a sleep
# slows it by orders of magnitude. The time alone decided before, and a busy machine moved k,
# and with it the count (seen while CI ran beside the gate: bidict's forceput[10000] counted
# with k = 1 on one side and 16 on the other, 0.3% apart in an A/A).
SLOW_CALL = 1.0
WAIT_RATE = 1_000_000
BRIDGE_NAME = "bridge.so"
MARKERS = ("benchmark", "codspeed_benchmark")

# Options of other plugins that would move a count or break the run, as (dest, arguments):
# appended after the project's own (addopts included), only where that plugin is loaded.
NEUTRALISE = (
    ("numprocesses", ["-n", "0"]),  # pytest-xdist: run in this process
    ("no_cov", ["--no-cov"]),  # pytest-cov: no tracer under the measured calls
    ("randomly_seed", ["--randomly-seed=0"]),  # pytest-randomly: reseeds every test the same way
    ("timeout", ["--timeout=0"]),  # pytest-timeout: callgrind is 50x slower
    ("session_timeout", ["--session-timeout=0"]),
)


def is_benchmark(item: pytest.Item) -> bool:
    """A test using the ``benchmark`` fixture (pytest-benchmark, pytest-codspeed) or marked
    ``benchmark`` (pytest-codspeed's whole-test form)."""
    names = getattr(item, "fixturenames", ())
    return (
        "benchmark" in names
        or "codspeed_benchmark" in names
        or any(item.get_closest_marker(marker) is not None for marker in MARKERS)
    )


# ---- configuration --------------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # Plugins are loaded and the arguments (addopts first) parsed once; appending here, before
    # any plugin acts on them (pytest-cov starts coverage in this very hook), makes them the
    # last word on their options.
    #
    # Parsed over a copy of the namespace pytest made, not afresh: pytest sets values of its own
    # there before this hook (confcutdir, from the ini file's folder). Lost, pytest would
    # collect from the filesystem's root down, listing / and /tmp, whose entries come and go
    # with other processes: the parent's heap, and every address it hands the children, would
    # change from run to run.
    known = early_config.known_args_namespace
    extra = [argument for dest, arguments in NEUTRALISE if hasattr(known, dest) for argument in arguments]
    if extra:
        args.extend(extra)
        early_config.known_args_namespace = parser.parse_known_args(args, namespace=copy.copy(known))
    yield


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    for marker in MARKERS:
        config.addinivalue_line("markers", f"{marker}: a benchmark (measured by fastfun-gate)")
    # Doctests are never benchmarks; collecting them would import every module of the tree.
    if hasattr(config.option, "doctestmodules"):
        config.option.doctestmodules = False
    # pytest-benchmark's hooks skip benchmarks (--benchmark-skip) and reject any fixture but
    # its own; its options still parse, its session object stays for conftests that read it.
    manager = config.pluginmanager
    for name, plugin in list(manager.list_name_plugin()):
        module = getattr(plugin, "__name__", None) or type(plugin).__module__
        if module.split(".")[0] == "pytest_benchmark":
            manager.unregister(plugin, name)
    # Registered last, so its fixtures override those of every plugin loaded before.
    manager.register(Fixtures(), "fastfun-gate-benchmark")


class Fixtures:
    @pytest.fixture
    def benchmark(self, request):
        return Benchmark(request)

    @pytest.fixture
    def codspeed_benchmark(self, request):
        return Benchmark(request)

    @pytest.fixture
    def benchmark_weave(self, request):
        raise pytest.fail.Exception("benchmark_weave (aspectlib weaving) is not supported by fastfun-gate")


# ---- the parent: collect, then fork ---------------------------------------------------------

collect_errors: list[str] = []


def pytest_collectreport(report):
    if report.failed:
        collect_errors.append(f"{report.nodeid or '.'}: {one_line(report)}")


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    if collect_errors:
        write("error.json", {"error": f"collection failed: {collect_errors[0]}"})
        return True
    benchmarks = [item for item in session.items if is_benchmark(item)]
    write("names.json", [item.nodeid for item in benchmarks])
    mode = SETTINGS["mode"]
    if mode == "count":
        count_all(benchmarks)
    elif mode == "time":
        time_all(benchmarks)
    return True


def count_all(benchmarks):
    bridge = Bridge(os.path.join(HERE, BRIDGE_NAME))
    if not bridge.on_valgrind():
        write("error.json", {"error": "the count run is not under valgrind"})
        return
    index = bridge.fork_each(
        os.path.join(OUT, "plan").encode(),
        os.path.join(OUT, "status").encode(),
        len(benchmarks),
        int(SETTINGS["jobs"]),
        math.ceil(SETTINGS["timeout"]),
    )
    if index >= 0:
        # The child allocates from the measured heap from its first step, not only from its
        # benchmark's first call (Counter.measure): what pytest does before the calls then
        # lands where its own requests put it. Before, a child whose PID had another number of
        # digits than its parent's read pickle.dumps of an object made at import 71
        # instructions apart (bidict's test_pickle[100]: its memo hashes addresses).
        gc.collect()
        if gil_enabled():
            bridge.heap_install()  # a failure is reported by Counter.measure, which asks again
        run_child(benchmarks[index], index, Counter(bridge, index))
    elif index == -2:
        write("error.json", {"error": "the plan does not match the collected benchmarks"})
    elif index == -3:
        write("error.json", {"error": "the fork loop could not read its plan or write its status"})


def time_all(benchmarks):
    wanted = set(SETTINGS["names"])
    for index, item in enumerate(benchmarks):
        if item.nodeid not in wanted:
            continue
        pid = os.fork()
        if pid == 0:
            run_child(item, index, Timer(int(SETTINGS["calls"])))
        os.waitpid(pid, 0)


# ---- the child: run one benchmark -----------------------------------------------------------

child: Any = None  # the Child of this process, once forked


class Child:
    def __init__(self, item, index, meter):
        self.item, self.index, self.meter = item, index, meter
        self.reports = []
        self.fixture_made = False
        self.measured = None  # the meter's figures, once the benchmark was measured
        self.error = None  # why it could not be measured

    def outcome(self):
        for report in self.reports:
            if report.failed:
                where = "" if report.when == "call" else f" in {report.when}"
                return f"failed{where}: {one_line(report)}"
        for report in self.reports:
            if report.skipped:
                return f"skipped: {one_line(report)}"
        if self.error:
            return self.error
        if self.measured is None:
            if "benchmark" in getattr(self.item, "fixturenames", ()) and not self.fixture_made:
                return "another plugin's benchmark fixture was used instead of fastfun-gate's"
            return "the test never called its benchmark fixture"
        return None


def run_child(item, index, meter):
    global child  # noqa: PLW0603 - one child per process, set once after the fork
    child = Child(item, index, meter)
    try:
        reseed()
        restore = getattr(os.listdir, "fastfun_gate_restore", None)  # see boot.py
        if restore is not None:
            restore()
        if not any(name in getattr(item, "fixturenames", ()) for name in ("benchmark", "codspeed_benchmark")):
            measure_whole_test(item)
        item.ihook.pytest_runtest_protocol(item=item, nextitem=None)
        error = child.outcome()
        result = {"name": item.nodeid, "error": error}
        if error is None:
            result.update(child.measured)
    except BaseException as failure:  # noqa: BLE001 - the harness itself failed: say so, in one line
        result = {
            "name": item.nodeid,
            "error": f"the measuring child failed: {type(failure).__name__}: {failure}",
        }
    try:
        write(os.path.join("results", f"{index}.json"), result)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def pytest_runtest_logreport(report):
    if child is not None:
        child.reports.append(report)


def reseed():
    # A fork reseeds `random` (to FIXED_SEED here); a benchmark drawing from it must see the
    # same numbers on every run (pytest-randomly, when loaded, reseeds again with its fixed seed).
    random.seed(0)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(0)


def measure_whole_test(item):
    """pytest-codspeed's ``@pytest.mark.benchmark`` form: a call is a call of the test function."""
    function = item.obj
    if getattr(function, "__code__", None) is not None and function.__code__.co_flags & 0x180:
        child.error = "an async test cannot be measured as a benchmark"
        return

    def measured_test(*args, **kwargs):
        return child.meter.measure(Call(lambda: function(*args, **kwargs)))

    item.obj = measured_test


class Call:
    """What one measured call does: ``target`` (no arguments), or a pedantic target with a
    setup and teardown around each call that are executed but not measured."""

    def __init__(self, target, setup=None, teardown=None, args=(), kwargs=None):
        self.target, self.setup, self.teardown = target, setup, teardown
        self.args, self.kwargs = args, kwargs or {}

    def prepared(self):
        if self.setup is None:
            return self.args, self.kwargs
        made = self.setup()
        if made is None:
            return self.args, self.kwargs
        if self.args or self.kwargs:
            raise TypeError("Can't use `args` or `kwargs` if `setup` returns the arguments.")
        args, kwargs = made
        return args, kwargs


class Benchmark:
    """The ``benchmark`` fixture: pytest-benchmark's BenchmarkFixture as tests use it."""

    def __init__(self, request):
        node = request.node
        self.name = node.name
        self.fullname = node.nodeid
        callspec = getattr(node, "callspec", None)
        self.param = callspec.id if callspec is not None else None
        self.params = dict(callspec.params) if callspec is not None else None
        marker = node.get_closest_marker("benchmark")
        self.group = marker.kwargs.get("group") if marker is not None else None
        self.extra_info = {}
        self.disabled = False
        self.skipped = False
        self.has_error = False
        self.stats = None
        self._used = False
        if child is not None:
            child.fixture_made = True

    def _use(self):
        if self._used:
            raise RuntimeError("the benchmark fixture can only be used once per test")
        self._used = True
        if child is None:
            raise RuntimeError("fastfun-gate's benchmark fixture runs only in a measured child")

    def __call__(self, function_to_benchmark, *args, **kwargs):
        self._use()
        return child.meter.measure(Call(lambda: function_to_benchmark(*args, **kwargs)))

    def pedantic(
        self, target, args=(), kwargs=None, setup=None, teardown=None, rounds=1, warmup_rounds=0, iterations=1
    ):
        self._use()
        if iterations < 1 or rounds < 1 or warmup_rounds < 0:
            raise ValueError("pedantic needs iterations >= 1, rounds >= 1 and warmup_rounds >= 0")
        if setup is not None and iterations > 1:
            raise ValueError("Can't use more than 1 `iterations` with a `setup` function.")
        # rounds and iterations shape a wall-time statistic; an instruction count needs neither
        # (pytest-codspeed ignores them too): k is calibrated as for every benchmark.
        call = Call(target, setup, teardown, tuple(args), kwargs)
        return child.meter.measure(call, warmup=warmup_rounds)

    def weave(self, target, **kwargs):
        raise NotImplementedError("benchmark.weave (aspectlib weaving) is not supported by fastfun-gate")


# ---- meters ---------------------------------------------------------------------------------


def nothing():
    pass


class Meter:
    """Runs a Call the way a mode measures it; ``pause``/``resume`` bracket what is executed
    but not measured (a pedantic setup and teardown)."""

    pause = resume = staticmethod(nothing)

    def one(self, call):
        if call.setup is None and call.teardown is None:
            return call.target(*call.args, **call.kwargs)
        self.pause()
        args, kwargs = call.prepared()
        self.resume()
        result = call.target(*args, **kwargs)
        if call.teardown is not None:
            self.pause()
            call.teardown(*args, **kwargs)
            self.resume()
        return result

    def calls(self, call, k):
        # Every pass of a mode runs this same code, so all but the k calls cancels out.
        for _ in range(k):
            self.one(call)

    def measure(self, call, warmup=0):
        raise NotImplementedError


class Counter(Meter):
    def __init__(self, bridge, index):
        self.bridge = bridge
        self.index = index
        self.pause = self.resume = bridge.toggle

    def measure(self, call, warmup=0):
        bridge = self.bridge
        # Bound before counting: a ctypes attribute is built on first access.
        zero, dump, start, stop = bridge.zero, bridge.dump, bridge.start, bridge.stop
        overflows = bridge.heap_overflows
        # The interpreter allocates from a heap of the bridge's, at a fixed address, since the
        # fork, and from here from its second part, empty: what an allocation costs, and where
        # it lands, follows from the requests the measured code makes, not from the process's
        # history or the test's set-up (see bridge.c). A full
        # collection first empties the interpreter's free lists (floats, tuples, lists, dicts):
        # what they held would serve the calls' first requests instead of the heap.
        gc.collect()
        if gil_enabled() and (bridge.heap_install() != 0 or bridge.heap_restart() != 0):
            child.error = "the measured heap could not be mapped at its fixed address"
            return self.one(call)
        result = self.one(call)  # warm-up: imports, first-call caches, lazily built tables
        for _ in range(warmup):
            self.one(call)
        was_enabled = gc.isenabled()
        gc.collect()
        gc.disable()  # a collection would land in whichever call crossed its threshold
        try:
            tag = f"fastfun-gate {self.index} ".encode()
            start()
            zero()
            began = time.monotonic()
            self.calls(call, 1)
            took = time.monotonic() - began
            dump(tag + b"calibrate")
            cost = bridge.first_dump_total(os.path.join(HERE, "dumps", "cg.").encode())
            k = 1 if took > SLOW_CALL and cost < WAIT_RATE * took else calls_for(cost)
            tags = [tag + f"{phase} {k}".encode() for phase in ("warm", "zero", "calls")]
            for calls, phase_tag in ((k, tags[0]), (0, tags[1]), (k, tags[2])):
                zero()
                self.calls(call, calls)
                dump(phase_tag)
            stop()
            overflowed = overflows()
            memory = self.memory(call, k)
        finally:
            if was_enabled:
                gc.enable()
        if overflowed:
            child.error = "the measured calls outgrew the measured heap (48 GiB): not counted exactly"
            return result
        child.measured = {
            "calls": k,
            "calibration": cost,
            "zero_tag": tags[1].decode(),
            "calls_tag": tags[2].decode(),
            **memory,
        }
        return result

    def memory(self, call, k):
        """Per call: blocks and bytes allocated, bytes still allocated after the call and a
        full collection; uninstrumented, the same 0-vs-k way."""
        bridge = self.bridge
        bridge.mem_install()
        self.pause, self.resume = bridge.mem_pause, bridge.mem_resume
        blocks, size = bridge.mem_blocks, bridge.mem_bytes
        allocated = []
        for calls in (0, 0, k):  # the first pass warms this code
            before = (blocks(), size())
            self.calls(call, calls)
            allocated.append((blocks() - before[0], size() - before[1]))
        # tracemalloc after the counter: its own tables go through the raw allocator.
        self.pause = self.resume = nothing
        tracemalloc.start()
        retained = []
        for calls in (0, 0, k):
            gc.collect()
            held = tracemalloc.get_traced_memory()[0]
            self.calls(call, calls)
            gc.collect()
            retained.append(tracemalloc.get_traced_memory()[0] - held)
        tracemalloc.stop()
        return {
            "allocated_blocks": per_call(allocated[2][0] - allocated[1][0], k),
            "allocated_bytes": per_call(allocated[2][1] - allocated[1][1], k),
            "retained_bytes": per_call(retained[2] - retained[1], k),
        }


class Timer(Meter):
    def __init__(self, calls):
        self.k = calls
        self.excluded = 0.0
        self.mark = 0.0

    def pause(self):
        self.mark = time.perf_counter()

    def resume(self):
        self.excluded += time.perf_counter() - self.mark

    def measure(self, call, warmup=0):
        result = self.one(call)
        for _ in range(warmup):
            self.one(call)
        was_enabled = gc.isenabled()
        gc.collect()
        gc.disable()
        fastest = math.inf
        try:
            for size in batches(self.k):
                self.excluded = 0.0
                began = time.perf_counter()
                self.calls(call, size)
                fastest = min(fastest, (time.perf_counter() - began - self.excluded) / size)
        finally:
            if was_enabled:
                gc.enable()
        child.measured = {"seconds": fastest, "calls": self.k}
        return result


# A timed run's calls go in batches, and its figure is the fastest batch's seconds per call: a
# neighbour taking the CPU slows some batches (seen on a 2-core machine at load 4.7: one run
# 1.9x slower than its pair, the instructions identical), a sleep or I/O slows every one.
TIME_BATCHES = 5


def batches(calls):
    """``calls`` split into at most TIME_BATCHES batches, as even as they go."""
    count = min(calls, TIME_BATCHES)
    return [calls // count + (1 if i < calls % count else 0) for i in range(count)]


def calls_for(cost):
    if cost <= 0:
        return 1
    k = 1
    while k * 2 <= MAX_CALLS and k * 2 * cost <= CALL_BUDGET:
        k *= 2
    return k


def per_call(total, k):
    return round(total / k)


def gil_enabled():
    """False on a free-threaded build running without the GIL (3.13t on), where the measured
    heap is not used: its free lists rely on the GIL."""
    return getattr(sys, "_is_gil_enabled", lambda: True)()


class Bridge:
    """bridge.c through ctypes; PyDLL keeps the GIL held (the fork loop needs it)."""

    def __init__(self, path):
        library = ctypes.PyDLL(path)
        self.on_valgrind = library.gate_on_valgrind
        self.start, self.stop, self.zero = library.gate_start, library.gate_stop, library.gate_zero
        self.toggle = library.gate_toggle
        self.dump = library.gate_dump
        self.dump.argtypes = [ctypes.c_char_p]
        self.first_dump_total = library.gate_first_dump_total
        self.first_dump_total.argtypes = [ctypes.c_char_p]
        self.first_dump_total.restype = ctypes.c_longlong
        self.mem_install, self.mem_pause, self.mem_resume = (
            library.gate_mem_install,
            library.gate_mem_pause,
            library.gate_mem_resume,
        )
        self.mem_blocks, self.mem_bytes = library.gate_mem_blocks, library.gate_mem_bytes
        self.heap_install = library.gate_heap_install
        self.heap_restart = library.gate_heap_restart
        self.heap_overflows = library.gate_heap_overflows
        self.heap_overflows.restype = ctypes.c_ulonglong
        self.mem_blocks.restype = self.mem_bytes.restype = ctypes.c_ulonglong
        self.fork_each = library.gate_fork_each
        self.fork_each.argtypes = [
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_long,
            ctypes.c_long,
            ctypes.c_uint,
        ]
        self.fork_each.restype = ctypes.c_long


# ---- helpers --------------------------------------------------------------------------------


def one_line(report):
    """pytest's one-line reason for a failed or skipped report."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
        text = str(longrepr[2])
        return text[len("Skipped: ") :] if text.startswith("Skipped: ") else text
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        text = crash.message
    else:
        lines = [line for line in str(longrepr).splitlines() if line.strip()]
        errors = [line[1:].strip() for line in lines if line.startswith("E ")]
        text = errors[-1] if errors else (lines[-1] if lines else "no reason given")
    return text.strip().splitlines()[0] if text.strip() else "no reason given"


def write(name, data):
    path = os.path.join(OUT, name)
    with open(path + ".tmp", "w", encoding="utf-8") as file:
        json.dump(data, file)
    os.replace(path + ".tmp", path)
