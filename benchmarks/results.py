"""Timing the suite with pytest-benchmark, and reading its JSON: the one reader every command
(``bmf``, ``plot``, the main job) goes through.

The file is checked against ``pytest_benchmark.schema.json`` (the shape pytest-benchmark has
written since 3.0, as far as anything here reads it); the first problem is named in one line.
Benchmarks are identified by ``fullname``, pytest's node id, as Bencher's ``python_pytest``
adapter names them: two tests may share a ``name`` (in two modules, or two groups), never a
``fullname``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = Path(__file__).with_name("pytest_benchmark.schema.json")
# The four statistics, in seconds, that Bencher's python_pytest adapter reads.
STATS = ("mean", "stddev", "median", "iqr")
_SHOWN = 300  # characters of a problem shown, so a huge value in the file stays one short line


class Refused(ValueError):
    """A results file the tools cannot use, or cannot turn into what Bencher stores; the
    message says why in one line."""


@dataclass(frozen=True)
class Benchmark:
    """One benchmark of a run; times in seconds, finite and >= 0."""

    fullname: str  # e.g. ``benchmarks/test_benchmarks.py::test_fibonacci_month[compiled]``
    name: str  # e.g. ``test_fibonacci_month[compiled]``: unique within a module only
    group: str | None
    mean: float
    stddev: float
    median: float
    iqr: float
    extra_info: Mapping[str, Any]


def shorten(text: str, limit: int = 60) -> str:
    """``text`` cut to about ``limit`` characters for a message or a label, its ends kept."""
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return f"{text[:half]}…{text[-half:]}"


def _first_problem(data: object) -> str | None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is None:
        return None
    return f"{error.json_path}: {shorten(error.message, _SHOWN)}"


def _seconds(value: float) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer beyond any float
        return math.inf


def parse(data: object) -> list[Benchmark]:
    """The benchmarks of a decoded ``--benchmark-json`` file, in its order.

    Raises ``Refused`` when the shape is not pytest-benchmark's, a statistic read is not
    finite, two benchmarks share a ``fullname``, or there is no benchmark at all.
    """
    problem = _first_problem(data)
    if problem is not None:
        raise Refused(f"not pytest-benchmark JSON as --benchmark-json writes it: {problem}")
    assert isinstance(data, dict)  # the schema says so
    benchmarks, seen = [], set()
    for index, bench in enumerate(data["benchmarks"]):
        fullname = bench["fullname"]
        stats = {field: _seconds(bench["stats"][field]) for field in STATS}
        for field, value in stats.items():
            if not math.isfinite(value):
                raise Refused(
                    f"$.benchmarks[{index}] ({shorten(fullname)!r}): stats.{field} is {value}; "
                    "only finite times can be compared or stored (Bencher refuses the whole file)"
                )
        if fullname in seen:
            raise Refused(
                f"$.benchmarks[{index}]: a second benchmark named {shorten(fullname)!r} (fullname); "
                "each benchmark needs its own, or one would hide the other"
            )
        seen.add(fullname)
        benchmarks.append(
            Benchmark(
                fullname=fullname,
                name=bench["name"],
                # a group is whatever the test set (pytest-benchmark writes it as it is); a label here
                group=None if bench.get("group") is None else str(bench["group"]),
                mean=stats["mean"],
                stddev=stats["stddev"],
                median=stats["median"],
                iqr=stats["iqr"],
                extra_info=bench.get("extra_info") or {},
            )
        )
    if not benchmarks:
        raise Refused("no benchmarks in it: the run measured nothing (did pytest select a benchmark test?)")
    return benchmarks


def load(path: str | Path) -> list[Benchmark]:
    """``parse`` of the file at ``path``; ``Refused`` names the file and its first problem,
    whether it cannot be read, is not JSON, or is not a usable run."""
    try:
        text = Path(path).read_bytes().decode()
        data = json.loads(text)
        return parse(data)
    except OSError as error:
        raise Refused(f"{path}: cannot read it: {error.strerror or error}") from None
    except RecursionError:
        raise Refused(f"{path}: not pytest-benchmark JSON: nested too deeply") from None
    except json.JSONDecodeError as error:
        raise Refused(f"{path}: not JSON: {error}") from None
    except UnicodeDecodeError as error:
        raise Refused(f"{path}: not JSON: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except Refused as error:
        raise Refused(f"{path}: {error}") from None


def load_for(command: str, path: str) -> list[Benchmark] | None:
    """``load`` for a command line: None, after one line on stderr, when the file is unusable."""
    try:
        return load(path)
    except Refused as error:
        print(f"{command}: {error}", file=sys.stderr)
        return None


def write_for(command: str, source: str, output: str, write: Callable[[], object], wrote: str) -> int:
    """A command line's last step: ``write()`` the output made from ``source``; its exit status,
    after one line saying what was written, or why not (a refused file, an unwritable output)."""
    try:
        write()
    except Refused as error:
        print(f"{command}: {source}: {error}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as error:  # matplotlib: an unknown image suffix is a ValueError
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        print(f"{command}: cannot write {output}: {reason}", file=sys.stderr)
        return 2
    print(f"{command}: wrote {wrote}")
    return 0


def time_suite(json_path: Path, *pytest_args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    """Runs ``pytest benchmarks`` (the suite in test_benchmarks.py), writing its JSON."""
    # A session of its own even when started from a pytest-xdist worker: pytest-benchmark
    # reads PYTEST_XDIST_WORKER and would otherwise disable itself.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "benchmarks",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--benchmark-json={json_path}",
            *pytest_args,
        ],
        cwd=Path(__file__).resolve().parents[1],
        env=environment,
        capture_output=capture,
        text=True,
    )
