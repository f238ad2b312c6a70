"""The tests of this repository's tooling (the gate, the benchmarks, history, the release
workflows), not of the installed package: each is marked ``repository`` here, once, so that
a run against a wheel leaves them out with ``-m "not repository"``."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.repository)
