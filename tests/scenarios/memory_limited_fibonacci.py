"""Started by tests/test_hardening.py: F(10**9) under an address-space limit it cannot fit.

python memory_limited_fibonacci.py MODULE int|gmp
"""

import importlib
import resource
import sys

import fastfun._core_py as twin  # both cores compute large F(n) with the twin's code

core = importlib.import_module(sys.argv[1])
twin._gmp_fib = None if sys.argv[2] == "int" else twin._gmp()
# 8 MiB more address space than the interpreter has now: F(10**9) (86 MB) cannot fit, and the
# limit is reached within about a second instead of after most of the computation.
with open("/proc/self/status") as status:
    size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
soft = size + 8 * 2**20
resource.setrlimit(resource.RLIMIT_AS, (soft, soft))
print("limited", flush=True)
try:
    core.fibonacci(10**9)
except MemoryError:
    print("MemoryError", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
