"""The gate's settings: ``[tool.fastfun-gate]`` of the BASE revision's ``pyproject.toml``, with
the command line's flags over it (a flag given replaces the key).

The base's table, not the head's: a pull request cannot loosen the check that judges it.

    [tool.fastfun-gate]
    tests = "tests/benchmarks"            # pytest arguments; default: the project's testpaths
    requirements = ["requirements/test.txt"]   # pip -r files, paths in the revision's tree
    constraints = ["constraints.txt"]     # pip -c files (tree paths): the venv and the wheel's build
    extras = ["test"]                     # the project's extras installed with its wheel
    groups = ["test"]                     # PEP 735 dependency groups (pip >= 25.1 --group)
    with = ["pytest-benchmark"]           # more requirements, on both sides
    threshold = 0.03                      # the largest accepted increase, as a fraction
    tripwire = 1.5                        # time ratio that fails a benchmark, or false
    select = ["tests/test_x.py::*"]      # only benchmarks matching one of these globs
    timeout = 600                         # seconds a benchmark may take under callgrind
    [tool.fastfun-gate.thresholds]
    "tests/test_big.py::*" = 0.10         # the first glob that matches a benchmark wins
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the gate supports 3.10 through tomli
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

from fastfun_gate import git
from fastfun_gate.errors import UsageError

TABLE = "fastfun-gate"
DEFAULT_THRESHOLD = 0.03
DEFAULT_TRIPWIRE = 1.5  # wall time on a shared 2-core machine: 1.7x was seen between identical builds
DEFAULT_TIMEOUT = 600.0  # seconds per benchmark under callgrind, which runs code about 50x slower


@dataclass(frozen=True)
class Install:
    """How a revision's venv gets its test requirements: part of its build's cache key."""

    requirements: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()  # pip -c files: the venv's install and the wheel's build isolation
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    with_: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    tests: tuple[str, ...] = ()  # pytest arguments; () runs the project's own testpaths
    install: Install = Install()
    threshold: float = DEFAULT_THRESHOLD
    thresholds: tuple[tuple[str, float], ...] = ()  # (glob, threshold), first match wins
    tripwire: float | None = DEFAULT_TRIPWIRE  # None: off
    select: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT  # seconds per benchmark, counted; past it the benchmark fails
    source: str = "defaults"  # where the settings came from, for the report

    def threshold_for(self, name: str) -> float:
        """The threshold of the benchmark ``name``: the first matching glob's, else the global one."""
        return next((value for glob, value in self.thresholds if matches(glob, name)), self.threshold)


def matches(glob: str, name: str) -> bool:
    """``*`` any text, ``?`` one character, everything else literal (a node id's brackets too).

    >>> matches("tests/test_a.py::test_x[*]", "tests/test_a.py::test_x[1-2]")
    True
    """
    pattern = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.fullmatch(pattern, name) is not None


def as_fnmatch(glob: str) -> str:
    """The same glob for ``fnmatch`` (what the measuring harness selects with), brackets kept
    literal.

    >>> as_fnmatch("t.py::test_y[a]*")
    't.py::test_y[[]a[]]*'
    """
    return "".join({"[": "[[]", "]": "[]]"}.get(c, c) for c in glob)


def _fraction(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 100:
        raise UsageError(f"{where}: expected a fraction such as 0.03, got {value!r}")
    return float(value)


def _strings(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise UsageError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(value)


def timeout_of(value: object, where: str) -> float:
    """Seconds, a whole number from 1 (the hang limit is an alarm of whole seconds)."""
    seconds = value
    if isinstance(value, str):
        try:
            seconds = float(value)
        except ValueError:
            pass
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, (int, float))
        or not 1 <= seconds < 2**31
        or seconds % 1
    ):
        raise UsageError(f"{where}: expected whole seconds such as 600, got {value!r}")
    return float(seconds)


def tripwire_of(value: object, where: str) -> float | None:
    """A time ratio above 1, or off (``false``, ``"off"``)."""
    if value is False or value == "off":
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 1:
        raise UsageError(f"{where}: expected a time ratio above 1 (such as 1.5) or off, got {value!r}")
    return float(value)


def testpaths(pyproject: str) -> list[str]:
    """pytest's ``testpaths`` in a ``pyproject.toml``'s text (none when it is not valid TOML)."""
    try:
        table = tomllib.loads(pyproject).get("tool", {}).get("pytest", {}).get("ini_options", {})
    except tomllib.TOMLDecodeError:
        return []
    return [path for path in table.get("testpaths", []) if isinstance(path, str)]


def table_of(pyproject: str | None, source: str) -> dict[str, Any]:
    """The ``[tool.fastfun-gate]`` table of a pyproject.toml's text (empty when there is none)."""
    if pyproject is None:
        return {}
    try:
        data = tomllib.loads(pyproject)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{source}: not valid TOML ({error})") from None
    table = data.get("tool", {}).get(TABLE, {})
    if not isinstance(table, dict):
        raise UsageError(f"{source}: [tool.{TABLE}] must be a table")
    return table


KEYS = (
    "tests",
    "requirements",
    "constraints",
    "extras",
    "groups",
    "with",
    "threshold",
    "thresholds",
    "tripwire",
    "select",
    "timeout",
)


def parse(table: dict[str, Any], source: str) -> Config:
    """A ``[tool.fastfun-gate]`` table as a Config; UsageError naming the first bad key."""
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise UsageError(f"{source}: unknown key {unknown[0]!r} in [tool.{TABLE}] (known: {', '.join(KEYS)})")

    def where(key: str) -> str:
        return f"{source}: [tool.{TABLE}] {key}"

    tests = table.get("tests", [])
    if isinstance(tests, str):
        tests = shlex.split(tests)
    thresholds = table.get("thresholds", {})
    if not isinstance(thresholds, dict):
        raise UsageError(f"{where('thresholds')}: expected a table of glob = fraction")
    return Config(
        tests=_strings(tests, where("tests")),
        install=Install(
            requirements=_strings(table.get("requirements", []), where("requirements")),
            constraints=_strings(table.get("constraints", []), where("constraints")),
            extras=_strings(table.get("extras", []), where("extras")),
            groups=_strings(table.get("groups", []), where("groups")),
            with_=_strings(table.get("with", []), where("with")),
        ),
        threshold=_fraction(table.get("threshold", DEFAULT_THRESHOLD), where("threshold")),
        thresholds=tuple(
            (glob, _fraction(v, where(f"thresholds {glob!r}"))) for glob, v in thresholds.items()
        ),
        tripwire=tripwire_of(table.get("tripwire", DEFAULT_TRIPWIRE), where("tripwire")),
        select=_strings(table.get("select", []), where("select")),
        timeout=timeout_of(table.get("timeout", DEFAULT_TIMEOUT), where("timeout")),
        source=source if table else "defaults",
    )


@dataclass
class Flags:
    """The command line's settings; None or empty: not given, the configuration's value holds."""

    tests: str | None = None
    requirements: list[str] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    with_: list[str] = field(default_factory=list)
    threshold: float | None = None
    thresholds: list[str] = field(default_factory=list)  # GLOB=X
    tripwire: str | None = None
    select: list[str] = field(default_factory=list)
    timeout: str | None = None


def merged(config: Config, flags: Flags) -> Config:
    """The configuration with every flag given put over it."""
    install = config.install
    for name in ("requirements", "constraints", "extras", "groups", "with_"):
        if getattr(flags, name):
            install = dataclasses.replace(install, **{name: tuple(getattr(flags, name))})
    changes: dict[str, Any] = {"install": install}
    if flags.tests is not None:
        changes["tests"] = tuple(shlex.split(flags.tests))
    if flags.threshold is not None:
        changes["threshold"] = _fraction(flags.threshold, "--threshold")
    if flags.thresholds:
        pairs = []
        for text in flags.thresholds:
            glob, equals, value = text.rpartition("=")
            try:
                pairs.append((glob, _fraction(float(value), f"--threshold-for {text}")))
            except ValueError:
                equals = ""
            if not equals or not glob:
                raise UsageError(
                    f"--threshold-for {text!r}: expected GLOB=FRACTION, such as 'tests/*::*big*=0.1'"
                )
        changes["thresholds"] = (*pairs, *config.thresholds)  # flags first: their globs win
    if flags.tripwire is not None:
        changes["tripwire"] = tripwire_of(flags.tripwire, "--tripwire")
    if flags.select:
        changes["select"] = tuple(flags.select)
    if flags.timeout is not None:
        changes["timeout"] = timeout_of(flags.timeout, "--timeout")
    return dataclasses.replace(config, **changes)


def of_revision(repo: Path, commit: str, flags: Flags) -> Config:
    """The settings that judge a comparison whose base is ``commit``."""
    source = f"pyproject.toml of {commit[:12]}"
    return merged(parse(table_of(git.show(repo, commit, "pyproject.toml"), source), source), flags)


def shard_of(text: str) -> tuple[int, int]:
    """``K/N`` (1 <= K <= N) as a pair; UsageError otherwise."""
    k, slash, n = text.partition("/")
    if not (slash and k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise UsageError(f"--shard {text!r}: expected K/N with 1 <= K <= N, such as 1/4")
    return int(k), int(n)


def resolved(path: str | None) -> Path | None:
    return Path(path).resolve() if path else None
