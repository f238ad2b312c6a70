"""Started by tests/test_bignum.py: F(10**9) with CPython ints, until the test's Ctrl-C.

python interrupt_fibonacci.py MODULE     # fastfun._core or fastfun._core_py
"""

import importlib
import sys

import fastfun._core_py as twin  # both cores compute large F(n) with the twin's code

core = importlib.import_module(sys.argv[1])
twin._gmp_fib = None
print("started", flush=True)
try:
    core.fibonacci(10**9)
except KeyboardInterrupt:
    print("interrupted", flush=True)
