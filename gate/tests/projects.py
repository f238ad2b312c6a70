"""Fixture projects, made as git repositories inside the tests: a pure-Python package built
by hatchling (flat layout, so the measured tree must lose its copy of the package); a compiled
one, setuptools with a C extension, also built by meson-python and by scikit-build-core; and a
bare one built by flit_core, whose test requirements are only a dependency group. Each has a
pytest-benchmark suite and a few branches the gate's tests compare."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path
from typing import Any

IDENTITY = ["-c", "user.name=Gate Tests", "-c", "user.email=gate@tests.invalid", "-c", "commit.gpgsign=false"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *IDENTITY, *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def write(repo: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip())


def commit(
    repo: Path,
    message: str,
    files: dict[str, str] | None = None,
    *,
    branch: str | None = None,
    start: str | None = None,
) -> str:
    if branch is not None:
        git(repo, "checkout", "-q", "-b", branch, start or "HEAD")
    write(repo, files or {})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


# A commit of a fixture project: its name, message and changed files, and the branch it makes
# at a start (branch None: the next commit on the branch of the commit before).
Commit = tuple[str, str, dict[str, str], str | None, str | None]


def project(repo: Path, files: dict[str, str], message: str, commits: list[Commit]) -> dict[str, str]:
    """A repository whose main has ``files`` (commit "base"), then ``commits``; their ids by
    name, main checked out."""
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    write(repo, files)
    made = {"base": commit(repo, message)}
    for name, subject, changes, branch, start in commits:
        made[name] = commit(repo, subject, changes, branch=branch, start=start)
    git(repo, "checkout", "-q", "main")
    return made


# A fixture project's pyproject.toml begins so (then its own tables, as indented)
PROJECT = """
    [build-system]
    requires = ["{requires}"]
    build-backend = "{backend}"

    [project]
    name = "{name}"
    version = "1.0"
    requires-python = ">=3.10"
"""

PURE_PYPROJECT = (
    PROJECT.format(requires="hatchling==1.27.0", backend="hatchling.build", name="purepkg")
    + """
    [project.optional-dependencies]
    test = ["pytest-benchmark==5.3.1"]

    [tool.pytest.ini_options]
    testpaths = ["tests"]
    addopts = "-p no:cacheprovider"

    [tool.fastfun-gate]
    extras = ["test"]
    threshold = {threshold}
    """
)

PURE_CODE = """
    def total(n):
        s = 0
        for i in range(n):
            s += i
        return s


    def words(n):
        return " ".join(str(i) for i in range(n))
    """

PURE_TESTS = {
    "tests/test_bench.py": """
        import pytest

        from purepkg import total, words


        def test_total(benchmark):
            assert benchmark(total, 200) == 19900


        @pytest.mark.parametrize("n", [50])
        def test_words(benchmark, n):
            @benchmark
            def run():
                return words(n)


        def test_plain():
            assert total(3) == 3
        """,
}


PURE_AA = "# sums and words\n" + textwrap.dedent(PURE_CODE)
# total does twice the work
PURE_SLOW = textwrap.dedent(PURE_CODE).replace(
    "for i in range(n):\n        s += i",
    "for i in range(n):\n        s += i\n    for i in range(n):\n        s += 0",
)
PURE_SLEEPY = "import time\n" + textwrap.dedent(PURE_CODE).replace(
    "    return s\n", "    time.sleep(0.005)\n    return s\n"
)
ACCEPT = "\n\nPerformance-Accepted: tests/test_bench.py::test_total <= {}"
PURE_LOOSE = PURE_PYPROJECT.format(threshold=10)  # its own threshold raised

PURE_SOURCE = "purepkg/__init__.py"
PURE_COMMITS: list[Commit] = [
    ("aa", "a comment", {PURE_SOURCE: PURE_AA}, "aa", "main"),
    ("slow", "total: a second loop", {PURE_SOURCE: PURE_SLOW}, "slow", "main"),
    ("accepted", "accept the second loop" + ACCEPT.format("2.5: the loop is needed"), {}, "accepted", "slow"),
    ("too_little", "accept a little" + ACCEPT.format("1.1: a little more work"), {}, "too-little", "slow"),
    ("sleepy", "total: a sleep", {PURE_SOURCE: PURE_SLEEPY}, "sleepy", "main"),
    ("loosened", "loosen the gate", {"pyproject.toml": PURE_LOOSE}, "loosened", "slow"),
    ("line 0", "line: a comment", {PURE_SOURCE: PURE_AA}, "line", "main"),
    ("line 1", "line: the second loop", {PURE_SOURCE: PURE_SLOW}, None, None),
    ("line 2", "line: an empty commit", {}, None, None),
    ("line 3", "line: another empty commit", {}, None, None),
]


def pure_project(repo: Path) -> dict[str, Any]:
    """The pure project and its branches; returns their commit ids by name:
    base, aa (a comment), slow (total does twice the work), accepted (slow + a trailer),
    too_little (slow + a trailer up to 1.1), sleepy (total sleeps),
    loosened (slow, and its own threshold raised to 10); line, four first-parent commits
    after base whose second brings the slowdown (the last two change nothing: every build
    of the line is one of aa's or slow's)."""
    files = {"pyproject.toml": PURE_PYPROJECT.format(threshold=0.03), PURE_SOURCE: PURE_CODE, **PURE_TESTS}
    commits: dict[str, Any] = project(repo, files, "the pure project", PURE_COMMITS)
    commits["line"] = [commits.pop(f"line {i}") for i in range(4)]
    return commits


C_SETUP = """
    from setuptools import Extension, setup

    setup(ext_modules=[Extension("cpkg._speed", ["cpkg/_speed.c"])])
    """

C_PYPROJECT = (
    PROJECT.format(requires="setuptools>=61", backend="setuptools.build_meta", name="cpkg")
    + """
    [tool.setuptools]
    packages = ["cpkg"]

    [tool.pytest.ini_options]
    testpaths = ["tests"]

    [tool.fastfun-gate]
    requirements = ["requirements-bench.txt"]
    constraints = ["constraints.txt"]
    """
)

C_SOURCE = """
    #define PY_SSIZE_T_CLEAN
    #include <Python.h>

    static PyObject *spin(PyObject *self, PyObject *arg) {
        long n = PyLong_AsLong(arg);
        volatile long s = 0;
        for (long i = 0; i < n * FACTOR; i++) s += i;
        return PyLong_FromLong(s);
    }

    static PyMethodDef methods[] = {{"spin", spin, METH_O, "spin(n)"}, {NULL, NULL, 0, NULL}};
    static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};
    PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&module); }
    """

C_TESTS = {
    "requirements-bench.txt": "pytest==9.0.3\npytest-benchmark==5.3.1\n",
    "constraints.txt": "setuptools==80.9.0\n",
    "cpkg/__init__.py": "from cpkg._speed import spin\n",
    "tests/test_speed.py": """
        import cpkg


        def test_spin(benchmark):
            benchmark(cpkg.spin, 1000)


        def test_spin_pedantic(benchmark):
            benchmark.pedantic(cpkg.spin, args=(100,), rounds=3, iterations=2)
        """,
}

C_FILE = "cpkg/_speed.c"
C_CODE = textwrap.dedent(C_SOURCE)
C_BROKEN = C_CODE.replace("return PyLong_FromLong(s);", "return PyLong_FromLong(s)")  # does not compile
C_COMMITS: list[Commit] = [
    ("aa", "a comment", {C_FILE: "/* spin */\n#define FACTOR 1\n" + C_CODE}, "aa", "main"),
    ("slow", "spin twice as long", {C_FILE: "#define FACTOR 2\n" + C_CODE}, "slow", "main"),
    ("unbuildable_pin", "pin setuptools to no release", {"constraints.txt": "setuptools<1\n"}, "pin", "main"),
    ("broken", "a typo", {C_FILE: "#define FACTOR 1\n" + C_BROKEN}, "broken", "main"),
]


def c_project(repo: Path) -> dict[str, str]:
    """The compiled project: base, aa (a comment in the C file), slow (spin loops twice as
    long), unbuildable_pin (constrains setuptools to no release), broken (the C file does not
    compile)."""
    files = {
        "setup.py": C_SETUP,
        "pyproject.toml": C_PYPROJECT,
        C_FILE: "#define FACTOR 1\n" + C_CODE,
        **C_TESTS,
    }
    return project(repo, files, "the compiled project", C_COMMITS)


# A project that declares its test requirements only as a PEP 735 dependency group, built by
# flit_core, with no [tool.fastfun-gate] table and no testpaths: the gate gets pytest and
# pytest-benchmark only from --group or --with.
BARE_PYPROJECT = (
    PROJECT.format(requires="flit_core==3.12.0", backend="flit_core.buildapi", name="barepkg")
    + """
    description = "a bare project"

    [dependency-groups]
    bench = ["pytest==9.0.3", "pytest-benchmark==5.3.1"]
    """
)
BARE_WITH = ["pytest==9.0.3", "pytest-benchmark==5.3.1"]  # the group's requirements, as --with
BARE_TESTS = """
    import barepkg


    def test_spin(benchmark):
        assert benchmark(barepkg.spin, 100) == 4950
    """
BARE_CODE = '''
    """A bare project."""


    def spin(n):
        return sum(range(n))


    def forever():
        while True:
            pass
    '''
BARE_HANG = """

    def test_forever(benchmark):
        benchmark(barepkg.forever)
    """


def bare_project(repo: Path) -> dict[str, str]:
    """The bare project: base, and hang (a benchmark that never returns)."""
    files = {
        "pyproject.toml": BARE_PYPROJECT,
        "barepkg/__init__.py": BARE_CODE,
        "tests/test_spin.py": BARE_TESTS,
    }
    hang = textwrap.dedent(BARE_TESTS).lstrip() + textwrap.dedent(BARE_HANG)
    return project(
        repo,
        files,
        "the bare project",
        [("hang", "a benchmark that hangs", {"tests/test_spin.py": hang}, "hang", "main")],
    )


# The compiled project's C, built by the other backends for compiled code: meson-python and
# scikit-build-core (CMake). Its package also has a Python function the slowdown leaves alone.
BACKENDS = {
    "meson-python": {
        "pyproject.toml": PROJECT.format(
            requires='meson-python==0.18.0", "meson==1.9.1", "ninja==1.13.0', backend="mesonpy", name="cpkg"
        ),
        "meson.build": """
            project('cpkg', 'c')
            py = import('python').find_installation(pure: false)
            py.extension_module('_speed', 'cpkg/_speed.c', install: true, subdir: 'cpkg')
            py.install_sources('cpkg/__init__.py', subdir: 'cpkg')
            """,
    },
    "scikit-build-core": {
        "pyproject.toml": PROJECT.format(
            requires="scikit-build-core==0.11.6", backend="scikit_build_core.build", name="cpkg"
        ),
        "CMakeLists.txt": """
            cmake_minimum_required(VERSION 3.15)
            project(cpkg LANGUAGES C)
            find_package(Python COMPONENTS Interpreter Development.Module REQUIRED)
            Python_add_library(_speed MODULE cpkg/_speed.c WITH_SOABI)
            install(TARGETS _speed DESTINATION cpkg)
            """,
    },
}
BACKEND_FILES = {
    "requirements-bench.txt": C_TESTS["requirements-bench.txt"],
    "cpkg/__init__.py": """
        from cpkg._speed import spin


        def doubled(n):
            return [2 * i for i in range(n)]
        """,
    "tests/test_speed.py": """
        import cpkg


        def test_spin(benchmark):
            benchmark(cpkg.spin, 1000)


        def test_doubled(benchmark):
            benchmark(cpkg.doubled, 100)
        """,
}


def backend_project(repo: Path, backend: str) -> dict[str, str]:
    """The compiled project built by ``backend``: base, and slow (spin loops twice as long)."""
    files = {**BACKENDS[backend], **BACKEND_FILES, C_FILE: "#define FACTOR 1\n" + C_CODE}
    slow = {C_FILE: "#define FACTOR 2\n" + C_CODE}
    return project(
        repo, files, f"the compiled project, by {backend}", [("slow", "spin twice", slow, "slow", "main")]
    )
