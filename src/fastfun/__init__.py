"""fastfun: the daily fun notification of the talk "Run Fast!", made fast.

The functions come from the compiled core ``fastfun._core`` when it is available, from
its pure-Python twin ``fastfun._core_py`` otherwise; ``IMPLEMENTATION`` says which.

- ``FASTFUN_NO_EXTENSIONS`` (non-empty) selects the pure twin, and so does any Python
  other than CPython.
- ``FASTFUN_REQUIRE_EXTENSIONS`` (non-empty) turns a missing compiled core into an
  ImportError instead of a silent, slower fallback. ``FASTFUN_NO_EXTENSIONS`` wins over it.
"""

from __future__ import annotations

import os
import sys

# typing costs ~7 ms to import and is only needed by type checkers here, which read this
# name as true whatever its value.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Literal

__all__ = [
    "IMPLEMENTATION",
    "Notification",
    "__version__",
    "fibonacci",
    "fizz",
    "fizzbuzz",
    "fun_notification",
    "fun_notifications",
    "month",
]

__version__ = "0.1.0"

#: What a day can bring: F(n), "Fizz", "Buzz", "FizzBuzz", or nothing.
Notification = int | str | None

#: ``"compiled"`` or ``"pure"``: which core is running.
IMPLEMENTATION: Literal["compiled", "pure"]


def _select() -> tuple[ModuleType, Literal["compiled", "pure"]]:
    """The core to run, and its name (see the module's docstring)."""
    if os.environ.get("FASTFUN_NO_EXTENSIONS") or sys.implementation.name != "cpython":
        from . import _core_py

        return _core_py, "pure"
    try:
        from . import _core
    except ImportError as error:
        if os.environ.get("FASTFUN_REQUIRE_EXTENSIONS"):
            raise ImportError(
                "fastfun's compiled core (fastfun._core) could not be imported and "
                "FASTFUN_REQUIRE_EXTENSIONS is set; install a wheel built with the "
                f"extension, or unset the variable to allow the pure twin: {error}"
            ) from error
        from . import _core_py

        return _core_py, "pure"
    return _core, "compiled"


if TYPE_CHECKING:  # both cores have the twin's signatures (tests/test_selection.py)
    from ._core_py import fibonacci, fizz, fizzbuzz, fun_notification, fun_notifications, month
else:
    _selected, IMPLEMENTATION = _select()
    globals().update({name: getattr(_selected, name) for name in __all__ if name[0].islower()})
