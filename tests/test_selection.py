"""Which core runs: the compiled one by default, the twin only when asked or unavoidable."""

from __future__ import annotations

import inspect
import operator
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import pytest
from children import child_env

import fastfun

SOURCE_TREE = Path(__file__).resolve().parents[1] / "src"
PUBLIC = ["fibonacci", "fizz", "fizzbuzz", "fun_notification", "fun_notifications", "month"]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh interpreter with the FASTFUN_* variables only as given."""
    return subprocess.run(
        [sys.executable, "-I", "-c", code], env=child_env(**env), capture_output=True, text=True, timeout=60
    )


@pytest.mark.skipif(
    bool(os.environ.get("FASTFUN_EXPECT_PURE")), reason="this run checks a pure (py3-none-any) install"
)
def test_a_normal_install_runs_the_compiled_core() -> None:
    # The guard against a silent fallback: no variable set, and the compiled core must load.
    result = run_python("import fastfun; print(fastfun.IMPLEMENTATION, fastfun.fibonacci.__module__)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["compiled", "fastfun._core"]


def test_no_extensions_selects_the_pure_twin() -> None:
    result = run_python(
        "import fastfun; print(fastfun.IMPLEMENTATION, fastfun.fibonacci.__module__)",
        FASTFUN_NO_EXTENSIONS="1",
    )
    assert result.stdout.split() == ["pure", "fastfun._core_py"]


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="only CPython has a compiled core to miss")
def test_a_missing_core_is_an_import_error_when_extensions_are_required() -> None:
    hide_core = "import sys; sys.modules['fastfun._core'] = None\n"
    required = run_python(hide_core + "import fastfun", FASTFUN_REQUIRE_EXTENSIONS="1")
    assert required.returncode != 0
    assert "ImportError: fastfun's compiled core (fastfun._core) could not be imported" in required.stderr
    allowed = run_python(hide_core + "import fastfun; print(fastfun.IMPLEMENTATION)")
    assert allowed.stdout.strip() == "pure"


@pytest.mark.skipif(sys.implementation.name == "cpython", reason="CPython can run the compiled core")
def test_other_pythons_run_the_pure_twin_even_when_extensions_are_required() -> None:
    result = run_python("import fastfun; print(fastfun.IMPLEMENTATION)", FASTFUN_REQUIRE_EXTENSIONS="1")
    assert result.stdout.strip() == "pure", result.stderr


def test_this_run_uses_the_core_it_was_asked_for() -> None:
    expected = "pure" if os.environ.get("FASTFUN_NO_EXTENSIONS") else "compiled"
    if os.environ.get("FASTFUN_EXPECT_PURE"):
        expected = "pure"
    assert fastfun.IMPLEMENTATION == expected


def test_the_suite_runs_against_the_installed_package_not_the_source_tree() -> None:
    assert SOURCE_TREE not in Path(fastfun.__file__).resolve().parents


def test_both_cores_have_the_same_functions_in_the_same_order_with_the_same_docs(
    compiled: ModuleType, pure: ModuleType
) -> None:
    def public(module: ModuleType) -> list[str]:
        names = [n for n in vars(module) if not n.startswith("_") and callable(getattr(module, n))]
        return [n for n in names if n in PUBLIC]

    assert public(pure) == PUBLIC
    assert public(compiled) == PUBLIC
    for name in PUBLIC:
        pure_doc = inspect.getdoc(getattr(pure, name))
        compiled_doc = getattr(compiled, name).__doc__
        assert pure_doc and compiled_doc
        # embedsignature puts the signature first, and it is the twin's: the same parameter
        # names, all positional-only (the package's types come from the twin); the text after
        # it is the twin's docstring.
        signature, text = compiled_doc.split("\n", 1)
        parameters = inspect.signature(getattr(pure, name)).parameters.values()
        assert all(p.kind is inspect.Parameter.POSITIONAL_ONLY for p in parameters), name
        assert signature == f"{name}({', '.join([*(p.name for p in parameters), '/'])})"
        assert inspect.cleandoc(text) == pure_doc, name


def test_compiled_per_day_functions_take_the_cheapest_call(compiled: ModuleType) -> None:
    # METH_O builtins, like operator.index: no argument tuple, no keyword parsing. Only
    # CPython's METH_O dispatch words an arity error "takes exactly one argument" (a fastcall
    # function of Cython's says "exactly 1 positional argument"), so the message names the call.
    with pytest.raises(TypeError) as reference:
        cast(Any, operator.index)()
    meth_o_wording = str(reference.value).split("() ", 1)[1]
    assert meth_o_wording == "takes exactly one argument (0 given)"
    for name in ["fibonacci", "fizz", "fizzbuzz", "fun_notification", "fun_notifications"]:
        func = getattr(compiled, name)
        assert type(func) is type(len), name
        with pytest.raises(TypeError) as arity:
            cast(Any, func)()
        assert str(arity.value) == f"fastfun._core.{name}() {meth_o_wording}", name
        with pytest.raises(TypeError):
            cast(Any, func)(n=3)


def test_the_pure_twin_is_positional_only_like_the_core(pure: ModuleType) -> None:
    with pytest.raises(TypeError):
        pure.fibonacci(n=3)
