"""fastfun-gate: an exact performance gate for any Python project's benchmark suite.

Two revisions of a project are each built into a wheel and a venv of their own, their
pytest-benchmark or pytest-codspeed benchmarks counted under callgrind (instructions per
measured call), and the head judged against the base: exit 0 pass, 1 regression, 2 undecided.
"""

__version__ = "0.1.0"
