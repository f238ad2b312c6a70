"""Declares fastfun's one compiled extension; all metadata lives in pyproject.toml.

A compile error fails the build. Only FASTFUN_NO_EXTENSIONS=1 at build time leaves the
extension out, on purpose, for a pure ``py3-none-any`` wheel.
"""

import os
import sys

from setuptools import Extension, setup

if os.environ.get("FASTFUN_NO_EXTENSIONS"):
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
