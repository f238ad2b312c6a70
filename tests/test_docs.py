"""Every public function shows one example in its docstring, and the example is true."""

from __future__ import annotations

import doctest
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


def test_the_cli_module_is_importable_without_side_effects() -> None:
    assert callable(cli.main)
