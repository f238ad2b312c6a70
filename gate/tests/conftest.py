"""Shared by the gate's tests: the fixture projects (made once per worker), one build cache
for the whole run (so a build is made once), and ``gate``, which runs the command line."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import projects
from fastfun_gate import cli
from fastfun_gate.commands import options


def real_measure() -> Any | None:
    try:
        module = importlib.import_module("fastfun_gate.measure")
    except ImportError:
        return None
    return module if hasattr(module, "count") else None


MEASURE = real_measure()
PLACE_VARIABLE = "FASTFUN_GATE_PLACE"  # fastfun_gate.measure.harness's: where counts run


@pytest.fixture(scope="session", autouse=True)
def gate_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One cache of builds for the whole run, shared by the pytest-xdist workers (it locks
    across processes), so that each revision is built once; and a place of its own to count
    at for each worker (``FASTFUN_GATE_PLACE``): the machine's default place is one count at a
    time for every gate on the machine. Figures are comparable at one place, and every count
    a test compares is made in its worker."""
    own = tmp_path_factory.getbasetemp()
    folder = (own.parent if os.environ.get("PYTEST_XDIST_WORKER") else own) / "gate-cache"
    folder.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FASTFUN_GATE_CACHE", str(folder))
        patch.setenv("FASTFUN_GATE_CACHE_BUILDS", "30")
        patch.setenv(PLACE_VARIABLE, str(own / "place"))
        patch.delenv("GITHUB_STEP_SUMMARY", raising=False)
        yield folder


# Tests that share a fixture costlier than a test and narrower than the run go to one xdist
# worker together (--dist loadgroup), so that it is made once: by module, or by fixture.
GROUPS = {"test_measure.py": "measure", "slow_run": "slow_run"}
# Fixtures of the tests that build or count: these start first (in pytest-randomly's order),
# and the tests of a fraction of a second fill the workers' ends.
COSTLY = {"pure", "compiled", "bare", "python"}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = [item.path.name, *getattr(item, "fixturenames", ())]
        group = next((GROUPS[name] for name in names if name in GROUPS), None)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: not COSTLY.intersection(getattr(item, "fixturenames", ())))


@pytest.fixture(autouse=True)
def measure(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The real measure module once it is there; until then the fake, which counts Python
    trace events (and so cannot see inside C)."""
    if MEASURE is not None:
        return MEASURE
    import fake_measure

    monkeypatch.setattr(options, "measure", lambda: fake_measure)
    return fake_measure


@pytest.fixture(scope="session")
def pure(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    repo = tmp_path_factory.mktemp("pure") / "repo"
    return repo, projects.pure_project(repo)


@pytest.fixture(scope="session")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    repo = tmp_path_factory.mktemp("compiled") / "repo"
    return repo, projects.c_project(repo)


@pytest.fixture(scope="session")
def bare(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    repo = tmp_path_factory.mktemp("bare") / "repo"
    return repo, projects.bare_project(repo)


@dataclass
class Result:
    status: int
    out: str
    err: str
    report: dict[str, Any] | None

    def row(self, name: str) -> dict[str, Any]:
        assert self.report is not None
        return next(item for item in self.report["benchmarks"] if item["name"].endswith(name))


def runner(folder: Path, printed: Callable[[], tuple[str, str]]) -> Callable[..., Result]:
    """Runs ``fastfun-gate ARGS`` in this process; ``printed`` gives what it printed, and the
    JSON report is read back when written (a comparison writes it into ``folder``)."""

    def run(*args: str) -> Result:
        argv = list(args)
        if argv and argv[0] == "compare" and "--json" not in argv:
            argv += ["--json", str(folder / "report.json"), "--out", str(folder / "out")]
        report = Path(argv[argv.index("--json") + 1]) if "--json" in argv else folder / "none"
        status = cli.main(argv)
        out, err = printed()
        return Result(status, out, err, json.loads(report.read_text()) if report.exists() else None)

    return run


@pytest.fixture
def gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    return runner(tmp_path, capsys.readouterr)
