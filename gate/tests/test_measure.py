"""fastfun_gate.measure on a small suite (tests/measure_data/suite), in a venv with the real
plugins the gate's test extra pins: pytest-benchmark, pytest-codspeed, pytest-xdist,
pytest-cov, pytest-randomly. The suite runs under a project configuration
(measure_data/suite_config.toml) whose every option would, left alone, break the run or move
a count. Three counts under callgrind serve every test: the whole suite, a selection of it
at another path from another working directory and environment, and one shard of it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from fastfun_gate import measure
from fastfun_gate.measure import harness

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib  # type: ignore[no-redef, import-not-found, unused-ignore]

DATA = Path(__file__).resolve().parent / "measure_data"
GATE = Path(__file__).resolve().parents[1]
PLUGINS = ("pytest", "pytest-benchmark", "pytest-codspeed", "pytest-xdist", "pytest-cov", "pytest-randomly")
TESTS = ["tests"]
FORMS = "tests/test_forms.py::"
OUTCOMES = "tests/test_outcomes.py::"
LARGE = 2000  # SIZES[-1] of test_forms.py
# What a form adds to the call form's count, at most: its own calls around the work (the
# work itself, at the larger size, is about 157,000 instructions). Measured here with the
# measured calls' own heap: 3,246 to 3,419 (CPython 3.11, 3.12), 2% of the work.
FORM_OVERHEAD = 4000

pytestmark = pytest.mark.skipif(
    shutil.which("valgrind") is None or shutil.which("cc") is None,
    reason="valgrind and cc are needed to count",
)


def pinned_plugins() -> list[str]:
    """The pins of the gate's `test` extra for the plugins the suite runs under."""
    extra = tomllib.loads((GATE / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    pins = [pin for pin in extra if re.split(r"[=<>~!; \[]", pin, maxsplit=1)[0].lower() in PLUGINS]
    assert len(pins) == len(PLUGINS), f"pyproject.toml's test extra pins {pins}, not all of {PLUGINS}"
    return pins


@pytest.fixture(scope="session")
def python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv of the measured kind: the suite's plugins, not fastfun_gate."""
    folder = tmp_path_factory.mktemp("measured") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    pip = [str(folder / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, *pinned_plugins()], check=True)
    return folder / "bin" / "python"


@pytest.fixture(scope="session")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two copies of the suite with its configuration, at paths of equal length."""
    work = tmp_path_factory.mktemp("work")
    for side in ("base", "head"):
        shutil.copytree(DATA / "suite", work / side / "tree")
        shutil.copyfile(DATA / "suite_config.toml", work / side / "tree" / "pyproject.toml")
    return work


@contextmanager
def own_place(work: Path) -> Iterator[None]:
    """These tests count at a place of their own: the machine's default place is one count
    at a time, and other gate runs on this machine would hold it (figures are comparable at
    one place)."""
    saved = os.environ.get(harness.PLACE_VARIABLE)
    os.environ[harness.PLACE_VARIABLE] = str(work / "place")
    try:
        yield
    finally:
        if saved is None:
            del os.environ[harness.PLACE_VARIABLE]
        else:
            os.environ[harness.PLACE_VARIABLE] = saved


def count(work: Path, *args: Any, **kwargs: Any) -> dict[str, measure.Measured]:
    with own_place(work):
        return measure.count(*args, **kwargs)


@pytest.fixture(scope="session")
def full(python: Path, work: Path) -> dict[str, measure.Measured]:
    return count(work, python, work / "base" / "tree", TESTS, out=work / "full")


SELECTED = [f"{FORMS}test_call[{LARGE}]", f"{FORMS}test_marker[{LARGE}]", f"{FORMS}test_random_draws"]


@pytest.fixture(scope="session")
def elsewhere(
    python: Path, work: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, measure.Measured]:
    """A selection of the suite, from the other tree, counted from another working directory
    in an environment unlike the first one's."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    os.environ.update(
        PYTHONHASHSEED="1234",
        LC_ALL="C",
        TZ="Pacific/Auckland",
        TMPDIR="/var/tmp",
        HOME=os.getcwd(),
        PYTHONPATH="/nonexistent",
        PYTEST_ADDOPTS="-p no:xdist",
        SOMETHING_ELSE="x" * 3000,
    )
    os.chdir(tmp_path_factory.mktemp("elsewhere"))
    try:
        return count(work, python, work / "head" / "tree", TESTS, select=SELECTED, out=work / "elsewhere")
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


@pytest.fixture(scope="session")
def shard(python: Path, work: Path) -> dict[str, measure.Measured]:
    return count(work, python, work / "base" / "tree", TESTS, shard=(1, 2), out=work / "shard")


def agree(a: int | None, b: int | None) -> bool:
    # Exactly: the measured calls allocate from a heap of their own (the process's history
    # left pymalloc's pools and glibc's bins in states that moved a count by a few
    # instructions per call), and the parent's state no longer varies from run to run.
    return a == b


def disagreeing(
    counts: dict[str, measure.Measured], reference: dict[str, measure.Measured]
) -> dict[str, tuple[int | None, int | None]]:
    return {
        name: (counted.instructions, reference[name].instructions)
        for name, counted in counts.items()
        if not agree(counted.instructions, reference[name].instructions)
    }


# ---- what is measured -------------------------------------------------------------------------


def test_only_benchmarks_are_collected_and_counted(
    python: Path, work: Path, full: dict[str, measure.Measured]
) -> None:
    names = measure.collect(python, work / "base" / "tree", TESTS)
    assert f"{OUTCOMES}test_not_a_benchmark" not in names
    assert not [name for name in names if "double" in name]  # --doctest-modules: doctests are no benchmarks
    assert f"{FORMS}test_marker[{LARGE}]" in names  # @pytest.mark.benchmark without the fixture
    assert list(full) == names


def test_every_call_form_measures_the_same_work(full: dict[str, measure.Measured]) -> None:
    call = full[f"{FORMS}test_call[{LARGE}]"].instructions
    assert call is not None
    # pytest-codspeed's fixture name runs the very same code as pytest-benchmark's
    assert full[f"{FORMS}test_codspeed_fixture[{LARGE}]"].instructions == call
    for form in ("test_decorator", "test_pedantic_args", "test_pedantic_setup", "test_marker"):
        counted = full[f"{FORMS}{form}[{LARGE}]"]
        assert counted.error is None, counted.error
        assert counted.instructions is not None
        assert abs(counted.instructions - call) < FORM_OVERHEAD, (form, counted.instructions, call)


def test_the_count_grows_with_the_work_exactly(full: dict[str, measure.Measured]) -> None:
    small, large = full[f"{FORMS}test_call[1000]"], full[f"{FORMS}test_call[{LARGE}]"]
    assert small.instructions is not None and large.instructions is not None
    per_item = (large.instructions - small.instructions) / (LARGE - 1000)
    # A few dozen instructions per item of a bare loop: no tracer (coverage) runs under it.
    assert 20 < per_item < 200, per_item
    # What is not the loop is the call's fixed cost: small, the same at both sizes.
    assert 0 <= 2 * small.instructions - large.instructions < FORM_OVERHEAD
    # listiter_next runs once per item: its figure per call is exact, item for item. CPython
    # 3.12+ iterates a list inside the eval loop (FOR_ITER_LIST), with no such function to read.
    assert small.profile is not None and large.profile is not None
    before, after = measure.functions(small.profile, limit=0), measure.functions(large.profile, limit=0)
    if sys.version_info < (3, 12):
        step = after["listiter_next"] - before["listiter_next"]
        assert step > 0 and step % (LARGE - 1000) == 0, step
    top = measure.functions(large.profile, limit=3)
    assert len(top) == 3 and list(top.values()) == sorted(top.values(), reverse=True)


def test_pedantic_setup_and_teardown_are_not_counted(full: dict[str, measure.Measured]) -> None:
    # The setup builds a 100,000-item list and the teardown sorts 10,000 numbers, each far
    # over a million instructions: counted, they would dwarf the call.
    call = full[f"{FORMS}test_call[{LARGE}]"]
    setup = full[f"{FORMS}test_pedantic_setup[{LARGE}]"]
    assert setup.instructions is not None and call.instructions is not None
    assert setup.instructions - call.instructions < FORM_OVERHEAD
    assert setup.allocated_bytes is not None and setup.allocated_bytes < 1000  # nor their allocations


def test_a_leak_shows_in_retained_bytes(full: dict[str, measure.Measured]) -> None:
    leak = full[f"{OUTCOMES}test_leak"]
    assert leak.retained_bytes is not None and leak.retained_bytes >= 1000  # a bytearray(1000) per call
    assert leak.allocated_blocks is not None and leak.allocated_blocks >= 1
    assert full[f"{FORMS}test_call[{LARGE}]"].retained_bytes == 0


def test_a_failing_or_skipped_benchmark_is_an_error_of_its_own(full: dict[str, measure.Measured]) -> None:
    fails, skipped = full[f"{OUTCOMES}test_fails"], full[f"{OUTCOMES}test_skipped"]
    assert (fails.instructions, fails.error) == (None, "failed: AssertionError: arithmetic is broken")
    assert (skipped.instructions, skipped.error) == (None, "skipped: not on this machine")
    attributes = full[f"{FORMS}test_fixture_attributes"]  # name, fullname, group, extra_info
    assert attributes.error is None and attributes.instructions


def test_the_projects_configuration_neither_breaks_the_run_nor_skips_a_benchmark(
    full: dict[str, measure.Measured],
) -> None:
    # -n auto would have collected in workers (no benchmark here), --benchmark-skip skipped
    # them all, --strict-markers refused the codspeed marker, --cov traced every line (see
    # test_the_count_grows_with_the_work_exactly).
    measured = [name for name, counted in full.items() if counted.instructions is not None]
    assert len(measured) == len(full) - 2


# ---- the same figure, whatever else ----------------------------------------------------------


def test_counted_alone_at_another_path_from_anywhere_the_figures_agree(
    full: dict[str, measure.Measured], elsewhere: dict[str, measure.Measured]
) -> None:
    # A/A: the other tree (another path), another caller's working directory and environment,
    # and only three benchmarks: the same figures, random draws included (pytest-randomly
    # reseeds every test, with the seed the plugin fixes; unfixed, the draws differ by far).
    assert list(elsewhere) == [name for name in full if name in SELECTED]
    assert disagreeing(elsewhere, full) == {}
    for name in SELECTED:
        a, b = full[name], elsewhere[name]
        assert (a.allocated_blocks, a.allocated_bytes, a.retained_bytes, a.calls) == (
            b.allocated_blocks,
            b.allocated_bytes,
            b.retained_bytes,
            b.calls,
        )


def test_a_shard_counts_as_the_whole_suite_does_and_shards_partition_it(
    full: dict[str, measure.Measured], shard: dict[str, measure.Measured]
) -> None:
    assert list(shard) == [name for name in full if measure.shard_of(name, 2) == 1]
    assert 0 < len(shard) < len(full)
    assert disagreeing(shard, full) == {}
    for shards in (2, 3, 5):
        assert all(1 <= measure.shard_of(name, shards) <= shards for name in full)


HEAP_SUITE = """
import pytest

# The heap as the history before a benchmark leaves it: a different number of objects of
# many sizes held (the benchmark's setup, other code, a longer path). None of it is the call's.
@pytest.mark.parametrize("held", [0, 1, 2, 3, 5, 8, 13, 21, 100, 1000])
def test_allocating(benchmark, held):
    kept = [[None] * (i % 40) for i in range(held)] + [bytearray(i * 50) for i in range(held % 30)]
    benchmark(lambda: [str(i) * (i % 9) for i in range(300)] + [bytearray(i * 100) for i in range(20)])
    assert kept is not None
"""


def test_the_heap_that_history_leaves_does_not_move_a_count(python: Path, tmp_path: Path) -> None:
    # Before, one call here cost more or less whether pymalloc's pool of a size class had room
    # (else a fresh pool taken and given back on every call), what glibc's bins held, and
    # where the blocks landed; the same work read counts a few instructions per call apart.
    # Also: the place's parent has a conftest.py that pytest must not load (it did when the
    # plugin's re-parse of the options lost pytest's confcutdir, and then collected from the
    # filesystem's root down: / and /tmp listed, their changing entries on the heap).
    tree = tmp_path / "tree"
    (tree / "tests").mkdir(parents=True)
    (tree / "tests" / "test_heap.py").write_text(HEAP_SUITE)
    (tree / "pytest.ini").write_text("[pytest]\naddopts = -n 2 -p no:randomly\n")
    above = tmp_path / "above"
    above.mkdir()
    (above / "conftest.py").write_text("raise RuntimeError('a conftest above the tree was loaded')\n")
    saved = os.environ.get(harness.PLACE_VARIABLE)
    os.environ[harness.PLACE_VARIABLE] = str(above / "place")
    try:
        counts = measure.count(python, tree, TESTS, out=tmp_path / "out")
    finally:
        if saved is None:
            del os.environ[harness.PLACE_VARIABLE]
        else:
            os.environ[harness.PLACE_VARIABLE] = saved
    assert len(counts) == 10 and all(counted.error is None for counted in counts.values()), counts
    figures = {
        (c.instructions, c.calls, c.allocated_blocks, c.allocated_bytes, c.retained_bytes)
        for c in counts.values()
    }
    assert len(figures) == 1, sorted(figures)


CLASS_SUITE = """
import dataclasses


class Base:  # A class is filed under its base by its address: object's table holds every
    pass     # class of the parent, this one only this suite's.


def make_classes():
    for _ in range(20):
        fields = [("x", int), ("y", str, dataclasses.field(default=""))]
        dataclasses.make_dataclass("Point", fields, bases=(Base,), frozen=True)


def test_make_classes(benchmark):
    benchmark(make_classes)
"""


def test_a_version_in_a_dist_info_name_does_not_move_a_count(python: Path, tmp_path: Path) -> None:
    """As a project versioned from its VCS (attrs: attrs-26.1.1.dev70.dist-info on one side of
    an A/A, dev71 on the other): the folder takes another place in the filesystem's listing of
    site-packages. Before, the interpreter's heap followed the listing, and making classes,
    whose type lookups are cached by the addresses of the names, read another count."""
    venv = tmp_path / "venv"
    shutil.copytree(python.parent.parent, venv, symlinks=True)
    (site_packages,) = venv.glob("lib/python*/site-packages")
    tree = tmp_path / "tree"
    (tree / "tests").mkdir(parents=True)
    (tree / "tests" / "test_classes.py").write_text(CLASS_SUITE)

    def listed_at(version: str) -> int:
        for stale in site_packages.glob("vcsproject-*.dist-info"):
            shutil.rmtree(stale)
        folder = site_packages / f"vcsproject-1.0.{version}.dist-info"
        folder.mkdir()
        (folder / "METADATA").write_text(f"Metadata-Version: 2.1\nName: vcsproject\nVersion: 1.0.{version}\n")
        return os.listdir(site_packages).index(folder.name)

    # Two versions of one length that the filesystem lists at different places (ext4 orders
    # a folder by a hash of each name; a filesystem listing in creation order has none).
    versions = [f"dev{number}" for number in range(70, 100)]
    places = {version: listed_at(version) for version in versions}
    pair = next(((a, b) for a in versions for b in versions if places[a] != places[b]), None)
    if pair is None:
        pytest.skip("this filesystem lists the folder at one place whatever its name")
    counts = {}
    for version in pair:
        listed_at(version)
        with own_place(tmp_path):
            (counted,) = measure.count(venv / "bin" / "python", tree, TESTS, out=tmp_path / version).values()
        assert counted.error is None, counted.error
        counts[version] = counted.instructions
    assert len(set(counts.values())) == 1, counts


def test_pytest_benchmark_runs_no_git_or_hg_in_the_measured_interpreter(python: Path, tmp_path: Path) -> None:
    """pytest-benchmark names the project with git and hg when it registers its options; what
    a subprocess says reaches the parent in as many reads as the scheduler makes, so its heap,
    and a count of making classes, changed from run to run (one in three, by 26 instructions)."""
    venv = tmp_path / "venv"
    shutil.copytree(python.parent.parent, venv, symlinks=True)
    ran = tmp_path / "ran"
    for tool in ("git", "hg"):  # the venv's bin comes first on the measured interpreter's PATH
        (venv / "bin" / tool).write_text(f"#!/bin/sh\necho {tool} >> {ran}\nexit 1\n")
        (venv / "bin" / tool).chmod(0o755)
    (tmp_path / "tree" / "tests").mkdir(parents=True)
    (tmp_path / "tree" / "tests" / "test_classes.py").write_text(CLASS_SUITE)
    with own_place(tmp_path):
        (counted,) = measure.count(
            venv / "bin" / "python", tmp_path / "tree", TESTS, out=tmp_path / "out"
        ).values()
    assert counted.error is None, counted.error
    assert not ran.exists(), ran.read_text()


# ---- timing, failures of the harness ---------------------------------------------------------


def test_time_gives_seconds_per_call_of_what_runs(python: Path, work: Path) -> None:
    names = [f"{FORMS}test_call[{LARGE}]", f"{OUTCOMES}test_fails", "tests/test_nowhere.py::test_x"]
    timed = measure.time(python, work / "base" / "tree", TESTS, names, calls=5, out=work / "time")
    assert list(timed) == [names[0]]
    assert 0 < timed[names[0]] < 1


def test_a_call_that_mostly_waits_is_counted_once_not_64_times(python: Path, tmp_path: Path) -> None:
    """Few instructions would ask for k = 64 calls; a call that sleeps over a second gets 1."""
    (tmp_path / "tree" / "tests").mkdir(parents=True)
    (tmp_path / "tree" / "tests" / "test_waits.py").write_text(
        "import time\n\n\ndef test_waits(benchmark):\n    benchmark(time.sleep, 1.1)\n"
    )
    with own_place(tmp_path):
        counts = measure.count(python, tmp_path / "tree", TESTS, out=tmp_path / "out")
    (counted,) = counts.values()
    assert counted.error is None and counted.calls == 1, counted


def test_a_run_stopped_at_its_timeout_leaves_no_benchmark_running(python: Path, tmp_path: Path) -> None:
    """The run's benchmark children are stopped with it: left running, they would hold the
    machine (and, counting, the place) after the gate gave up."""
    (tmp_path / "tree" / "tests").mkdir(parents=True)
    (tmp_path / "tree" / "tests" / "test_stuck.py").write_text(
        "import os, time\n\n\ndef test_stuck(benchmark):\n"
        f"    open({str(tmp_path / 'pid')!r}, 'w').write(str(os.getpid()))\n"
        "    benchmark(time.sleep, 600)\n"
    )
    names = ["tests/test_stuck.py::test_stuck"]
    with pytest.raises(measure.MeasureError, match="ran over 5 s"):
        measure.time(python, tmp_path / "tree", TESTS, names, calls=1, out=tmp_path / "out", timeout=5)
    pid = int((tmp_path / "pid").read_text())
    for _ in range(50):  # the kill is sent; the process ends within moments
        if not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"the benchmark's process {pid} is still running")


TIMING_TESTS = """
import itertools
import time

ticks = itertools.count()


def test_bursty(benchmark):  # stalls now and then, as when a neighbour takes the CPU
    benchmark(lambda: time.sleep(0.02 if next(ticks) % 7 == 3 else 0))


def test_sleepy(benchmark):
    benchmark(time.sleep, 0.002)
"""


def test_a_timed_run_is_its_fastest_batch_so_a_neighbour_s_burst_does_not_slow_it(
    python: Path, tmp_path: Path
) -> None:
    (tmp_path / "tree" / "tests").mkdir(parents=True)
    (tmp_path / "tree" / "tests" / "test_timing.py").write_text(TIMING_TESTS)
    names = ["tests/test_timing.py::test_bursty", "tests/test_timing.py::test_sleepy"]
    timed = measure.time(python, tmp_path / "tree", TESTS, names, calls=20, out=tmp_path / "out")
    assert timed[names[0]] < 0.002 < timed[names[1]], timed


def test_options_no_plugin_knows_are_named_with_the_configuration_they_came_from(
    python: Path, tmp_path: Path
) -> None:
    """As a project whose addopts name a plugin's options, the plugin not installed (seen:
    bidict's --hypothesis-profile): the reason is argparse's line, not pytest's usage line,
    and pytest's output is kept in ``out``."""
    tree = tmp_path / "tree"
    shutil.copytree(DATA / "suite", tree)
    (tree / "pytest.ini").write_text("[pytest]\naddopts = --hypothesis-profile=ci\n")
    with pytest.raises(measure.MeasureError) as raised:
        measure.count(python, tree, TESTS, out=tmp_path / "out")
    assert str(raised.value).endswith(
        "unrecognized arguments: --hypothesis-profile=ci (pytest's configuration: pytest.ini)"
    ), raised.value
    assert "usage:" in (tmp_path / "out" / "collect.log").read_text()


def test_a_suite_that_does_not_collect_is_a_measure_error(python: Path, tmp_path: Path) -> None:
    shutil.copytree(DATA / "broken", tmp_path / "tree")
    with pytest.raises(measure.MeasureError, match="a_module_that_does_not_exist"):
        measure.collect(python, tmp_path / "tree", TESTS)
    with pytest.raises(measure.MeasureError, match="file or directory not found: nowhere"):
        measure.count(python, tmp_path / "tree", ["nowhere"], out=tmp_path / "out")


def test_missing_valgrind_is_a_measure_error(
    python: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "valgrind" else found(name))
    with pytest.raises(measure.MeasureError, match="valgrind"):
        measure.count(python, tmp_path, TESTS, out=tmp_path / "out")


def test_the_measured_venv_needs_nothing_from_the_gate() -> None:
    assert measure.worker_requirements() == []
