"""Started by tests/test_free_threading.py: is the GIL still off after fastfun ran?

python -I -W error::RuntimeWarning gil_after_calls.py MODULE

Imports the selector and one core, calls every function, the lazy paths included (the
compiled core's import of the twin above the table, the twin's lookup of gmpy2 at
F(_GMP_IMPORT_MIN)), then prints ``sys._is_gil_enabled()``. A free-threaded CPython turns
the GIL back on, with a RuntimeWarning, when it imports an extension not marked as
supporting free-threading; -W error makes that warning fail the import instead.
"""

import importlib
import sys

import fastfun
import fastfun._core_py as twin

core = importlib.import_module(sys.argv[1])
core.fibonacci(90)
core.fibonacci(300)
core.fibonacci(twin._GMP_IMPORT_MIN)
core.fizz(9)
core.fizzbuzz(15)
core.fun_notification(28)
core.fun_notifications(range(1, 200))
core.month(2024, 2)
fastfun.fun_notifications([1, 2, 7])
print("gmpy2" if twin._gmp() is not None else "no gmpy2", flush=True)
print(sys.version_info < (3, 13) or sys._is_gil_enabled(), flush=True)
