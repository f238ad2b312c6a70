"""Benchmarks measure the installed package, with the compiled core required."""

import os

os.environ.setdefault("FASTFUN_REQUIRE_EXTENSIONS", "1")
