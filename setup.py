"""Declares fastfun's one compiled extension; all metadata lives in pyproject.toml.

A compile error fails the build. FASTFUN_NO_EXTENSIONS=1 at build time leaves the extension
out, on purpose, for a pure ``py3-none-any`` wheel; so does any interpreter but CPython (PyPy),
as propcache and multidict build: the Cython core would need its C-API emulation (cpyext),
slower there than the twin, and the selector picks the twin there anyway.
"""

import os
import sys

from setuptools import Extension, setup

if os.environ.get("FASTFUN_NO_EXTENSIONS") or sys.implementation.name != "cpython":
    ext_modules = []
else:
    from Cython.Build import cythonize

    ext_modules = cythonize(
        [
            Extension(
                "fastfun._core",
                ["src/fastfun/_core.pyx"],
                # No debug info in the shipped object: it would triple the wheel's size.
                extra_compile_args=[] if sys.platform == "win32" else ["-O3", "-g0"],
                extra_link_args=[] if sys.platform == "win32" else ["-Wl,--strip-debug"],
            )
        ],
        compiler_directives={"language_level": 3},
    )

setup(ext_modules=ext_modules)
