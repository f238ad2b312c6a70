"""Shared by the gate's tests: the fixture projects (made once per session), one build cache
for the whole session (so a build is made once), and ``gate``, which runs the command line."""

from __future__ import annotations

import importlib
import json
import os
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


@pytest.fixture(scope="session", autouse=True)
def gate_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of builds for the session: each revision is built once."""
    folder = tmp_path_factory.mktemp("cache")
    saved = {
        name: os.environ.get(name)
        for name in ("FASTFUN_GATE_CACHE", "FASTFUN_GATE_CACHE_BUILDS", "GITHUB_STEP_SUMMARY")
    }
    os.environ.update(FASTFUN_GATE_CACHE=str(folder), FASTFUN_GATE_CACHE_BUILDS="30")
    os.environ.pop("GITHUB_STEP_SUMMARY", None)
    yield folder
    for name, value in saved.items():
        os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)


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


@dataclass
class Result:
    status: int
    out: str
    err: str
    report: dict[str, Any] | None

    def row(self, name: str) -> dict[str, Any]:
        assert self.report is not None
        return next(item for item in self.report["benchmarks"] if item["name"].endswith(name))


@pytest.fixture
def gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Runs ``fastfun-gate ARGS`` in this process; the JSON report is read back when written."""

    def run(*args: str) -> Result:
        argv = list(args)
        if argv and argv[0] == "compare" and "--json" not in argv:
            argv += ["--json", str(tmp_path / "report.json"), "--out", str(tmp_path / "out")]
        report = Path(argv[argv.index("--json") + 1]) if "--json" in argv else tmp_path / "none"
        status = cli.main(argv)
        out, err = capsys.readouterr()
        return Result(status, out, err, json.loads(report.read_text()) if report.exists() else None)

    return run
