"""Every public function shows one example in its docstring, and the example is true."""

from __future__ import annotations

import doctest
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from fastfun import cli, reference


def run_doctests(module: ModuleType) -> doctest.TestResults:
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in finder.find(module, module.__name__):
        runner.run(test)
    return runner.summarize(verbose=False)


def test_the_core_examples_hold(core: ModuleType) -> None:
    failed, attempted = run_doctests(core)
    assert attempted >= 6  # one per public function
    assert failed == 0


def test_the_reference_examples_hold() -> None:
    failed, attempted = run_doctests(reference)
    assert (failed, attempted) == (0, 6)


def test_every_public_core_function_has_an_example(core: ModuleType) -> None:
    for name in ["fibonacci", "fizz", "fizzbuzz", "fun_notification", "fun_notifications", "month"]:
        assert ">>> " in (getattr(core, name).__doc__ or ""), name


def test_the_cli_module_is_importable_without_side_effects(tmp_path: Path) -> None:
    # Imported, it prints nothing, reads nothing, writes nothing and does not exit early.
    result = subprocess.run(
        [sys.executable, "-c", "import fastfun.cli; print('imported')"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "imported\n", "")
    assert list(tmp_path.iterdir()) == []
    assert callable(cli.main)
