"""The gate's build cache: at most ``bound`` builds, shared safely by gates running at once.

Layout of the cache folder::

    <key>/              one build (a venv and the tree it was built from); ``ok`` once complete
    .locks/<key>        held shared by every process using the build, for as long as it uses it
    .locks/<key>.build  held exclusively while the build is made, so it is made once
    .lock               held briefly to look at, reserve or prune builds

Locks are ``flock`` locks on files, so they hold between processes (and between threads, each
opening its own descriptor) and vanish with a process that dies. A build is pruned only when
no process holds it, least recently used first, so the folder never holds more than ``bound``
builds; a gate that finds every build in use waits for one to be released.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

# Two gates at once, each holding its base and its head, fit with room for a third build.
DEFAULT_BOUND = 6
BOUND_VARIABLE = "FASTFUN_GATE_CACHE_BUILDS"
FOLDER_VARIABLE = "FASTFUN_GATE_CACHE"
WAIT = 1800.0  # seconds to wait for a build to be released when every one is in use


def folder_from_env() -> Path:
    """``FASTFUN_GATE_CACHE``, made absolute against the working directory (builds are venvs,
    whose paths must hold from any directory), or ``fastfun-gate`` in the temporary folder."""
    named = os.environ.get(FOLDER_VARIABLE)
    return Path(named).resolve() if named else Path(tempfile.gettempdir()) / "fastfun-gate"


def bound_from_env() -> int:
    text = os.environ.get(BOUND_VARIABLE, "")
    if not text:
        return DEFAULT_BOUND
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{BOUND_VARIABLE}={text!r}: expected a whole number of builds, at least 1")
    return int(text)


@dataclass
class Lease:
    """A build held for use: it cannot be pruned until released (or the process ends)."""

    home: Path
    _fd: int

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the descriptor drops its lock
            self._fd = -1


@contextlib.contextmanager
def _held(path: Path, mode: int) -> Iterator[int]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, mode)
        yield fd
    finally:
        os.close(fd)


def builds_in(cache: Path) -> list[Path]:
    return [p for p in cache.iterdir() if p.is_dir() and not p.name.startswith(".")]


def _last_used(home: Path) -> float:
    stamp = home / "used"
    return (stamp if stamp.exists() else home).stat().st_mtime


def _prune(cache: Path, keep: int, locks: Path) -> int:
    """Removes builds nobody holds, least recently used first, until at most ``keep`` remain;
    returns how many remain. The caller holds the cache's lock."""
    homes = sorted(builds_in(cache), key=_last_used)
    remaining = len(homes)
    for home in homes:
        if remaining <= keep:
            break
        lock = locks / home.name
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue  # in use
        try:
            shutil.rmtree(home)
            (locks / f"{home.name}.build").unlink(missing_ok=True)
            lock.unlink()
            remaining -= 1
        finally:
            os.close(fd)
    return remaining


def _empty(home: Path, keep: tuple[str, ...] = ("used",)) -> None:
    for stale in home.iterdir():
        if stale.name not in keep:
            shutil.rmtree(stale) if stale.is_dir() and not stale.is_symlink() else stale.unlink()


def acquire(
    cache: Path,
    key: str,
    make: Callable[[Path], None],
    *,
    bound: int,
    wait: float = WAIT,
    say: Callable[[str], None] = lambda _: None,
) -> tuple[Lease, bool]:
    """The build ``key``, made by ``make(home)`` unless a complete one is there; held until the
    lease is released. Returns the lease and whether it was made now. A build is complete when
    ``make`` returns; one that raised is made again by the next caller. Raises TimeoutError
    when every build stays in use for ``wait`` seconds."""
    locks = cache / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    home = cache / key
    deadline = time.monotonic() + wait
    told = False
    while True:
        with _held(cache / ".lock", fcntl.LOCK_EX):
            room = home.exists() or _prune(cache, bound - 1, locks) < bound
            if room:
                # Taken under the cache's lock, which every pruner holds: once held, no
                # pruner can remove the build, and no pruner holds it now (they hold it only
                # under that same lock).
                fd = os.open(locks / key, os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(fd, fcntl.LOCK_SH)
                home.mkdir(exist_ok=True)
                (home / "used").touch()
                break
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"the gate's cache {cache} holds {bound} builds, every one in use by another gate "
                f"for {wait:.0f} s ({BOUND_VARIABLE} raises the bound)"
            )
        if not told:
            say(f"the cache holds {bound} builds, every one in use: waiting for one to be released")
            told = True
        time.sleep(1.0)
    lease = Lease(home, fd)
    try:
        with _held(locks / f"{key}.build", fcntl.LOCK_EX):
            if (home / "ok").exists():
                return lease, False
            _empty(home)  # what a build that failed or was interrupted left
            try:
                make(home)
            except BaseException:
                # A failed build keeps no room in the cache: emptied but for its log (which
                # the error names) and marked least recently used, it is pruned first, before
                # a good build.
                _empty(home, keep=("used", "build.log"))
                os.utime(home / "used", (0, 0))
                raise
            (home / "ok").touch()
            return lease, True
    except BaseException:
        lease.release()
        raise
