# mypy: allow-untyped-defs, allow-untyped-calls
# (It runs inside the measured venv, on any Python from 3.8.)
"""How the measured interpreter starts: ``python -S -m _fastfun_gate_boot ARGS`` is
``python -m pytest ARGS`` (the same ``sys.path``, ``sys.argv`` and ``__main__``; only
``sys.flags.no_site`` tells them apart), with every folder listed in sorted order until a
benchmark's child starts (``restore``). Standard library only.

Why: a folder's listing allocates one string per entry in the order the filesystem gives
them (ext4: a hash of each name), and where each one lands, and the order its block is freed
back in, decide every address after it. A version taken from the VCS
names the project's dist-info folder anew at each commit (``attrs-26.1.1.dev70.dist-info`` on
one side of an A/A, ``dev71`` on the other), so it moves in the listing of site-packages,
which ``site`` reads at start-up, the import system at the first import from it and pytest
before it loads its plugins. The counts moved with the addresses: CPython's type cache is
indexed by the address of an attribute's name, and its misses in attrs's class creation
differed by 0.1%. Sorted, a listing depends on the names alone. ``-S`` because ``site`` lists
site-packages before any other code runs; ``site.main()`` then does what it would have done.
"""

import os
import posix
import runpy
import site

_listdir = posix.listdir


def _sorted_listdir(path=None):
    # The listing's own strings come in the filesystem's order. Copies are made in sorted
    # order, then the originals are freed in reverse of their own order, which gives every
    # block back to its free list where it was taken: what remains depends on the names.
    listed = _listdir(path)
    return [_copy(name) for name in sorted(listed)]


def _copy(name):
    return (name + ("/" if isinstance(name, str) else b"/"))[:-1]


def restore():
    """The filesystem's order again, for the measured calls: what a benchmark lists costs what
    it costs outside the gate. The plugin calls it in each benchmark's child, through
    ``os.listdir.fastfun_gate_restore`` (run as ``__main__``, this module has no name to import)."""
    posix.listdir = os.listdir = _listdir


_sorted_listdir.fastfun_gate_restore = restore  # type: ignore[attr-defined]
posix.listdir = os.listdir = _sorted_listdir
site.main()
runpy.run_module("pytest", run_name="__main__", alter_sys=True)
