"""[tool.fastfun-gate] and its flags: every key read, every flag over its key, every mistake
named in one line."""

from __future__ import annotations

import pytest

from fastfun_gate import config
from fastfun_gate.errors import UsageError

TABLE = {
    "tests": "tests/bench -k fast",
    "requirements": ["requirements/test.txt"],
    "constraints": ["constraints.txt"],
    "extras": ["test"],
    "groups": ["bench"],
    "with": ["pytest-benchmark"],
    "threshold": 0.05,
    "thresholds": {"tests/test_big.py::*": 0.1},
    "tripwire": False,
    "select": ["tests/*"],
    "timeout": 120,
}


def test_every_key_is_read() -> None:
    read = config.parse(TABLE, "pyproject.toml")
    assert read.tests == ("tests/bench", "-k", "fast")
    assert read.install == config.Install(
        ("requirements/test.txt",), ("constraints.txt",), ("test",), ("bench",), ("pytest-benchmark",)
    )
    assert (read.threshold, read.tripwire, read.select, read.timeout) == (0.05, None, ("tests/*",), 120)
    assert read.threshold_for("tests/test_big.py::test_a[1]") == 0.1
    assert read.threshold_for("tests/test_small.py::test_a") == 0.05
    assert set(TABLE) == set(config.KEYS)


def test_every_flag_replaces_its_key() -> None:
    flags = config.Flags(
        tests="other",
        requirements=["r.txt"],
        constraints=["c.txt"],
        extras=["x"],
        groups=["g"],
        with_=["w"],
        threshold=0.2,
        thresholds=["*::test_a=0.5"],
        tripwire="2",
        select=["s"],
        timeout="30",
    )
    got = config.merged(config.parse(TABLE, "pyproject.toml"), flags)
    assert got.tests == ("other",)
    assert got.install == config.Install(("r.txt",), ("c.txt",), ("x",), ("g",), ("w",))
    assert (got.threshold, got.tripwire, got.select, got.timeout) == (0.2, 2.0, ("s",), 30)
    assert got.threshold_for("tests/test_big.py::test_a") == 0.5  # the flag's glob first


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"treshold": 0.1}, "unknown key 'treshold'"),
        ({"threshold": "3%"}, "threshold: expected a fraction"),
        ({"tripwire": 0.5}, "tripwire: expected a time ratio above 1"),
        ({"extras": [1]}, "extras: expected a list of strings"),
        ({"thresholds": [1]}, "thresholds: expected a table"),
        ({"timeout": 0.5}, "timeout: expected whole seconds"),
        ({"timeout": "ten"}, "timeout: expected whole seconds"),
    ],
)
def test_a_bad_key_is_named_in_one_line(table, says) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError, match=says) as raised:
        config.parse(table, "pyproject.toml")
    assert "\n" not in str(raised.value)


def test_globs_match_brackets_literally() -> None:
    assert config.matches("t.py::test_a[1]", "t.py::test_a[1]")
    assert not config.matches("t.py::test_a[12]", "t.py::test_a1")


def test_a_glob_given_to_the_harness_keeps_brackets_literal() -> None:
    import fnmatch

    name = "tests/test_a.py::test_b[x-1]"
    assert fnmatch.fnmatchcase(name, config.as_fnmatch(name))
    assert fnmatch.fnmatchcase(name, config.as_fnmatch("tests/*::test_b[*]"))
    assert not fnmatch.fnmatchcase(
        "tests/test_a.py::test_b1", config.as_fnmatch("tests/test_a.py::test_b[1]")
    )
